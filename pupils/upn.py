"""The DfE Unique Pupil Number: 13 characters with a check letter first.

Positions 2 to 13 are weighted 2 to 13, summed, and the sum mod 23 picks
the check letter from CHECK_LETTERS. A temporary UPN ends in a letter,
which counts as its index in the same table. I, O and S are never used.
Source: the DfE UPN data standard (GovTalk "Unique Pupil Number 2.0").
"""

import re

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_SHAPE = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")


def check_letter(body: str) -> str:
    """Return the check letter for the 12 characters after it."""
    total = 0
    for weight, char in enumerate(body, start=2):
        value = CHECK_LETTERS.index(char) if char.isalpha() else int(char)
        total += weight * value
    return CHECK_LETTERS[total % 23]


def upn_error(upn: str) -> str | None:
    """Return why `upn` is not a valid UPN, or None when it is valid."""
    if len(upn) != 13:
        return f"UPN {upn!r} has {len(upn)} characters; a UPN has 13."
    if not _SHAPE.match(upn):
        return (
            f"UPN {upn!r} is not a letter, 11 digits and a final digit or letter (temporary UPN)."
        )
    last = upn[-1]
    if last.isalpha() and last not in CHECK_LETTERS:
        return f"UPN {upn!r} ends in {last!r}; a temporary UPN never ends in I, O or S."
    expected = check_letter(upn[1:])
    if upn[0] != expected:
        return f"UPN {upn!r} has check letter {upn[0]!r}; the digits give {expected!r}."
    return None


def is_temporary(upn: str) -> bool:
    return upn[-1:].isalpha()


def normalise_upn(text: str) -> str:
    return text.strip().upper().replace(" ", "")
