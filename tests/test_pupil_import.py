"""Pupil import: reading MIS files, the preview, applying, the page flow and the command."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from academies.models import TutorGroup, YearGroup
from pupils.imports import build_plan, nc_year_by_age
from pupils.models import Enrolment, FsmPeriod, Pupil, PupilReview
from pupils.services import ImportInvalid, pupil_import_apply, resolve_pupil_review
from staff.models import Role
from trust.models import AuditEvent

from .factories import EnrolmentFactory, PupilFactory
from .factories_imports import (
    IMPORT_DAY,
    IMPORT_MOMENT,
    PUPIL_HEADER,
    csv_bytes,
    pupil_row,
    secondary,
    trust_admin,
    tutor_group,
    upn_for,
    user_with_role,
    xlsx_bytes,
)

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(IMPORT_MOMENT, tick=False):
        yield


@pytest.fixture(autouse=True)
def upload_storage(settings, tmp_path):
    # Uploads waiting for confirmation go to a scratch folder, not var/media.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def academy():
    return secondary(name="Oak Academy", urn="140101")


@pytest.fixture
def admin_user(academy):
    return trust_admin(academy)


def plan_for(academy, content, filename="pupils.csv"):
    return build_plan(academy=academy, content=content, filename=filename, import_date=IMPORT_DAY)


def apply(academy, content, user=None, filename="pupils.csv"):
    return pupil_import_apply(
        academy=academy, content=content, filename=filename, user=user, import_date=IMPORT_DAY
    )


def errors_by_line(plan):
    found: dict[int, list[tuple[str, str]]] = {}
    for error in plan.errors:
        found.setdefault(error.line, []).append((error.column, error.reason))
    return found


# A valid file ------------------------------------------------------------------


def test_valid_file_creates_pupils_and_enrolments(academy, admin_user):
    content = csv_bytes(
        [
            PUPIL_HEADER,
            pupil_row(1, surname="Okafor", forename="Ada", group="9A", fsm="Yes", sen="K"),
            pupil_row(2, surname="Ní Bhriain", forename="Zoë", preferred="Zo", group="9B"),
            pupil_row(3, dob="15/03/2014", year="7", group="7C", eal="Y"),
        ]
    )

    plan = plan_for(academy, content)
    assert plan.is_valid, plan.errors
    assert len(plan.new_rows) == 3
    assert plan.new_tutor_group_list == [("7C", "Year 7"), ("9A", "Year 9"), ("9B", "Year 9")]
    assert Pupil.objects.count() == 0

    result = apply(academy, content, admin_user)

    assert result.created == 3
    assert Pupil.objects.count() == 3
    ada = Pupil.objects.get(upn=upn_for(1))
    assert ada.legal_surname == "Okafor"
    assert ada.sen_status == "K"
    assert ada.search_name == "ada okafor"
    assert list(ada.fsm_periods.values_list("start_date", "end_date")) == [(IMPORT_DAY, None)]
    enrolment = ada.enrolments.get()
    assert enrolment.academy == academy
    assert enrolment.year_group.nc_year == 9
    assert enrolment.tutor_group.name == "9A"
    assert enrolment.start_date == IMPORT_DAY
    zoe = Pupil.objects.get(upn=upn_for(2))
    assert zoe.legal_forename == "Zoë"
    assert zoe.preferred_forename == "Zo"
    assert Pupil.objects.get(upn=upn_for(3)).eal is True
    assert TutorGroup.objects.filter(academy=academy).count() == 3


def test_import_audits_every_pupil_with_actor(academy, admin_user):
    content = csv_bytes([PUPIL_HEADER, pupil_row(1), pupil_row(2)])

    apply(academy, content, admin_user)

    events = AuditEvent.objects.filter(model="pupils.Pupil", action="create")
    assert events.count() == 2
    assert {e.actor_id for e in events} == {admin_user.pk}
    assert all(e.reason.startswith("Pupil import") for e in events)
    assert AuditEvent.objects.filter(model="pupils.Enrolment", action="create").count() == 2


# Every kind of bad row -----------------------------------------------------------


def test_every_bad_row_reported_nothing_written(academy, admin_user):
    good = upn_for(5)
    bad_check_letter = ("B" if good[0] == "A" else "A") + good[1:]
    content = csv_bytes(
        [
            PUPIL_HEADER,
            pupil_row(1),
            pupil_row(2, upn_text=bad_check_letter),
            pupil_row(3, dob="31/02/2013"),
            pupil_row(4, year="Year 4", dob="01/10/2017"),
            pupil_row(6, upn_text=upn_for(20)),
            pupil_row(7, upn_text=upn_for(20)),
            pupil_row(8, fsm="Not Eligibile"),
            pupil_row(9, sen="SEN Suport"),
            pupil_row(10, sex="X"),
            pupil_row(11, year="Yr 14"),
            pupil_row(12, upn_text="9.91214E+15"),
            pupil_row(13, surname=" "),
        ]
    )

    plan = plan_for(academy, content)
    found = errors_by_line(plan)

    assert not plan.is_valid
    assert sorted(found) == list(range(3, 14))
    assert found[3][0][0] == "UPN"
    assert f"check letter {bad_check_letter[0]!r}" in found[3][0][1]
    assert found[4] == [("Date of Birth", "'31/02/2013' is not a real date (31/02/2013).")]
    assert found[5][0][0] == "Year"
    assert "Year 4 is not a year group of Oak Academy" in found[5][0][1]
    assert "appears more than once" in found[6][0][1]
    assert "also on line 7" in found[6][0][1]
    assert "also on line 6" in found[7][0][1]
    assert found[8][0][0] == "FSM"
    assert "'Not Eligibile' is not an allowed value" in found[8][0][1]
    assert "Not eligible" in found[8][0][1]
    assert found[9][0][0] == "SEN Status"
    assert "K (SEN support)" in found[9][0][1]
    assert found[10][0][0] == "Sex"
    assert found[11][0][0] == "Year"
    assert "Not a year group" in found[11][0][1]
    assert found[12][0][0] == "UPN"
    assert "looks like scientific notation" in found[12][0][1]
    assert found[13][0][0] == "Legal Surname"
    assert len(plan.new_rows) == 1

    with pytest.raises(ImportInvalid):
        apply(academy, content, admin_user)
    assert Pupil.objects.count() == 0
    assert TutorGroup.objects.count() == 0
    assert not AuditEvent.objects.filter(model__startswith="pupils.").exists()


def test_unknown_year_within_age_range_is_created(academy, admin_user):
    content = csv_bytes([PUPIL_HEADER, pupil_row(1, year="12", group="12X", dob="10/01/2009")])

    plan = plan_for(academy, content)
    assert plan.is_valid, plan.errors
    assert plan.new_year_group_names == ["Year 12"]

    apply(academy, content, admin_user)

    assert YearGroup.objects.filter(academy=academy, nc_year=12).exists()


def test_tutor_group_in_other_year_rejected(academy):
    tutor_group(academy, "9A", 9)
    content = csv_bytes([PUPIL_HEADER, pupil_row(1, year="8", group="9A")])

    found = errors_by_line(plan_for(academy, content))

    assert found[2] == [("Reg Group", "Tutor group 9A is in Year 9, but the row gives Year 8.")]


def test_future_birth_date_rejected(academy):
    content = csv_bytes([PUPIL_HEADER, pupil_row(1, dob="2026-12-01")])

    found = errors_by_line(plan_for(academy, content))

    assert found[2][0][0] == "Date of Birth"
    assert "Check the day and month order" in found[2][0][1]


# Encodings, delimiters and XLSX ------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16", b""),
        ("cp1252", b""),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "windows-1252"],
)
def test_encodings_read_names(academy, encoding, prefix):
    content = prefix + csv_bytes(
        [
            PUPIL_HEADER,
            pupil_row(1, forename="Zoë", surname="O’Brien" if encoding != "cp1252" else "Brontë"),
        ],
        encoding=encoding,
    )

    plan = plan_for(academy, content)

    assert plan.is_valid, plan.errors
    assert plan.new_rows[0].values["legal_forename"] == "Zoë"
    if encoding == "utf-16":
        assert content.startswith((b"\xff\xfe", b"\xfe\xff"))
        assert "UTF-16" in plan.description
    if encoding == "cp1252":
        assert "Windows-1252" in plan.description
        assert plan.new_rows[0].values["legal_surname"] == "Brontë"


@pytest.mark.parametrize(
    ("delimiter", "encoding", "name"),
    [(";", "utf-8", "semicolon"), ("\t", "utf-16", "tab")],
    ids=["semicolon", "excel-unicode-text"],
)
def test_other_delimiters_read(academy, delimiter, encoding, name):
    content = csv_bytes(
        [PUPIL_HEADER, pupil_row(1), pupil_row(2)], delimiter=delimiter, encoding=encoding
    )

    plan = plan_for(academy, content)

    assert plan.is_valid, plan.errors
    assert len(plan.new_rows) == 2
    assert f"{name}-separated" in plan.description


def test_xlsx_with_date_cells_and_serial(academy, admin_user):
    rows = [
        ["UPN", "Surname", "Forename", "DOB", "Year", "Tutor Group"],
        [upn_for(1), "Okafor", "Ada", datetime.date(2012, 10, 1), 9, "9A"],
        [upn_for(2), "Smith", "Ben", 41732, "Year 7", "0042"],
    ]
    content = xlsx_bytes(rows, date_columns=[3])

    plan = plan_for(academy, content, filename="export.xlsx")
    assert plan.is_valid, plan.errors
    result = apply(academy, content, admin_user, filename="export.xlsx")

    assert result.created == 2
    assert Pupil.objects.get(upn=upn_for(1)).date_of_birth == datetime.date(2012, 10, 1)
    assert Pupil.objects.get(upn=upn_for(2)).date_of_birth == datetime.date(2014, 4, 3)
    ben = Enrolment.objects.get(pupil__upn=upn_for(2))
    assert ben.tutor_group.name == "0042"
    assert ben.year_group.nc_year == 7


def test_xlsx_scientific_number_in_upn(academy):
    rows = [["UPN", "Surname", "Forename", "DOB"], [9.91214e15, "Okafor", "Ada", "01/10/2012"]]

    plan = plan_for(academy, xlsx_bytes(rows), filename="export.xlsx")

    assert "looks like scientific notation" in plan.errors[0].reason
    assert plan.errors[0].line == 2


def test_csv_serial_number_date_explained(academy):
    content = csv_bytes([["UPN", "Surname", "Forename", "DOB"], [upn_for(1), "A", "B", "41732"]])

    plan = plan_for(academy, content)

    assert "spreadsheet date serial number" in plan.errors[0].reason


def test_not_a_spreadsheet_rejected(academy):
    plan = plan_for(academy, b"PK\x03\x04 not really a zip", filename="pupils.xlsx")

    assert plan.file_error is not None
    assert "could not be opened as an Excel workbook" in plan.file_error


def test_header_variants_match(academy):
    content = csv_bytes(
        [
            ["upn", "LEGAL_SURNAME", "Legal Forename", "D.O.B.", "gender", "NC Year", "Form"],
            [upn_for(1), "Okafor", "Ada", "2012-10-01", "Female", "Y9", "9A"],
        ]
    )

    plan = plan_for(academy, content)

    assert plan.is_valid, plan.errors
    row = plan.new_rows[0]
    assert row.values["sex"] == "F"
    assert row.nc_year == 9
    assert row.tutor_group == "9A"


# File shape -------------------------------------------------------------------


def test_bom_header_two_rows(academy, admin_user):
    content = b"\xef\xbb\xbf" + csv_bytes(
        [
            ["UPN", "Surname", "Forename", "DOB"],
            [upn_for(1), "Okafor", "Ada", "01/10/2012"],
            [upn_for(2), "Smith", "Ben", "15/03/2014"],
        ]
    )

    result = apply(academy, content, admin_user)

    assert result.created == 2
    assert set(Pupil.objects.values_list("upn", flat=True)) == {upn_for(1), upn_for(2)}
    # No year column: the age rule gives the year (age on 31 August minus 4).
    years = dict(Enrolment.objects.values_list("pupil__upn", "year_group__nc_year"))
    assert years == {upn_for(1): 9, upn_for(2): 8}
    # No sex column: the pupil is stored as "not known" until the school records it.
    assert set(Pupil.objects.values_list("sex", flat=True)) == {"U"}


def test_semicolons_never_import_header(academy, admin_user):
    content = b"\xef\xbb\xbf" + csv_bytes(
        [
            ["UPN", "Surname", "Forename", "DOB"],
            [upn_for(1), "Okafor", "Ada", "01/10/2012"],
            [upn_for(2), "Smith", "Ben", "15/03/2014"],
        ],
        delimiter=";",
    )

    result = apply(academy, content, admin_user)

    assert result.created == 2
    assert not Pupil.objects.filter(legal_surname="Surname").exists()


def test_trailing_commas_and_blank_lines_ignored(academy, admin_user):
    content = (
        csv_bytes(
            [
                ["UPN", "Surname", "Forename", "DOB"],
                [upn_for(1), "Okafor", "Ada", "01/10/2012"],
                [],
                [upn_for(2), "Smith", "Ben", "15/03/2014"],
                ["", "", "", ""],
            ]
        )
        + b",,,\r\n\r\n , ,,\r\n,,,,,,\r\n"
    )

    plan = plan_for(academy, content)
    assert plan.is_valid, plan.errors
    assert plan.row_count == 2

    result = apply(academy, content, admin_user)
    assert result.created == Pupil.objects.count() == 2


def test_header_only_file_rejected(academy, admin_user):
    content = b"UPN,Surname,Forename,DOB\r\n,,,\r\n\r\n"

    plan = plan_for(academy, content)

    assert plan.file_error is not None
    assert "the file has no data rows" in plan.file_error.lower()
    with pytest.raises(ImportInvalid):
        apply(academy, content, admin_user)


def test_file_without_header_rejected(academy):
    content = csv_bytes([[upn_for(1), "Okafor", "Ada", "01/10/2012"]])

    plan = plan_for(academy, content)

    assert plan.file_error is not None
    assert "has no column for UPN" in plan.file_error


def test_title_rows_above_header_skipped(academy):
    content = csv_bytes(
        [
            ["Student list", "", "", ""],
            ["Printed 12/10/2026"],
            [],
            ["UPN", "Surname", "Forename", "DOB"],
            [upn_for(1), "Okafor", "Ada", "01/10/2012"],
        ]
    )

    plan = plan_for(academy, content)

    assert plan.is_valid, plan.errors
    assert [r.line for r in plan.new_rows] == [5]
    assert "header on line 4" in plan.description


def test_empty_file_rejected(academy):
    assert plan_for(academy, b"").file_error == "The file is empty."


def test_reported_count_equals_rows_written(academy, admin_user):
    existing = PupilFactory(upn=upn_for(1), legal_surname="Okafor", legal_forename="Ada")
    EnrolmentFactory(
        pupil=existing,
        tutor_group=tutor_group(academy, "9A", 9),
        start_date=datetime.date(2026, 9, 1),
    )
    content = csv_bytes(
        [
            ["UPN", "Surname", "Forename", "DOB", "Year", "Tutor Group"],
            [upn_for(1), "Okafor", "Ada", "01/10/2012", "9", "9A"],
            [upn_for(2), "Smith", "Ben", "15/03/2014", "7", "7A"],
            [upn_for(3), "Jones", "Cai", "15/03/2014", "7", "7A"],
        ]
    )

    plan = plan_for(academy, content)
    assert len(plan.new_rows) == 2
    assert len(plan.unchanged_rows) == 1

    result = apply(academy, content, admin_user)

    assert result.created == 2
    assert Pupil.objects.count() == 3
    assert result.unchanged == 1


def test_nc_year_age_rule():
    assert nc_year_by_age(datetime.date(2012, 9, 1), 2026) == 9
    assert nc_year_by_age(datetime.date(2012, 8, 31), 2026) == 10
    assert nc_year_by_age(datetime.date(2022, 6, 1), 2026) == 0


# Spreadsheet damage --------------------------------------------------------------------


def test_leading_zeros_kept(academy, admin_user):
    from trust.tabular import read_table

    table = read_table(
        csv_bytes([["Ref", "Phone"], ["0042", "07700900123"]]),
        "x.csv",
        {"ref": ["Ref"], "phone": ["Phone"]},
        required=["ref"],
        labels={},
    )
    assert table.rows[0].cells == {"ref": "0042", "phone": "07700900123"}

    content = csv_bytes(
        [
            ["UPN", "Surname", "Forename", "DOB", "Tutor Group"],
            [upn_for(1), "A", "B", "01/10/2012", "0042"],
        ]
    )
    apply(academy, content, admin_user)
    assert Enrolment.objects.get().tutor_group.name == "0042"


def test_scientific_notation_is_row_error(academy):
    content = csv_bytes(
        [
            ["UPN", "Surname", "Forename", "DOB", "Tutor Group"],
            ["9.91214E+15", "Okafor", "Ada", "01/10/2012", "9A"],
            [upn_for(2), "Smith", "Ben", "01/10/2012", "1.2E+3"],
        ]
    )

    found = errors_by_line(plan_for(academy, content))

    assert found[2][0][0] == "UPN"
    assert "looks like scientific notation" in found[2][0][1]
    assert found[3][0][0] == "Tutor Group"
    assert "looks like scientific notation" in found[3][0][1]


def test_xlsx_serial_date_number(academy):
    rows = [["UPN", "Surname", "Forename", "DOB"], [upn_for(1), "Smith", "Ben", 41732]]

    plan = plan_for(academy, xlsx_bytes(rows), filename="export.xlsx")

    assert plan.new_rows[0].values["date_of_birth"] == datetime.date(2014, 4, 3)


# Duplicates and identity -----------------------------------------------------------


def test_duplicate_upn_both_reported(academy, admin_user):
    content = csv_bytes([PUPIL_HEADER, pupil_row(1), pupil_row(2), pupil_row(1, surname="Other")])

    plan = plan_for(academy, content)

    assert [(e.line, e.column) for e in plan.errors] == [(2, "UPN"), (4, "UPN")]
    assert [r.upn for r in plan.new_rows] == [upn_for(2)]
    with pytest.raises(ImportInvalid):
        apply(academy, content, admin_user)
    assert Pupil.objects.count() == 0


def test_upn_change_to_taken_upn_rejected(academy, admin_user):
    group = tutor_group(academy, "9A", 9)
    first = EnrolmentFactory(pupil=PupilFactory(upn=upn_for(1)), tutor_group=group).pupil
    EnrolmentFactory(pupil=PupilFactory(upn=upn_for(2)), tutor_group=group)
    content = csv_bytes(
        [
            ["Former UPN", "UPN", "Surname", "Forename", "DOB"],
            [upn_for(1), upn_for(2), "Okafor", "Ada", "01/10/2012"],
        ]
    )

    plan = plan_for(academy, content)

    assert plan.errors[0].column == "UPN"
    assert "already belongs to another pupil" in plan.errors[0].reason
    with pytest.raises(ImportInvalid):
        apply(academy, content, admin_user)
    first.refresh_from_db()
    assert first.upn == upn_for(1)


def test_upn_change_to_free_upn_applied(academy, admin_user):
    group = tutor_group(academy, "9A", 9)
    pupil = EnrolmentFactory(pupil=PupilFactory(upn=upn_for(1)), tutor_group=group).pupil
    content = csv_bytes(
        [
            ["Former UPN", "UPN", "Surname", "Forename", "DOB"],
            [upn_for(1), upn_for(9), pupil.legal_surname, pupil.legal_forename, "01/10/2012"],
        ]
    )

    result = apply(academy, content, admin_user)

    pupil.refresh_from_db()
    assert pupil.upn == upn_for(9)
    assert result.created == 0
    assert result.updated == 1


def test_other_academy_other_dob_reviewed(academy, admin_user):
    elm = secondary(trust=academy.trust, name="Elm Academy")
    other = EnrolmentFactory(
        pupil=PupilFactory(upn=upn_for(1), date_of_birth=datetime.date(2012, 5, 5)),
        tutor_group=tutor_group(elm, "9E", 9),
    ).pupil
    content = csv_bytes([PUPIL_HEADER, pupil_row(1, surname="Okafor", dob="01/10/2012")])

    plan = plan_for(academy, content)
    assert len(plan.review_rows) == 1
    result = apply(academy, content, admin_user)

    assert result.reviews == 1
    assert result.created == 0
    other.refresh_from_db()
    assert other.date_of_birth == datetime.date(2012, 5, 5)
    assert other.legal_surname != "Okafor"
    review = PupilReview.objects.get()
    assert review.existing_pupil == other
    assert review.academy == academy
    assert review.row["legal_surname"] == "Okafor"
    assert "05/05/2012" in review.reason
    assert not other.enrolments.filter(academy=academy).exists()

    # Importing the same file again refreshes the open review, not a second one.
    apply(academy, content, admin_user)
    assert PupilReview.objects.count() == 1


def test_other_academy_same_dob_moves(academy, admin_user):
    elm = secondary(trust=academy.trust, name="Elm Academy")
    old = EnrolmentFactory(
        pupil=PupilFactory(upn=upn_for(1), date_of_birth=datetime.date(2012, 10, 1)),
        tutor_group=tutor_group(elm, "9E", 9),
        start_date=datetime.date(2026, 9, 1),
    )
    content = csv_bytes([PUPIL_HEADER, pupil_row(1, dob="01/10/2012", group="9A")])

    result = apply(academy, content, admin_user)

    assert result.moved == 1
    assert result.created == 0
    old.refresh_from_db()
    assert old.end_date == IMPORT_DAY - datetime.timedelta(days=1)
    new = Enrolment.objects.get(pupil=old.pupil, academy=academy)
    assert new.start_date == IMPORT_DAY
    assert new.end_date is None
    assert new.tutor_group.name == "9A"


def test_review_resolved_same_pupil_applies_row(academy, admin_user):
    elm = secondary(trust=academy.trust, name="Elm Academy")
    enrolment = EnrolmentFactory(
        pupil=PupilFactory(upn=upn_for(1), date_of_birth=datetime.date(2012, 5, 5)),
        tutor_group=tutor_group(elm, "9E", 9),
        start_date=datetime.date(2026, 9, 1),
    )
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, surname="Okafor")]), admin_user)
    review = PupilReview.objects.get()

    resolve_pupil_review(review=review, same_pupil=True, user=admin_user, on=IMPORT_DAY)

    review.refresh_from_db()
    assert review.status == PupilReview.Status.MERGED
    assert review.resolved_by == admin_user
    pupil = enrolment.pupil
    pupil.refresh_from_db()
    assert pupil.date_of_birth == datetime.date(2012, 10, 1)
    assert pupil.legal_surname == "Okafor"
    assert pupil.enrolments.get(end_date__isnull=True).academy == academy
    assert AuditEvent.objects.filter(model="pupils.PupilReview", actor=admin_user).exists()
    assert AuditEvent.objects.filter(
        model="pupils.Pupil", action="update", pupil_ref=pupil.pk, actor=admin_user
    ).exists()


def test_review_resolved_different_pupil_changes_nothing(academy, admin_user):
    elm = secondary(trust=academy.trust, name="Elm Academy")
    pupil = EnrolmentFactory(
        pupil=PupilFactory(upn=upn_for(1), date_of_birth=datetime.date(2012, 5, 5)),
        tutor_group=tutor_group(elm, "9E", 9),
    ).pupil
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, surname="Okafor")]), admin_user)
    review = PupilReview.objects.get()

    resolve_pupil_review(review=review, same_pupil=False, user=admin_user, on=IMPORT_DAY)

    review.refresh_from_db()
    assert review.status == PupilReview.Status.REJECTED
    pupil.refresh_from_db()
    assert pupil.date_of_birth == datetime.date(2012, 5, 5)
    assert not pupil.enrolments.filter(academy=academy).exists()
    event = AuditEvent.objects.get(model="pupils.PupilReview")
    assert event.changes == {"status": ["open", "rejected"]}


# Re-imports are safe ---------------------------------------------------------------------


def test_blank_pupil_premium_cell_keeps_value(academy, admin_user):
    apply(
        academy,
        csv_bytes([PUPIL_HEADER, pupil_row(1, looked_after="Yes", service="Y", fsm="Yes")]),
        admin_user,
    )
    pupil = Pupil.objects.get()
    assert pupil.looked_after and pupil.service_child

    result = apply(
        academy,
        csv_bytes([PUPIL_HEADER, pupil_row(1, looked_after="", service="", fsm="")]),
        admin_user,
    )

    pupil.refresh_from_db()
    assert pupil.looked_after is True
    assert pupil.service_child is True
    assert pupil.fsm_periods.get().end_date is None
    assert result.unchanged == 1


def test_misspelt_value_removes_nobody(academy, admin_user):
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1), pupil_row(2)]), admin_user)

    with pytest.raises(ImportInvalid) as raised:
        apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, fsm="Not Eligibile")]), admin_user)

    assert raised.value.plan.errors[0].column == "FSM"
    assert Pupil.objects.count() == 2
    assert Enrolment.objects.filter(end_date__isnull=True).count() == 2


def test_missing_pupils_never_deleted(academy, admin_user):
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1), pupil_row(2)]), admin_user)

    result = apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1)]), admin_user)

    assert result.unchanged == 1
    assert Pupil.objects.count() == 2
    assert Enrolment.objects.filter(end_date__isnull=True).count() == 2
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_header_only_reimport_rejected(academy, admin_user):
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1)]), admin_user)

    with pytest.raises(ImportInvalid) as raised:
        apply(academy, csv_bytes([PUPIL_HEADER]), admin_user)

    assert "no data rows" in raised.value.plan.file_error
    assert Pupil.objects.count() == 1


# Re-imports: changes, enrolment and FSM ------------------------------------------------------


def test_reimport_updates_changed_fields_only(academy, admin_user):
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, surname="Smith")]), admin_user)
    AuditEvent.objects.all().delete()

    result = apply(
        academy, csv_bytes([PUPIL_HEADER, pupil_row(1, surname="Smith-Jones")]), admin_user
    )

    assert result.updated == 1
    pupil = Pupil.objects.get()
    assert pupil.legal_surname == "Smith-Jones"
    assert plan_for(
        academy, csv_bytes([PUPIL_HEADER, pupil_row(1, surname="Smith-Jones", sen="K")])
    ).updated_rows[0].change_list == [("SEN status", "N", "K")]
    event = AuditEvent.objects.get(model="pupils.Pupil")
    assert event.action == "update"
    assert event.changes == {"legal_surname": ["Smith", "Smith-Jones"]}
    assert Enrolment.objects.count() == 1


def test_reimport_tutor_group_change_moves_enrolment(academy, admin_user):
    pupil = PupilFactory(upn=upn_for(1), legal_surname="Surname1", legal_forename="Forename1")
    old = EnrolmentFactory(
        pupil=pupil, tutor_group=tutor_group(academy, "9A", 9), start_date=datetime.date(2026, 9, 1)
    )
    untouched = EnrolmentFactory(
        pupil=PupilFactory(upn=upn_for(2), legal_surname="Surname2", legal_forename="Forename2"),
        tutor_group=old.tutor_group,
        start_date=datetime.date(2026, 9, 1),
    )

    result = apply(
        academy,
        csv_bytes([PUPIL_HEADER, pupil_row(1, group="9B"), pupil_row(2, group="9A")]),
        admin_user,
    )

    assert result.enrolments_ended == 1
    assert result.enrolments_started == 1
    old.refresh_from_db()
    assert old.end_date == datetime.date(2026, 10, 11)
    current = pupil.enrolments.get(end_date__isnull=True)
    assert current.tutor_group.name == "9B"
    assert current.start_date == IMPORT_DAY
    untouched.refresh_from_db()
    assert untouched.end_date is None
    assert Enrolment.objects.filter(pupil=untouched.pupil).count() == 1


def test_same_day_group_change_corrects_enrolment(academy, admin_user):
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, group="9A")]), admin_user)

    result = apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, group="9B")]), admin_user)

    assert result.enrolments_started == 0
    assert result.enrolments_ended == 0
    enrolment = Enrolment.objects.get()
    assert enrolment.tutor_group.name == "9B"
    assert enrolment.start_date == IMPORT_DAY
    assert enrolment.end_date is None
    event = AuditEvent.objects.get(model="pupils.Enrolment", action="update")
    assert event.changes["tutor_group_id"][1] == enrolment.tutor_group_id


def test_fsm_no_closes_open_period(academy, admin_user):
    pupil = PupilFactory(upn=upn_for(1), legal_surname="Surname1", legal_forename="Forename1")
    EnrolmentFactory(pupil=pupil, tutor_group=tutor_group(academy, "9A", 9))
    FsmPeriod.objects.create(pupil=pupil, start_date=datetime.date(2024, 1, 8))

    result = apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, fsm="No")]), admin_user)

    assert result.fsm_closed == 1
    period = pupil.fsm_periods.get()
    assert period.end_date == datetime.date(2026, 10, 11)


def test_fsm_period_with_future_end_counts_as_open(academy, admin_user):
    pupil = PupilFactory(upn=upn_for(1), legal_surname="Surname1", legal_forename="Forename1")
    EnrolmentFactory(pupil=pupil, tutor_group=tutor_group(academy, "9A", 9))
    FsmPeriod.objects.create(
        pupil=pupil, start_date=datetime.date(2025, 1, 6), end_date=datetime.date(2027, 3, 31)
    )

    kept = apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, fsm="Yes")]), admin_user)
    assert kept.fsm_opened == 0
    assert pupil.fsm_periods.count() == 1

    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, fsm="No")]), admin_user)
    assert pupil.fsm_periods.get().end_date == datetime.date(2026, 10, 11)


def test_fsm_yes_opens_once(academy, admin_user):
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, fsm="TRUE")]), admin_user)
    result = apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, fsm="1")]), admin_user)

    assert result.fsm_opened == 0
    assert FsmPeriod.objects.count() == 1


def test_confirm_query_count_constant(academy, admin_user, django_assert_max_num_queries):
    content = csv_bytes(
        [PUPIL_HEADER] + [pupil_row(i, group=f"9{'ABCD'[i % 4]}") for i in range(200)]
    )

    with django_assert_max_num_queries(40):
        result = apply(academy, content, admin_user)

    assert result.created == 200
    reimport = csv_bytes(
        [PUPIL_HEADER] + [pupil_row(i, group=f"9{'ABCD'[(i + 1) % 4]}") for i in range(200)]
    )
    with django_assert_max_num_queries(40):
        result = pupil_import_apply(
            academy=academy,
            content=reimport,
            filename="pupils.csv",
            user=admin_user,
            import_date=IMPORT_DAY + datetime.timedelta(days=7),
        )
    assert result.enrolments_started == 200
    assert result.enrolments_ended == 200


# The pages ------------------------------------------------------------------------------------


def upload(client, academy, content, filename="pupils.csv"):
    file = io.BytesIO(content)
    file.name = filename
    return client.post(reverse("pupils:import"), {"academy": academy.pk, "file": file})


def test_page_flow_upload_preview_confirm(
    client, academy, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    page = client.get(reverse("pupils:import"))
    assert page.status_code == 200
    assert "Oak Academy" in page.content.decode()
    assert reverse("staff:import") in page.content.decode()

    bad = csv_bytes([PUPIL_HEADER, pupil_row(1), pupil_row(2, fsm="Not Eligibile")])
    response = upload(client, academy, bad)
    assert response.status_code == 302
    preview = client.get(response["Location"])
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "Not Eligibile" in body
    assert '<td class="num">3</td><td>FSM</td>' in body
    assert Pupil.objects.count() == 0
    refused = client.post(response["Location"] + "confirm/")
    assert refused.status_code == 400
    assert Pupil.objects.count() == 0

    good = csv_bytes([PUPIL_HEADER, pupil_row(1), pupil_row(2)])
    response = upload(client, academy, good)
    preview = client.get(response["Location"])
    assert "Import 2 new and 0 updated pupils" in preview.content.decode()
    assert Pupil.objects.count() == 0
    # The import task is queued when the run commits, and runs eagerly here.
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(response["Location"] + "confirm/")
    assert confirmed["Location"].startswith("/pupils/import/runs/")
    done = client.get(confirmed["Location"])
    assert done.status_code == 200
    assert Pupil.objects.count() == 2
    assert "2 pupils created" in done.content.decode()
    assert AuditEvent.objects.filter(actor=admin_user, model="pupils.Pupil").count() == 2

    # The same preview cannot be confirmed twice.
    again = client.post(response["Location"] + "confirm/")
    assert again.status_code == 404


def test_old_pending_uploads_deleted(
    client, academy, admin_user, settings, django_capture_on_commit_callbacks
):
    from trust.tabular import MAX_PENDING_UPLOADS

    client.force_login(admin_user)
    content = csv_bytes([PUPIL_HEADER, pupil_row(1)])
    locations = [upload(client, academy, content)["Location"] for _ in range(7)]

    stored = list((settings.MEDIA_ROOT / "imports" / "pupils").iterdir())
    assert len(stored) == MAX_PENDING_UPLOADS
    assert client.get(locations[0]).status_code == 404
    assert client.get(locations[-1]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(locations[-1] + "confirm/")
    assert len(list((settings.MEDIA_ROOT / "imports" / "pupils").iterdir())) == 4


def test_page_rejects_file_error(client, academy, admin_user):
    client.force_login(admin_user)
    response = upload(client, academy, csv_bytes([PUPIL_HEADER]))
    preview = client.get(response["Location"])

    assert "no data rows" in preview.content.decode()


def test_page_upload_needs_file(client, academy, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("pupils:import"), {"academy": academy.pk})

    assert response.status_code == 400
    assert "Choose a CSV or Excel file" in response.content.decode()


def test_head_of_year_gets_404(client, academy):
    year = YearGroup.objects.get(academy=academy, nc_year=9)
    client.force_login(user_with_role(Role.HEAD_OF_YEAR, year))

    assert client.get(reverse("pupils:import")).status_code == 404
    assert client.get(reverse("pupils:review-list")).status_code == 404


def test_headteacher_imports_own_academy_only(client, academy):
    elm = secondary(trust=academy.trust, name="Elm Academy")
    client.force_login(user_with_role(Role.HEADTEACHER, academy))

    page = client.get(reverse("pupils:import"))
    assert "Oak Academy" in page.content.decode()
    assert "Elm Academy" not in page.content.decode()
    response = upload(client, elm, csv_bytes([PUPIL_HEADER, pupil_row(1)]))
    assert response.status_code == 400
    assert Pupil.objects.count() == 0
    assert client.get(reverse("pupils:review-list")).status_code == 404


def test_preview_of_another_session_is_404(client, academy, admin_user):
    client.force_login(admin_user)
    location = upload(client, academy, csv_bytes([PUPIL_HEADER, pupil_row(1)]))["Location"]
    client.logout()
    client.force_login(trust_admin(academy))

    assert client.get(location).status_code == 404
    assert client.post(location + "confirm/").status_code == 404


def test_review_page_resolves(client, academy, admin_user):
    elm = secondary(trust=academy.trust, name="Elm Academy")
    EnrolmentFactory(
        pupil=PupilFactory(upn=upn_for(1), date_of_birth=datetime.date(2012, 5, 5)),
        tutor_group=tutor_group(elm, "9E", 9),
    )
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, surname="Okafor")]), admin_user)
    review = PupilReview.objects.get()
    client.force_login(admin_user)

    page = client.get(reverse("pupils:review-list"))
    assert page.status_code == 200
    assert "Okafor" in page.content.decode()
    assert "05/05/2012" in page.content.decode()

    bad = client.post(reverse("pupils:review-resolve", args=[review.pk]), {"decision": "maybe"})
    assert bad.status_code == 400
    done = client.post(
        reverse("pupils:review-resolve", args=[review.pk]), {"decision": "different"}
    )
    assert done.status_code == 302
    review.refresh_from_db()
    assert review.status == PupilReview.Status.REJECTED


# The command ------------------------------------------------------------------------------------


def test_command_preview_then_confirm(academy, tmp_path):
    path = tmp_path / "pupils.csv"
    path.write_bytes(csv_bytes([PUPIL_HEADER, pupil_row(1), pupil_row(2)]))
    out = io.StringIO()

    call_command("import_pupils", "--academy", academy.urn, str(path), stdout=out)
    assert "2 new pupils" in out.getvalue()
    assert "--confirm" in out.getvalue()
    assert Pupil.objects.count() == 0

    out = io.StringIO()
    call_command("import_pupils", "--academy", academy.urn, str(path), "--confirm", stdout=out)
    assert "2 pupils created" in out.getvalue()
    assert Pupil.objects.count() == 2


def test_command_reports_errors_and_fails(academy, tmp_path):
    path = tmp_path / "pupils.csv"
    path.write_bytes(csv_bytes([PUPIL_HEADER, pupil_row(1, sex="X")]))
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 row"):
        call_command("import_pupils", "--academy", academy.urn, str(path), "--confirm", stdout=out)

    assert "line 2, Sex" in out.getvalue()
    assert Pupil.objects.count() == 0


def test_command_unknown_academy(tmp_path):
    path = tmp_path / "pupils.csv"
    path.write_bytes(b"x")

    with pytest.raises(CommandError, match="No academy has URN 999999"):
        call_command("import_pupils", "--academy", "999999", str(path))


def test_confirm_clash_fails_run(
    client, academy, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import IntegrityError

    from pupils import tasks

    def clash(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(tasks, "pupil_import_apply", clash)
    client.force_login(admin_user)
    location = upload(client, academy, csv_bytes([PUPIL_HEADER, pupil_row(1)]))["Location"]

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(location + "confirm/")
    response = client.get(confirmed["Location"])

    assert confirmed["Location"].startswith("/pupils/import/runs/")
    assert "records changed while the import ran" in response.content.decode()
    assert Pupil.objects.count() == 0


def test_failure_mid_apply_writes_nothing(academy, admin_user, monkeypatch):
    from pupils import services

    def fail(plan, result):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_apply_fsm", fail)
    content = csv_bytes([PUPIL_HEADER, pupil_row(1, fsm="Yes"), pupil_row(2)])

    with pytest.raises(RuntimeError):
        apply(academy, content, admin_user)

    assert Pupil.objects.count() == 0
    assert Enrolment.objects.count() == 0
    assert TutorGroup.objects.count() == 0
    assert not AuditEvent.objects.filter(model__startswith="pupils.").exists()


def test_review_page_same_pupil_merges(client, academy, admin_user):
    elm = secondary(trust=academy.trust, name="Elm Academy")
    pupil = EnrolmentFactory(
        pupil=PupilFactory(upn=upn_for(1), date_of_birth=datetime.date(2012, 5, 5)),
        tutor_group=tutor_group(elm, "9E", 9),
        start_date=datetime.date(2026, 9, 1),
    ).pupil
    apply(academy, csv_bytes([PUPIL_HEADER, pupil_row(1, surname="Okafor")]), admin_user)
    review = PupilReview.objects.get()
    client.force_login(admin_user)

    response = client.post(
        reverse("pupils:review-resolve", args=[review.pk]), {"decision": "same"}, follow=True
    )

    assert "the imported row was applied" in response.content.decode()
    pupil.refresh_from_db()
    assert pupil.legal_surname == "Okafor"
    assert pupil.enrolments.get(end_date__isnull=True).academy == academy
    again = client.post(reverse("pupils:review-resolve", args=[review.pk]), {"decision": "same"})
    assert again.status_code == 404
