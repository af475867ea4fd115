"""The grades import: the preview's row errors, all-or-nothing writes,
re-imports, who may import what, and the pages through the task."""

import datetime
import io
import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from progress.imports import ImportInvalid, build_plan, grades_import_apply
from progress.models import AssessmentPoint, GradeEntry
from progress.tasks import GRADES_KIND, apply_grade_import
from pupils.models import Enrolment, ImportRun
from trust.models import AuditEvent

from .factories import PupilFactory, make_upn
from .factories_imports import csv_bytes
from .factories_progress import (
    AssessmentPointFactory,
    ClassMembershipFactory,
    QualificationFactory,
    TeachingGroupFactory,
)
from .personas import TODAY, build_personas

pytestmark = [pytest.mark.django_db]

HEADER = ["UPN", "Subject", "Assessment point", "Grade"]
POINT_DATE = datetime.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def upload_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


@pytest.fixture
def world():
    """Personas with GCSE maths and English, an autumn point per year group,
    and the Oak teacher's Year 9 maths class of O'Brien and Smith-Jones."""
    world = build_personas()
    trust = world.academies["oak"].trust
    world.maths = QualificationFactory(subject__trust=trust, subject__name="Mathematics")
    world.english = QualificationFactory(subject__trust=trust, subject__name="English language")
    world.points = {}
    for key, year_group in world.year_groups.items():
        world.points[key] = AssessmentPointFactory(
            academy=year_group.academy,
            academic_year=world.academic_year,
            year_group=year_group,
            name="Autumn 2026",
            date=POINT_DATE,
        )
    group = TeachingGroupFactory(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        qualification=world.maths,
        name="9Ma1",
        teachers=[world.staff["teacher"]],
    )
    for key in ("oak9a_obrien", "oak9a_smithjones"):
        ClassMembershipFactory(group=group, pupil=world.pupils[key])
    return world


def upn_of(world, key: str) -> str:
    return world.pupils[key].upn


def plan_for(user, rows) -> object:
    return build_plan(user=user, content=csv_bytes([HEADER, *rows]), filename="grades.csv")


def errors_by_line(plan) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for error in plan.errors:
        found.setdefault(error.line, []).append(error.reason)
    return found


# The preview ----------------------------------------------------------------------


def test_every_bad_row_kind_listed_with_line(world):
    late = PupilFactory()
    Enrolment.objects.create(
        pupil=late,
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        start_date=datetime.date(2026, 11, 25),
    )
    obrien = upn_of(world, "oak9a_obrien")
    rows = [
        [obrien, "GCSE Mathematics", "Autumn 2026", "6"],
        [make_upn(990), "GCSE Mathematics", "Autumn 2026", "6"],
        [upn_of(world, "elm9e_ashdown"), "GCSE Mathematics", "Autumn 2026", "6"],
        [obrien, "Astrophysics", "Autumn 2026", "6"],
        [upn_of(world, "oak9a_smithjones"), "GCSE Mathematics", "Winter 2030", "6"],
        [upn_of(world, "oak9b_patel"), "GCSE Mathematics", "Autumn 2026", "6++"],
        [late.upn, "GCSE Mathematics", "Autumn 2026", "5"],
        [obrien, "gcse mathematics", "autumn 2026", "7"],
        ["ABC", "GCSE Mathematics", "Autumn 2026", "6"],
        [upn_of(world, "oak10a_taylor"), "GCSE Mathematics", "Autumn 2026", ""],
    ]

    plan = plan_for(world.users["headteacher"], rows)
    errors = errors_by_line(plan)

    assert not plan.is_valid
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "not a pupil you can enter grades for" in errors[3][0]
    assert "not a pupil you can enter grades for" in errors[4][0]
    assert "'Astrophysics' is not a qualification" in errors[5][0]
    assert "GCSE Mathematics" in errors[5][0]
    assert "'Winter 2030' was not found" in errors[6][0]
    assert "Autumn 2026" in errors[6][0]
    assert "Grade '6++' is not on" in errors[7][0]
    assert "allowed: 9, 9-" in errors[7][0]
    assert "was not enrolled in" in errors[8][0]
    assert "on 20/11/2026" in errors[8][0]
    assert "Duplicate of line 2" in errors[9][0]
    assert "has 3 characters; a UPN has 13" in errors[10][0]
    assert "Grade is missing" in errors[11][0]
    assert [row.line for row in plan.rows] == [2]


def test_bad_file_writes_nothing(world):
    rows = [
        [upn_of(world, "oak9a_obrien"), "GCSE Mathematics", "Autumn 2026", "6"],
        [upn_of(world, "oak9b_patel"), "GCSE Mathematics", "Autumn 2026", "10"],
    ]
    content = csv_bytes([HEADER, *rows])

    with pytest.raises(ImportInvalid):
        grades_import_apply(user=world.users["headteacher"], content=content, filename="grades.csv")

    assert GradeEntry.objects.count() == 0


