"""The historical marks import: checks by line, all or nothing, command and pages."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from academies.models import AcademicYear, Closure
from attendance.imports import ImportRejected, build_plan, marks_import_apply
from attendance.models import AttendanceMark, PupilYearSummary
from attendance.services import MarkInput, marks_save
from pupils.models import Enrolment
from tests.factories import PupilFactory
from tests.personas import TODAY, build_personas
from trust.models import AuditEvent

HEADER = "UPN,Date,Session,Code,Minutes late,Comment\n"


@pytest.fixture
def world(db):
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def upn(world, key: str) -> str:
    return world.pupils[key].upn


def reasons(plan) -> dict[int, list[str]]:
    by_line: dict[int, list[str]] = {}
    for error in plan.errors:
        by_line.setdefault(error.line, []).append(error.reason)
    return by_line


@pytest.mark.django_db
def test_valid_file_previews_without_writing(world):
    oak = world.academies["oak"]
    content = csv_bytes(
        f"{upn(world, 'oak9a_obrien')},02/12/2026,AM,/,,",
        f"{upn(world, 'oak9a_obrien')},02/12/2026,PM,L,12,Bus late",
        f"{upn(world, 'oak9b_patel')},2026-12-02,am,I,,Parent rang",
    )
    plan = build_plan(academy=oak, content=content, filename="marks.csv")

    assert plan.errors == []
    assert plan.is_valid
    assert plan.summary()["marks"] == 3
    assert plan.summary()["pupils"] == 2
    assert plan.summary()["replaced"] == 0
    assert [m.session for m in plan.marks] == ["AM", "PM", "AM"]
    assert plan.marks[1].minutes_late == 12
    assert plan.marks[1].comment == "Bus late"
    assert plan.marks[2].css == "cat-authorised"
    assert plan.marks[2].category_label == "Authorised absence"
    assert AttendanceMark.objects.count() == 0


@pytest.mark.django_db
def test_each_bad_row_reported_by_line(world):
    oak = world.academies["oak"]
    obrien = upn(world, "oak9a_obrien")
    patel = upn(world, "oak9b_patel")
    elm_pupil = upn(world, "elm9e_ashdown")
    Closure.objects.create(
        academy=oak, date=datetime.date(2026, 11, 20), kind=Closure.Kind.INSET, reason="Training"
    )
    content = csv_bytes(
        f"{obrien},01/12/2026,AM,ZZ,,",  # line 2: unknown code
        f"{obrien},01/12/2026,PM,H,,",  # line 3: code retired in 2024
        f"{obrien},15/07/2026,AM,/,,",  # line 4: before the enrolment
        "A999999999999,01/12/2026,AM,/,,",  # line 5: unknown UPN
        f"{obrien},20/11/2026,AM,I,,",  # line 6: closure session
        f"{patel},01/12/2026,AM,/,,",  # line 7: first of a duplicate
        f"{patel},01/12/2026,AM,I,,",  # line 8: duplicate
        f"{patel},01/12/2026,XX,/,,",  # line 9: bad session
        f"{patel},31/02/2026,AM,/,,",  # line 10: not a date
        f"{patel},30/11/2026,AM,/,5,",  # line 11: minutes with a present code
        f"{elm_pupil},01/12/2026,AM,/,,",  # line 12: pupil of another academy
        f"{patel},10/12/2026,AM,/,,",  # line 13: a future date
        f"{patel},,AM,/,,",  # line 14: missing date
    )
    plan = build_plan(academy=oak, content=content, filename="marks.csv")
    found = reasons(plan)

    assert not plan.is_valid
    assert "is not an attendance code" in found[2][0]
    assert "retired on 18/08/2024" in found[3][0]
    assert "not on roll at" in found[4][0]
    assert "from 01/09/2026" in found[4][0]
    assert "No pupil with UPN A999999999999" in found[5][0]
    assert "closed on 20/11/2026" in found[6][0]
    assert "INSET day: Training" in found[6][0]
    assert "takes code #" in found[6][0]
    assert 7 not in found
    assert "first is on line 7" in found[8][0]
    assert "use AM or PM" in found[9][0]
    assert "not a real date" in found[10][0]
    assert "go with code L or U" in found[11][0]
    assert "never been on roll at" in found[12][0]
    assert "not in the past" in found[13][0]
    assert "date is missing" in found[14][0]
    assert set(found) == {2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}
    assert [m.line for m in plan.marks] == [7]
    assert AttendanceMark.objects.count() == 0


@pytest.mark.django_db
def test_pre_2024_code_accepted_before_change(world):
    oak = world.academies["oak"]
    old_year = AcademicYear.objects.create(
        trust=oak.trust,
        start_year=2023,
        start_date=datetime.date(2023, 9, 1),
        end_date=datetime.date(2024, 8, 31),
    )
    pupil = world.pupils["oak9a_obrien"]
    Enrolment.objects.create(
        pupil=pupil,
        academy=oak,
        academic_year=old_year,
        year_group=world.year_groups["oak9"],
        start_date=datetime.date(2023, 9, 1),
        end_date=datetime.date(2024, 7, 19),
    )
    content = csv_bytes(f"{pupil.upn},10/07/2024,AM,H,,", f"{pupil.upn},10/07/2024,PM,J1,,")
    plan = build_plan(academy=oak, content=content, filename="old.csv")

    assert [m.code for m in plan.marks] == ["H"]
    assert "came into use on 19/08/2024" in reasons(plan)[3][0]


@pytest.mark.django_db
def test_closure_code_on_closure_day_accepted(world):
    oak = world.academies["oak"]
    Closure.objects.create(academy=oak, date=datetime.date(2026, 11, 20), kind=Closure.Kind.INSET)
    content = csv_bytes(
        f"{upn(world, 'oak9a_obrien')},20/11/2026,AM,#,,",
        f"{upn(world, 'oak9a_obrien')},20/11/2026,PM,#,,",
    )
    with time_machine.travel(TODAY, tick=False):
        result = marks_import_apply(
            academy=oak,
            content=content,
            filename="closure.csv",
            user=world.users["attendance_officer"],
        )

    assert result.created == 2
    assert set(AttendanceMark.objects.values_list("code", flat=True)) == {"#"}


@pytest.mark.django_db
def test_confirm_writes_marks_and_summaries(world):
    oak = world.academies["oak"]
    pupil = world.pupils["oak9a_obrien"]
    content = csv_bytes(
        f"{pupil.upn},01/12/2026,AM,/,,",
        f"{pupil.upn},01/12/2026,PM,I,,",
        f"{pupil.upn},02/12/2026,AM,L,10,",
        f"{pupil.upn},02/12/2026,PM,G,,Holiday",
    )
    with time_machine.travel(TODAY, tick=False):
        result = marks_import_apply(
            academy=oak, content=content, filename="marks.csv", user=world.users["headteacher"]
        )

    assert result.created == 4
    marks = {(m.date.day, m.session): m for m in AttendanceMark.objects.filter(pupil=pupil)}
    assert marks[(1, "AM")].category == "present"
    assert marks[(1, "PM")].category == "authorised"
    assert marks[(2, "AM")].minutes_late == 10
    assert marks[(2, "PM")].comment == "Holiday"
    assert marks[(2, "PM")].entered_by == world.users["headteacher"]
    summary = PupilYearSummary.objects.get(pupil=pupil)
    assert summary.present == 2
    assert summary.authorised == 1
    assert summary.unauthorised == 1
    assert summary.late_before_close == 1


@pytest.mark.django_db
def test_import_replaces_marks_with_audit_reason(world):
    oak = world.academies["oak"]
    pupil = world.pupils["oak9a_obrien"]
    with time_machine.travel(datetime.datetime(2026, 12, 1, 9, 0), tick=False):
        marks_save(
            actor=world.users["tutor"],
            day=datetime.date(2026, 12, 1),
            session="AM",
            marks=[MarkInput(pupil_id=pupil.pk, code="N")],
        )
    content = csv_bytes(f"{pupil.upn},01/12/2026,AM,I,,")
    plan = build_plan(academy=oak, content=content, filename="fix.csv")
    assert plan.summary()["replaced"] == 1

    with time_machine.travel(TODAY, tick=False):
        result = marks_import_apply(
            academy=oak,
            content=content,
            filename="fix.csv",
            user=world.users["attendance_officer"],
        )

    assert result.changed == 1
    mark = AttendanceMark.objects.get(pupil=pupil)
    assert mark.code == "I"
    assert mark.version == 2
    event = AuditEvent.objects.get(model="attendance.AttendanceMark", object_id=str(mark.pk))
    assert event.reason == "Import: fix.csv"
    assert event.changes["code"] == ["N", "I"]
    assert PupilYearSummary.objects.get(pupil=pupil).unauthorised == 0


@pytest.mark.django_db
def test_any_error_writes_nothing(world):
    oak = world.academies["oak"]
    pupil = world.pupils["oak9a_obrien"]
    content = csv_bytes(f"{pupil.upn},01/12/2026,AM,/,,", f"{pupil.upn},01/12/2026,PM,QQ,,")
    with time_machine.travel(TODAY, tick=False), pytest.raises(ImportRejected) as rejected:
        marks_import_apply(
            academy=oak, content=content, filename="bad.csv", user=world.users["headteacher"]
        )

    assert "1 row(s) of bad.csv have errors" in str(rejected.value)
    assert AttendanceMark.objects.count() == 0


@pytest.mark.django_db
def test_unreadable_file_rejected(world):
    plan = build_plan(
        academy=world.academies["oak"], content=b"Name,Colour\nA,B\n", filename="x.csv"
    )

    assert "No header row found" in plan.file_error
    assert not plan.is_valid


@pytest.mark.django_db
def test_command_previews_then_imports(world, tmp_path):
    oak = world.academies["oak"]
    pupil = world.pupils["oak9a_obrien"]
    path = tmp_path / "marks.csv"
    path.write_bytes(csv_bytes(f"{pupil.upn},01/12/2026,AM,/,,"))
    out = StringIO()
    with time_machine.travel(TODAY, tick=False):
        call_command("import_marks", str(path), "--academy", oak.urn, stdout=out)
        assert AttendanceMark.objects.count() == 0
        assert "Nothing was written" in out.getvalue()

        call_command("import_marks", str(path), "--academy", oak.urn, "--confirm", stdout=out)

    assert AttendanceMark.objects.filter(pupil=pupil, code="/").count() == 1
    assert "Imported 1 new" in out.getvalue()


@pytest.mark.django_db
def test_command_lists_bad_rows(world, tmp_path):
    oak = world.academies["oak"]
    path = tmp_path / "marks.csv"
    path.write_bytes(csv_bytes("A999999999999,01/12/2026,AM,/,,"))
    out = StringIO()
    with time_machine.travel(TODAY, tick=False), pytest.raises(CommandError) as failed:
        call_command("import_marks", str(path), "--academy", oak.urn, "--confirm", stdout=out)

    assert "1 row with errors" in str(failed.value)
    assert "Line 2, UPN 'A999999999999'" in out.getvalue()
    assert AttendanceMark.objects.count() == 0


@pytest.mark.django_db
def test_command_unknown_academy(world, tmp_path):
    path = tmp_path / "marks.csv"
    path.write_bytes(csv_bytes())
    with pytest.raises(CommandError) as failed:
        call_command("import_marks", str(path), "--academy", "999999")

    assert "No academy has URN '999999'" in str(failed.value)


def upload(client, academy, content: bytes, filename: str = "marks.csv"):
    file = SimpleUploadedFile(filename, content, content_type="text/csv")
    return client.post(reverse("attendance:import"), {"academy": academy.pk, "file": file})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("trust_admin", True),
        ("headteacher", True),
        ("academy_leader", True),
        ("attendance_officer", True),
        ("trust_leader", False),
        ("trustee", False),
        ("head_of_year", False),
        ("tutor", False),
        ("teacher", False),
        ("staff", False),
    ],
)
def test_import_page_access(world, client, persona, allowed):
    client.force_login(world.users[persona])
    with time_machine.travel(TODAY, tick=False):
        response = client.get(reverse("attendance:import"))

    assert response.status_code == (200 if allowed else 404)


@pytest.mark.django_db
def test_page_upload_preview_confirm(world, client):
    oak = world.academies["oak"]
    pupil = world.pupils["oak9a_obrien"]
    client.force_login(world.users["attendance_officer"])
    with time_machine.travel(TODAY, tick=False):
        bad = upload(client, oak, csv_bytes(f"{pupil.upn},01/12/2026,AM,ZZ,,"))
        assert bad.status_code == 302
        preview = client.get(bad["Location"])
        assert preview.status_code == 200
        assert "is not an attendance code" in preview.content.decode()
        assert "Nothing can be imported" in preview.content.decode()
        refused = client.post(bad["Location"] + "confirm/")
        assert refused.status_code == 400
        assert AttendanceMark.objects.count() == 0

        good = upload(client, oak, csv_bytes(f"{pupil.upn},01/12/2026,AM,/,,"))
        preview = client.get(good["Location"])
        assert "Import 1 mark" in preview.content.decode()
        assert '<span class="mark cat-present">/</span>' in preview.content.decode()
        assert AttendanceMark.objects.count() == 0
        done = client.post(good["Location"] + "confirm/", follow=True)

    assert done.status_code == 200
    assert "1 new marks" in done.content.decode()
    assert AttendanceMark.objects.filter(pupil=pupil).count() == 1


@pytest.mark.django_db
def test_other_academy_not_offered(world, client):
    client.force_login(world.users["attendance_officer"])
    elm = world.academies["elm"]
    with time_machine.travel(TODAY, tick=False):
        response = upload(client, elm, csv_bytes())

    assert response.status_code == 400
    assert "not one you may import marks into" in response.content.decode()


@pytest.mark.django_db
def test_unknown_token_not_found(world, client):
    client.force_login(world.users["headteacher"])
    response = client.get(reverse("attendance:import-preview", args=["nosuchtoken"]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_pupils_outside_visibility_unknown(world):
    oak = world.academies["oak"]
    outsider = PupilFactory()
    content = csv_bytes(f"{outsider.upn},01/12/2026,AM,/,,")
    with time_machine.travel(TODAY, tick=False):
        plan = build_plan(
            academy=oak,
            content=content,
            filename="x.csv",
            user=world.users["attendance_officer"],
        )

    assert f"No pupil with UPN {outsider.upn}" in reasons(plan)[2][0]
