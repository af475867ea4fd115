"""The DfE attendance codes, with each code's meaning and statistical category.

Two code sets apply: the School Attendance (Pupil Registration) (England)
Regulations 2024 set, in force from 19 August 2024, and the 2006 set used
until 18 August 2024. A mark keeps the code and category of its own date,
so a pre-2024 J still counts as an approved educational activity while a
J1 counts as authorised absence.

Categories were checked against the DfE's published attendance dataset:
possible sessions = present (/, \\, L) + approved educational activity +
authorised + unauthorised; the remaining codes are not counted.
"""

import datetime
from dataclasses import dataclass
from enum import StrEnum

CODES_2024_FROM = datetime.date(2024, 8, 19)
LAST_DAY_OF_2006_CODES = datetime.date(2024, 8, 18)


class Category(StrEnum):
    PRESENT = "present"
    APPROVED_ACTIVITY = "aea"
    AUTHORISED = "authorised"
    UNAUTHORISED = "unauthorised"
    NOT_COUNTED = "not_counted"


CATEGORY_LABELS = {
    Category.PRESENT: "Present",
    Category.APPROVED_ACTIVITY: "Approved educational activity",
    Category.AUTHORISED: "Authorised absence",
    Category.UNAUTHORISED: "Unauthorised absence",
    Category.NOT_COUNTED: "Not counted",
}


@dataclass(frozen=True)
class AttendanceCode:
    code: str
    meaning: str
    category: Category
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None

    @property
    def is_possible_session(self) -> bool:
        return self.category != Category.NOT_COUNTED

    @property
    def is_late(self) -> bool:
        """L (late before registers closed) and U (after): the DfE's late sessions."""
        return self.code in {"L", "U"}

    def applies_on(self, day: datetime.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


P = Category.PRESENT
A = Category.APPROVED_ACTIVITY
AUTH = Category.AUTHORISED
UNAUTH = Category.UNAUTHORISED
NC = Category.NOT_COUNTED
NEW = CODES_2024_FROM
OLD = LAST_DAY_OF_2006_CODES

# Codes with no dates are the same in both sets.
CODES: tuple[AttendanceCode, ...] = (
    AttendanceCode("/", "Present at morning registration", P),
    AttendanceCode("\\", "Present at afternoon registration", P),
    AttendanceCode("L", "Late, arrived before the register closed", P),
    AttendanceCode("K", "Attending education provision arranged by the local authority", A, NEW),
    AttendanceCode("V", "Educational visit or trip", A),
    AttendanceCode("P", "Approved sporting activity", A),
    AttendanceCode("W", "Work experience", A),
    AttendanceCode("B", "Other approved educational activity, off site and supervised", A),
    AttendanceCode("D", "Dual registered, attending another school", NC),
    AttendanceCode("C1", "Leave for a regulated performance or employment abroad", AUTH, NEW),
    AttendanceCode("M", "Medical or dental appointment", AUTH),
    AttendanceCode("J1", "Interview for employment or another educational institution", AUTH, NEW),
    AttendanceCode("S", "Study leave", AUTH),
    AttendanceCode("X", "Non-compulsory school age, not required to attend", NC),
    AttendanceCode("C2", "Agreed part-time timetable", AUTH, NEW),
    AttendanceCode("C", "Leave of absence in exceptional circumstances", AUTH),
    AttendanceCode("T", "Parent travelling for occupational purposes", AUTH),
    AttendanceCode("R", "Religious observance", AUTH),
    AttendanceCode("I", "Illness (not medical or dental appointments)", AUTH),
    AttendanceCode("E", "Suspended or permanently excluded, no alternative provision", AUTH),
    AttendanceCode("Q", "Unable to attend: local authority access arrangements", NC, NEW),
    AttendanceCode("Y1", "Unable to attend: transport normally provided not available", NC, NEW),
    AttendanceCode("Y2", "Unable to attend: widespread travel disruption", NC, NEW),
    AttendanceCode("Y3", "Unable to attend: part of the premises out of use", NC, NEW),
    AttendanceCode("Y4", "Unable to attend: whole site unexpectedly closed", NC, NEW),
    AttendanceCode("Y5", "Unable to attend: in criminal justice detention", NC, NEW),
    AttendanceCode("Y6", "Unable to attend: public health guidance or law", NC, NEW),
    AttendanceCode("Y7", "Unable to attend: any other unavoidable cause", NC, NEW),
    AttendanceCode("G", "Holiday not granted by the school", UNAUTH),
    AttendanceCode("N", "Reason for absence not yet provided", UNAUTH),
    AttendanceCode("O", "Absent in other or unknown circumstances", UNAUTH),
    AttendanceCode("U", "Arrived after the register closed", UNAUTH),
    AttendanceCode("Z", "Prospective pupil not on the admission register", NC),
    AttendanceCode("#", "Planned whole or partial school closure", NC),
    # Retired in August 2024.
    AttendanceCode("J", "Interview (before August 2024)", A, None, OLD),
    AttendanceCode("H", "Authorised family holiday (before August 2024)", AUTH, None, OLD),
    AttendanceCode("F", "Agreed extended family holiday (before August 2024)", AUTH, None, OLD),
    AttendanceCode("Y", "Unable to attend, exceptional circumstances (before 2024)", NC, None, OLD),
)

# The replacement of each retired code, named in the message that rejects it.
REPLACEMENTS = {"J": "J1", "H": "C", "F": "C", "Y": "Y1 to Y7"}
PRESENT_CODES = {"/", "\\"}


def definitions(code: str) -> list[AttendanceCode]:
    return [c for c in CODES if c.code == code]


def code_on(code: str, day: datetime.date) -> AttendanceCode | None:
    """Return the definition of `code` that applies on `day`, or None."""
    for definition in CODES:
        if definition.code == code and definition.applies_on(day):
            return definition
    return None


def codes_in_force(day: datetime.date) -> list[AttendanceCode]:
    return [c for c in CODES if c.applies_on(day)]


def normalise_code(text: str) -> str:
    """Return a typed code in its canonical form: upper case, trimmed."""
    return text.strip().upper()


def code_error(code: str, day: datetime.date) -> str | None:
    """Return why `code` cannot be entered for `day`, or None when it can."""
    known = definitions(code)
    shown = f"{day:%d/%m/%Y}"
    if not known:
        allowed = " ".join(c.code for c in codes_in_force(day))
        return f"Code {code!r} is not an attendance code. Allowed on {shown}: {allowed}"
    if code_on(code, day):
        return None
    if code in REPLACEMENTS:
        return (
            f"Code {code!r} was retired on 18/08/2024 and cannot be entered for {shown}; "
            f"use {REPLACEMENTS[code]}."
        )
    return f"Code {code!r} came into use on 19/08/2024 and cannot be entered for {shown}."