def test_subject_matched_by_name_or_code(world):
    obrien = upn_of(world, "oak9a_obrien")
    rows = [
        [obrien, "mathematics", "Autumn 2026", "6"],
        [obrien, "English language", "Autumn 2026", "5+"],
    ]

    plan = plan_for(world.users["headteacher"], rows)

    assert plan.is_valid, plan.errors
    assert [row.qualification for row in plan.rows] == [world.maths, world.english]
    assert plan.rows[1].grade is not None
    assert plan.rows[1].grade.label == "5+"


def test_fine_grade_rejected_at_final_point(world):
    AssessmentPoint.objects.filter(pk=world.points["oak9"].pk).update(
        kind=AssessmentPoint.Kind.FINAL
    )
    rows = [[upn_of(world, "oak9a_obrien"), "GCSE Mathematics", "Autumn 2026", "6+"]]

    plan = plan_for(world.users["headteacher"], rows)

    assert "final result must be a whole grade" in plan.errors[0].reason


def test_missing_column_rejects_file(world):
    content = csv_bytes([["UPN", "Subject", "Grade"], [upn_of(world, "oak9a_obrien"), "x", "6"]])

    plan = build_plan(user=world.users["headteacher"], content=content, filename="grades.csv")

    assert plan.file_error is not None
    assert "Assessment point" in plan.file_error


# Writing --------------------------------------------------------------------------


def valid_rows(world) -> list[list[str]]:
    return [
        [upn_of(world, "oak9a_obrien"), "GCSE Mathematics", "Autumn 2026", "6"],
        [upn_of(world, "oak9a_smithjones"), "GCSE Mathematics", "Autumn 2026", "Absent"],
        [upn_of(world, "oak10a_taylor"), "GCSE English language", "Autumn 2026", "4-"],
    ]


def apply_rows(world, rows, user_key: str = "headteacher"):
    return grades_import_apply(
        user=world.users[user_key],
        content=csv_bytes([HEADER, *rows]),
        filename="grades.csv",
    )


def test_valid_file_writes_entries(world):
    result = apply_rows(world, valid_rows(world))

    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    entry = GradeEntry.objects.get(pupil=world.pupils["oak10a_taylor"])
    assert entry.grade is not None
    assert entry.grade.label == "4-"
    assert entry.qualification == world.english
    assert entry.assessment_point == world.points["oak10"]
    assert entry.year_group == world.year_groups["oak10"]
    assert entry.academy == world.academies["oak"]
    assert entry.academic_year == world.academic_year
    assert entry.entered_by == world.users["headteacher"]


def test_import_audited_per_entry(world):
    apply_rows(world, valid_rows(world))

    events = AuditEvent.objects.filter(model="progress.GradeEntry")
    assert events.count() == 3
    event = events.get(pupil_ref=world.pupils["oak9a_obrien"].pk)
    assert event.actor == world.users["headteacher"]
    assert event.action == AuditEvent.Action.CREATE
    assert event.changes == {"grade": [None, "6"]}
    assert event.reason == "Grade import: grades.csv"


def test_reimport_changes_nothing(world):
    apply_rows(world, valid_rows(world))
    before = list(GradeEntry.objects.order_by("pk").values_list("pk", "grade_id", "version"))
    audits = AuditEvent.objects.count()

    result = apply_rows(world, valid_rows(world))

    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    after = list(GradeEntry.objects.order_by("pk").values_list("pk", "grade_id", "version"))
    assert after == before
    assert AuditEvent.objects.count() == audits


def test_changed_grade_updates_entry(world):
    apply_rows(world, valid_rows(world))
    rows = valid_rows(world)
    rows[0][3] = "7"

    result = apply_rows(world, rows)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    entry = GradeEntry.objects.get(pupil=world.pupils["oak9a_obrien"])
    assert entry.grade is not None
    assert entry.grade.label == "7"
    assert entry.version == 2
    assert entry.changed_by == world.users["headteacher"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, object_id=str(entry.pk))
    assert event.changes == {"grade": ["6", "7"]}


def test_plan_queries_do_not_grow_with_rows(world):
    extra = []
    for index in range(20):
        pupil = PupilFactory()
        Enrolment.objects.create(
            pupil=pupil,
            academy=world.academies["oak"],
            academic_year=world.academic_year,
            year_group=world.year_groups["oak9"],
            start_date=world.academic_year.start_date,
        )
        extra.append([pupil.upn, "GCSE Mathematics", "Autumn 2026", str(index % 9 + 1)])
    user = world.users["headteacher"]
    plan_for(user, extra[:1])

    with CaptureQueriesContext(connection) as few:
        plan_for(user, extra[:2])
    with CaptureQueriesContext(connection) as many:
        plan_for(user, extra)

    assert len(many) == len(few)


# Who may import -------------------------------------------------------------------


