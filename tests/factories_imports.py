"""Helpers for the pupil and staff import tests: a trust set up for the 2026/27
year, users with the roles that may import, and files built in memory."""

import csv
import datetime
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook

from academies.models import AcademicYear, Academy, Trust, TutorGroup, YearGroup
from pupils.upn import check_letter
from staff.models import Role

from .factories import (
    AcademicYearFactory,
    AcademyFactory,
    StaffFactory,
    TrustFactory,
    UserFactory,
    grant,
)

# Mid-October 2026, a date with a whole term before and after it.
IMPORT_DAY = datetime.date(2026, 10, 12)
IMPORT_MOMENT = datetime.datetime(2026, 10, 12, 10, 0, tzinfo=datetime.UTC)


def upn(serial: int, la: str = "916", estab: str = "4001", year: str = "15") -> str:
    """Return a valid UPN whose last three digits are `serial` (0 to 999)."""
    body = f"{la}{estab}{year}{serial % 1000:03d}"
    return check_letter(body) + body


def upn_for(index: int) -> str:
    """Return a distinct valid UPN for any index below 100,000."""
    return upn(index % 1000, year=f"{index // 1000:02d}")


def secondary(trust: Trust | None = None, **fields: object) -> Academy:
    """Return an 11 to 18 academy with Years 7 to 11 and the 2026/27 academic year."""
    trust = trust or TrustFactory()
    academy = AcademyFactory(trust=trust, **fields)
    AcademicYearFactory(trust=trust, start_year=2026)
    for nc_year in range(7, 12):
        YearGroup.objects.create(academy=academy, nc_year=nc_year)
    return academy


def tutor_group(academy: Academy, name: str, nc_year: int) -> TutorGroup:
    return TutorGroup.objects.create(
        academy=academy,
        academic_year=AcademicYear.objects.get(trust=academy.trust, start_year=2026),
        year_group=YearGroup.objects.get(academy=academy, nc_year=nc_year),
        name=name,
    )


def user_with_role(role: str, target: object = None, username: str | None = None):
    """Return a user whose staff record has `role` over `target` (None: the trust)."""
    user = UserFactory(**({"username": username} if username else {}))
    academy = target if isinstance(target, Academy) else getattr(target, "academy", None)
    staff = StaffFactory(user=user, academy=academy)
    grant(staff, Role(role), target)
    return user


def trust_admin(academy: Academy):
    user = user_with_role(Role.TRUST_ADMIN, None)
    user.staff_member.academy = academy
    user.staff_member.save()
    return user


def csv_bytes(
    rows: Iterable[Sequence[object]], *, encoding: str = "utf-8", delimiter: str = ","
) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Iterable[Sequence[object]], date_columns: Iterable[int] = ()) -> bytes:
    """Build a one-sheet workbook; cells in `date_columns` (0-based) get a date format."""
    workbook = Workbook()
    sheet = workbook.active
    date_columns = set(date_columns)
    for row in rows:
        sheet.append(list(row))
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if cell.column - 1 in date_columns and isinstance(cell.value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


PUPIL_HEADER = [
    "UPN",
    "Legal Surname",
    "Legal Forename",
    "Preferred Forename",
    "Date of Birth",
    "Sex",
    "Year",
    "Reg Group",
    "SEN Status",
    "FSM",
    "EAL",
    "Looked After",
    "Service Child",
]


def pupil_row(
    index: int,
    *,
    surname: str = "",
    forename: str = "",
    preferred: str = "",
    dob: str = "01/10/2012",
    sex: str = "F",
    year: str = "9",
    group: str = "9A",
    sen: str = "N",
    fsm: str = "No",
    eal: str = "No",
    looked_after: str = "",
    service: str = "",
    upn_text: str | None = None,
) -> list[str]:
    return [
        upn_text if upn_text is not None else upn_for(index),
        surname or f"Surname{index}",
        forename or f"Forename{index}",
        preferred,
        dob,
        sex,
        year,
        group,
        sen,
        fsm,
        eal,
        looked_after,
        service,
    ]
