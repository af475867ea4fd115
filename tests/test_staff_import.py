"""Staff import: matching by email, line managers, the preview, the page and the command."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from academies.models import Academy
from staff.imports import build_staff_plan
from staff.models import Role, StaffMember
from staff.services import StaffImportInvalid, staff_import_apply
from trust.models import AuditEvent

from .factories import StaffFactory
from .factories_imports import (
    IMPORT_MOMENT,
    csv_bytes,
    secondary,
    trust_admin,
    user_with_role,
    xlsx_bytes,
)

pytestmark = [pytest.mark.django_db]

HEADER = [
    "Title",
    "First Name",
    "Surname",
    "Email",
    "Job Title",
    "Post Type",
    "Academy",
    "Line Manager",
    "Start Date",
]


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


def staff_file(academy: Academy) -> bytes:
    # The head's row comes last, after the rows that name her as line manager.
    return csv_bytes(
        [
            HEADER,
            ["Mr", "Sam", "Patel", "s.patel@oak.example", "Teacher of Maths", "Teacher",
             academy.urn, "j.okafor@oak.example", "01/09/2020"],
            ["", "Lee", "Wong", "L.Wong@oak.example", "Teaching Assistant", "TA",
             "Oak Academy", "s.patel@oak.example", ""],
            ["Ms", "Jo", "Okafor", "j.okafor@oak.example", "Headteacher", "Leadership",
             academy.urn, "", "2018-01-08"],
            ["", "Ann", "Reid", "a.reid@trust.example", "Finance Officer", "Support staff",
             "Central team", "", ""],
        ]
    )  # fmt: skip


def plan_for(academy, content, filename="staff.csv"):
    return build_staff_plan(content=content, filename=filename, academies=Academy.objects.all())


def apply(content, user=None, filename="staff.csv"):
    return staff_import_apply(
        content=content, filename=filename, user=user, academies=Academy.objects.all()
    )


def test_valid_file_creates_staff_with_managers(academy, admin_user):
    plan = plan_for(academy, staff_file(academy))
    assert plan.is_valid, plan.errors
    assert len(plan.new_rows) == 4
    assert StaffMember.objects.filter(email__endswith="oak.example").count() == 0

    result = apply(staff_file(academy), admin_user)

    assert result.created == 4
    head = StaffMember.objects.get(email="j.okafor@oak.example")
    sam = StaffMember.objects.get(email="s.patel@oak.example")
    lee = StaffMember.objects.get(email="l.wong@oak.example")
    assert sam.line_manager == head
    assert lee.line_manager == sam
    assert head.line_manager is None
    assert sam.academy == academy
    assert sam.title == "Mr"
    assert sam.started_on == datetime.date(2020, 9, 1)
    assert head.started_on == datetime.date(2018, 1, 8)
    assert lee.post_type == "teaching_assistant"
    assert StaffMember.objects.get(email="a.reid@trust.example").academy is None
    events = AuditEvent.objects.filter(model="staff.StaffMember", action="create", actor=admin_user)
    assert events.count() == 4
    assert events.get(staff_ref=sam.pk).changes["line_manager_id"] == [None, head.pk]


def test_same_file_twice_adds_no_one(academy, admin_user):
    apply(staff_file(academy), admin_user)
    count = StaffMember.objects.count()
    audit_count = AuditEvent.objects.count()

    result = apply(staff_file(academy), admin_user)

    assert result.created == 0
    assert result.updated == 0
    assert result.unchanged == 4
    assert StaffMember.objects.count() == count
    assert AuditEvent.objects.count() == audit_count


def test_reimport_updates_changed_fields(academy, admin_user):
    existing = StaffFactory(
        email="S.Patel@oak.example", academy=academy, job_title="Teacher", first_name="Sam"
    )
    content = csv_bytes(
        [
            ["First Name", "Last Name", "Email", "Job Title", "Post Type", "Academy"],
            ["Sam", "Patel", "s.patel@oak.example", "Head of Maths", "Leadership", "140101"],
        ]
    )

    result = apply(content, admin_user)

    assert result.updated == 1
    existing.refresh_from_db()
    assert existing.job_title == "Head of Maths"
    assert existing.post_type == "leadership"
    assert existing.last_name == "Patel"
    assert existing.email == "S.Patel@oak.example"
    event = AuditEvent.objects.get(
        model="staff.StaffMember", action="update", staff_ref=existing.pk
    )
    assert event.changes["job_title"] == ["Teacher", "Head of Maths"]
    assert "email" not in event.changes


def test_existing_manager_by_email(academy, admin_user):
    manager = StaffFactory(email="head@oak.example", academy=academy)
    content = csv_bytes(
        [
            ["First Name", "Last Name", "Email", "Job Title", "Post Type", "Academy", "Manager"],
            ["Sam", "Patel", "s.patel@oak.example", "Teacher", "Teacher", "140101",
             "HEAD@oak.example"],
        ]
    )  # fmt: skip

    apply(content, admin_user)

    assert StaffMember.objects.get(email="s.patel@oak.example").line_manager == manager


def test_every_bad_row_reported(academy, admin_user):
    content = csv_bytes(
        [
            HEADER,
            ["", "Sam", "Patel", "not-an-email", "Teacher", "Teacher", academy.urn, "", ""],
            ["", "Lee", "Wong", "l.wong@oak.example", "TA", "Teachign", academy.urn, "", ""],
            ["", "Jo", "Okafor", "j.okafor@oak.example", "Head", "Leadership", "999999", "", ""],
            ["", "Kim", "Ng", "k.ng@oak.example", "Teacher", "Teacher", academy.urn,
             "nobody@oak.example", ""],
            ["", "Al", "Ray", "dup@oak.example", "Teacher", "Teacher", academy.urn, "", ""],
            ["", "Bo", "Ray", "DUP@oak.example", "Teacher", "Teacher", academy.urn, "", ""],
            ["", "Cy", "Self", "self@oak.example", "Teacher", "Teacher", academy.urn,
             "self@oak.example", ""],
            ["", "", "Blank", "blank@oak.example", "Teacher", "Teacher", academy.urn, "", ""],
            ["", "Di", "Date", "date@oak.example", "Teacher", "Teacher", academy.urn, "",
             "31/02/2020"],
            ["", "Ed", "Loop", "a@oak.example", "Teacher", "Teacher", academy.urn,
             "b@oak.example", ""],
            ["", "Fi", "Loop", "b@oak.example", "Teacher", "Teacher", academy.urn,
             "a@oak.example", ""],
            ["", "Ok", "Row", "ok@oak.example", "Teacher", "Teacher", academy.urn, "", ""],
        ]
    )  # fmt: skip

    plan = plan_for(academy, content)
    found = {(e.line, e.column): e.reason for e in plan.errors}

    assert sorted({e.line for e in plan.errors}) == list(range(2, 13))
    assert "'not-an-email' is not a valid email address" in found[(2, "Email")]
    assert "'Teachign' is not an allowed value" in found[(3, "Post Type")]
    assert "Teaching assistant" in found[(3, "Post Type")]
    assert "'999999'" in found[(4, "Academy")]
    assert "nobody@oak.example" in found[(5, "Line Manager")]
    assert "also on line 7" in found[(6, "Email")]
    assert "also on line 6" in found[(7, "Email")]
    assert "cannot line-manage themselves" in found[(8, "Line Manager")]
    assert found[(9, "First Name")] == "First name is missing."
    assert "not a real date" in found[(10, "Start Date")]
    assert "loop" in found[(11, "Line Manager")]
    assert "loop" in found[(12, "Line Manager")]
    assert [r.email for r in plan.rows] == ["ok@oak.example"]

    before = StaffMember.objects.count()
    with pytest.raises(StaffImportInvalid):
        apply(content, admin_user)
    assert StaffMember.objects.count() == before


def test_xlsx_staff_file(academy, admin_user):
    rows = [
        ["First Name", "Last Name", "Email", "Job Title", "Post Type", "Academy", "Start Date"],
        ["Sam", "Patel", "s.patel@oak.example", "Teacher", "Teacher", 140101,
         datetime.date(2021, 9, 1)],
    ]  # fmt: skip

    result = apply(xlsx_bytes(rows, date_columns=[6]), admin_user, filename="staff.xlsx")

    assert result.created == 1
    sam = StaffMember.objects.get(email="s.patel@oak.example")
    assert sam.academy == academy
    assert sam.started_on == datetime.date(2021, 9, 1)


def test_header_only_file_rejected(academy):
    plan = plan_for(academy, csv_bytes([HEADER]))

    assert plan.file_error is not None
    assert "no data rows" in plan.file_error


def test_query_count_bounded(academy, admin_user, django_assert_max_num_queries):
    rows = [HEADER]
    for i in range(200):
        manager = "" if i == 0 else "staff0@oak.example"
        rows.append(
            ["", f"First{i}", f"Last{i}", f"staff{i}@oak.example", "Teacher", "Teacher",
             academy.urn, manager, ""]
        )  # fmt: skip

    with django_assert_max_num_queries(20):
        result = apply(csv_bytes(rows), admin_user)

    assert result.created == 200


# The pages ------------------------------------------------------------------------------------


def upload(client, content, filename="staff.csv"):
    file = io.BytesIO(content)
    file.name = filename
    return client.post(reverse("staff:import"), {"file": file})


def test_page_flow_upload_preview_confirm(
    client, academy, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    assert client.get(reverse("staff:import")).status_code == 200
    bad = csv_bytes(
        [HEADER, ["", "Sam", "Patel", "bad", "Teacher", "Teacher", academy.urn, "", ""]]
    )

    response = upload(client, bad)
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert "&#x27;bad&#x27; is not a valid email address" in preview.content.decode()
    assert client.post(response["Location"] + "confirm/").status_code == 400
    assert not StaffMember.objects.filter(last_name="Patel").exists()

    response = upload(client, staff_file(academy))
    preview = client.get(response["Location"])
    assert "Import 4 new and 0 updated staff" in preview.content.decode()
    assert not StaffMember.objects.filter(last_name="Patel").exists()
    # The import task is queued when the run commits, and runs eagerly here.
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(response["Location"] + "confirm/")
    assert confirmed["Location"].startswith("/staff/import/runs/")
    done = client.get(confirmed["Location"])
    assert "4 staff created" in done.content.decode()
    assert StaffMember.objects.filter(last_name="Patel").exists()


def test_page_rejects_other_file_types(client, academy, admin_user):
    client.force_login(admin_user)

    response = upload(client, b"%PDF-1.4", filename="staff.pdf")

    assert response.status_code == 400
    assert "is not a CSV or Excel file" in response.content.decode()


@pytest.mark.parametrize("role", [Role.HEADTEACHER, Role.TRUST_HR])
def test_non_administrators_get_404(client, academy, role):
    target = academy if role == Role.HEADTEACHER else None
    client.force_login(user_with_role(role, target))

    assert client.get(reverse("staff:import")).status_code == 404
    assert upload(client, staff_file(academy)).status_code == 404


def test_head_of_year_gets_404(client, academy):
    year = academy.year_groups.get(nc_year=9)
    client.force_login(user_with_role(Role.HEAD_OF_YEAR, year))

    assert client.get(reverse("staff:import")).status_code == 404


# The command ------------------------------------------------------------------------------------


def test_command_preview_then_confirm(academy, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_bytes(staff_file(academy))

    out = io.StringIO()
    call_command("import_staff", str(path), stdout=out)
    assert "4 new staff" in out.getvalue()
    assert not StaffMember.objects.filter(last_name="Patel").exists()

    out = io.StringIO()
    call_command("import_staff", str(path), "--confirm", stdout=out)
    assert "4 staff created" in out.getvalue()

    out = io.StringIO()
    call_command("import_staff", str(path), "--confirm", stdout=out)
    assert "0 staff created, 0 updated, 4 unchanged" in out.getvalue()


def test_command_errors_fail(academy, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_bytes(
        csv_bytes([HEADER, ["", "Sam", "Patel", "bad", "Teacher", "Teacher", "140101", "", ""]])
    )
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 row has errors"):
        call_command("import_staff", str(path), "--confirm", stdout=out)

    assert "line 2, Email" in out.getvalue()