def test_teacher_limited_to_class_pupils(world):
    rows = [
        [upn_of(world, "oak9a_obrien"), "GCSE Mathematics", "Autumn 2026", "6"],
        [upn_of(world, "oak9b_patel"), "GCSE Mathematics", "Autumn 2026", "6"],
        [upn_of(world, "oak9a_smithjones"), "GCSE English language", "Autumn 2026", "6"],
    ]

    plan = plan_for(world.users["teacher"], rows)
    errors = errors_by_line(plan)

    assert sorted(errors) == [3, 4]
    assert "not a pupil you can enter grades for" in errors[3][0]
    assert "You do not teach" in errors[4][0]


def test_head_of_year_limited_to_year(world):
    rows = [
        [upn_of(world, "oak9b_patel"), "GCSE Mathematics", "Autumn 2026", "6"],
        [upn_of(world, "oak10a_taylor"), "GCSE Mathematics", "Autumn 2026", "6"],
    ]

    plan = plan_for(world.users["head_of_year"], rows)
    errors = errors_by_line(plan)

    assert sorted(errors) == [3]
    assert "not a pupil you can enter grades for" in errors[3][0]


def test_leader_limited_to_academy(world):
    rows = [[upn_of(world, "elm10e_birchwood"), "GCSE Mathematics", "Autumn 2026", "6"]]

    plan = plan_for(world.users["academy_leader"], rows)

    assert "not a pupil you can enter grades for" in plan.errors[0].reason


@pytest.mark.parametrize("persona", ["tutor", "elm_teacher", "attendance_officer", "staff"])
def test_upload_page_hidden_from_others(client, world, persona):
    client.force_login(world.users[persona])

    response = client.get(reverse("progress:grade-import"))

    assert response.status_code == 404


# The pages and the task -------------------------------------------------------------


def upload(client, user, rows):
    client.force_login(user)
    file = io.BytesIO(csv_bytes([HEADER, *rows]))
    file.name = "grades.csv"
    return client.post(reverse("progress:grade-import"), {"file": file})


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_preview_page_lists_errors(client, world):
    rows = [*valid_rows(world), [upn_of(world, "oak9b_patel"), "GCSE Mathematics", "Nope", "6"]]
    response = upload(client, world.users["headteacher"], rows)
    assert response.status_code == 302

    preview = client.get(response["Location"])
    text = page_text(preview)

    assert preview.status_code == 200
    assert "Nothing can be imported until the file is corrected" in text
    assert "5 Assessment point Nope" in text
    confirm = client.post(response["Location"] + "confirm/")
    assert confirm.status_code == 400
    assert not ImportRun.objects.exists()
    assert GradeEntry.objects.count() == 0


def test_confirm_queues_run_and_task_applies(client, world):
    response = upload(client, world.users["teacher"], valid_rows(world)[:2])
    preview = client.get(response["Location"])
    assert "Import 2 new and 0 changed grades" in page_text(preview)

    confirm = client.post(response["Location"] + "confirm/")

    run = ImportRun.objects.get()
    assert confirm["Location"] == reverse("progress:grade-import-run", args=[run.pk])
    assert run.kind == GRADES_KIND
    assert run.status == ImportRun.Status.QUEUED
    assert GradeEntry.objects.count() == 0

    outcome = apply_grade_import.apply(args=[run.pk, TODAY.date().isoformat()])

    assert outcome.get() == ImportRun.Status.DONE
    run.refresh_from_db()
    assert (run.created_count, run.updated_count) == (2, 0)
    assert GradeEntry.objects.count() == 2
    page = client.get(reverse("progress:grade-import-run", args=[run.pk]))
    assert "Import finished: 2 grades added, 0 changed, 0 unchanged." in page_text(page)
    upload_page = client.get(reverse("progress:grade-import"))
    assert reverse("progress:grade-import-run", args=[run.pk]) in upload_page.content.decode()


def test_task_fails_run_when_file_became_invalid(client, world):
    response = upload(client, world.users["headteacher"], valid_rows(world))
    client.get(response["Location"])
    client.post(response["Location"] + "confirm/")
    run = ImportRun.objects.get()
    AssessmentPoint.objects.filter(pk=world.points["oak10"].pk).update(name="Renamed")

    apply_grade_import.apply(args=[run.pk, TODAY.date().isoformat()])

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "line 4" in run.error_message
    assert GradeEntry.objects.count() == 0


def test_run_page_hidden_from_other_users(client, world):
    response = upload(client, world.users["headteacher"], valid_rows(world))
    client.get(response["Location"])
    client.post(response["Location"] + "confirm/")
    run = ImportRun.objects.get()
    client.force_login(world.users["teacher"])

    page = client.get(reverse("progress:grade-import-run", args=[run.pk]))

    assert page.status_code == 404


@pytest.mark.parametrize("persona", ["teacher", "head_of_year", "headteacher"])
def test_upload_page_links_open(client, world, persona):
    client.force_login(world.users[persona])
    page = client.get(reverse("progress:grade-import"))
    links = [reverse("progress:class-list"), reverse("progress:assessment-points")]

    for link in links:
        assert f'href="{link}"' in page.content.decode()
        assert client.get(link).status_code == 200, link
