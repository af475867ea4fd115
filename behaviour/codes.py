"""The DfE's suspension and permanent exclusion reason codes.

The current set has applied since 1 September 2020. OT (Other) belongs to
the set before it and is kept so that older records still read; it cannot
be chosen for a new suspension.
"""

import datetime

REASONS: dict[str, str] = {
    "PP": "Physical assault against a pupil",
    "PA": "Physical assault against an adult",
    "VP": "Verbal abuse or threatening behaviour against a pupil",
    "VA": "Verbal abuse or threatening behaviour against an adult",
    "OW": "Use or threat of use of an offensive weapon or prohibited item",
    "BU": "Bullying",
    "RA": "Racist abuse",
    "LG": "Abuse against sexual orientation and gender identity",
    "DS": "Abuse relating to disability",
    "SM": "Sexual misconduct",
    "DA": "Drug and alcohol related",
    "DM": "Damage to property",
    "TH": "Theft",
    "MT": "Inappropriate use of social media or online technology",
    "PH": (
        "Wilful and repeated transgression of protective measures in place to protect public health"
    ),
    "DB": "Persistent or general disruptive behaviour",
}
RETIRED_REASONS: dict[str, str] = {"OT": "Other"}
CURRENT_SET_FROM = datetime.date(2020, 9, 1)
# Codes added in 2020; before then they did not exist.
ADDED_IN_2020 = {"OW", "LG", "DS", "MT", "PH"}
REASON_CHOICES = [(code, f"{code}: {label}") for code, label in REASONS.items()]
MAX_REASONS = 3


def reason_label(code: str) -> str:
    return REASONS.get(code) or RETIRED_REASONS.get(code) or code


def reason_error(code: str, day: datetime.date) -> str | None:
    """Return why `code` cannot be given for a suspension starting on `day`."""
    allowed = ", ".join(REASONS)
    if code in RETIRED_REASONS:
        if day < CURRENT_SET_FROM:
            return None
        return (
            f"Reason {code} ({RETIRED_REASONS[code]}) was withdrawn on 01/09/2020; "
            f"choose one of {allowed}."
        )
    if code not in REASONS:
        return f"Reason {code!r} is not a DfE reason code; choose one of {allowed}."
    if day < CURRENT_SET_FROM and code in ADDED_IN_2020:
        return f"Reason {code} applies from 01/09/2020; {day:%d/%m/%Y} is before it."
    return None
