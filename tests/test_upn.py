import pytest
from hypothesis import given
from hypothesis import strategies as st

from pupils.upn import check_letter, is_temporary, upn_error


def test_upn_worked_example_valid():
    assert upn_error("B801200005001") is None


def test_upn_wrong_check_letter_rejected():
    error = upn_error("A801200005001")
    assert error is not None
    assert "'B'" in error


def test_temporary_upn_check_letter():
    assert check_letter("80120000500A") == "M"
    assert upn_error("M80120000500A") is None
    assert is_temporary("M80120000500A")


@pytest.mark.parametrize(
    ("upn", "fragment"),
    [
        ("B80120000500", "12 characters"),
        ("B8012000050011", "14 characters"),
        ("880120000500A", "not a letter"),
        ("B80120000X001", "not a letter"),
        ("?80120000500I", "not a letter"),
    ],
)
def test_upn_malformed_rejected(upn, fragment):
    error = upn_error(upn)
    assert error is not None
    assert fragment in error


@pytest.mark.parametrize("last", ["I", "O", "S"])
def test_temporary_upn_never_ends_in_i_o_s(last):
    body = "8012000050" + "0" + last
    error = upn_error("A" + body)
    assert error is not None
    assert "never ends in I, O or S" in error


digits = st.text(alphabet="0123456789", min_size=11, max_size=11)


@given(body=digits, last=st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUVWXYZ"))
def test_generated_upn_always_valid(body, last):
    upn = check_letter(body + last) + body + last
    assert upn_error(upn) is None


@given(body=digits, position=st.integers(min_value=1, max_value=11), delta=st.integers(1, 9))
def test_single_digit_change_detected(body, position, delta):
    upn = check_letter(body + "0") + body + "0"
    changed_digit = str((int(upn[position]) + delta) % 10)
    changed = upn[:position] + changed_digit + upn[position + 1 :]
    # Weights 2 to 13 are all below 23, a prime, so changing one digit
    # always changes the sum modulo 23 and so the check letter.
    assert upn_error(changed) is not None
