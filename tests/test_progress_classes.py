"""Class scope, the class pages, a pupil's progress page and assessment points."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from progress.access import can_enter_grades, manageable_year_groups, visible_teaching_groups
from progress.models import AssessmentPoint, TeachingGroup
from progress.services import assessment_point_create

from .factories import AcademicYearFactory, EnrolmentFactory
from .factories_progress import (
    AssessmentPointFactory,
    ClassMembershipFactory,
    GradeEntryFactory,
    QualificationFactory,
    SubjectFactory,
    TargetGradeFactory,
    TeachingGroupFactory,
    grade_of,
)
from .personas import ROLE_PERSONAS, TODAY, build_personas

pytestmark = pytest.mark.django_db

SEPT = datetime.date(2026, 9, 1)


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        world = build_personas()
        trust = world.academies["oak"].trust
        maths = QualificationFactory(
            subject=SubjectFactory(trust=trust, name="Mathematics"), name="GCSE Mathematics"
        )
        history = QualificationFactory(
            subject=SubjectFactory(trust=trust, name="History"), name="GCSE History"
        )
        world.qualifications = {"maths": maths, "history": history}  # type: ignore[attr-defined]
        world.classes = {  # type: ignore[attr-defined]
            "9Ma1": make_group(world, "9Ma1", "oak", 9, maths, teacher="teacher"),
            "9Hi1": make_group(world, "9Hi1", "oak", 9, history, teacher="tutor"),
            "10Ma1": make_group(world, "10Ma1", "oak", 10, maths, teacher="tutor"),
            "9EMa": make_group(world, "9EMa", "elm", 9, maths, teacher="elm_teacher"),
        }
        for key in ("oak9a_obrien", "oak9a_smithjones", "oak9b_patel"):
            ClassMembershipFactory(group=world.classes["9Ma1"], pupil=world.pupils[key])
        ClassMembershipFactory(group=world.classes["9Hi1"], pupil=world.pupils["oak9a_obrien"])
        ClassMembershipFactory(group=world.classes["10Ma1"], pupil=world.pupils["oak10a_taylor"])
        ClassMembershipFactory(group=world.classes["9EMa"], pupil=world.pupils["elm9e_ashdown"])
        yield world


def make_group(world, name, academy_key, year, qualification, *, teacher):
    return TeachingGroupFactory(
        academy=world.academies[academy_key],
        academic_year=world.academic_year,
        year_group=world.year_groups[f"{academy_key}{year}"],
        qualification=qualification,
        name=name,
        teachers=[world.staff[teacher]],
    )


def fresh(user):
    """Return the user without the scope cached on the object."""
    return type(user).objects.get(pk=user.pk)


# Persona -> the classes they see.
VISIBLE = {
    "trust_leader": {"9Ma1", "9Hi1", "10Ma1", "9EMa"},
    "trust_admin": {"9Ma1", "9Hi1", "10Ma1", "9EMa"},
    "trust_hr": set(),
    "trustee": set(),
    "headteacher": {"9Ma1", "9Hi1", "10Ma1"},
    "academy_leader": {"9Ma1", "9Hi1", "10Ma1"},
    "attendance_officer": {"9Ma1", "9Hi1", "10Ma1"},
    "safeguarding_lead": {"9Ma1", "9Hi1", "10Ma1"},
    "head_of_year": {"9Ma1", "9Hi1"},
    "tutor": {"9Hi1", "10Ma1"},
    "teacher": {"9Ma1"},
    "elm_teacher": {"9EMa"},
    "staff": set(),
}

# Persona -> the classes whose grades they enter.
ENTERS = {
    "trust_leader": set(),
    "trust_admin": set(),
    "trust_hr": set(),
    "trustee": set(),
    "headteacher": {"9Ma1", "9Hi1", "10Ma1"},
    "academy_leader": {"9Ma1", "9Hi1", "10Ma1"},
    "attendance_officer": set(),
    "safeguarding_lead": {"9Ma1", "9Hi1", "10Ma1"},
    "head_of_year": {"9Ma1", "9Hi1"},
    "tutor": {"9Hi1", "10Ma1"},
    "teacher": {"9Ma1"},
    "elm_teacher": {"9EMa"},
    "staff": set(),
}


def test_matrix_covers_every_persona():
    assert set(VISIBLE) == set(ROLE_PERSONAS)
    assert set(ENTERS) == set(ROLE_PERSONAS)


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_visible_classes_by_role(world, persona):
    with time_machine.travel(TODAY, tick=False):
        user = fresh(world.users[persona])
        names = set(visible_teaching_groups(user).values_list("name", flat=True))

    assert names == VISIBLE[persona]


@pytest.mark.parametrize("persona", sorted(ENTERS))
def test_grade_entry_rights_by_role(world, persona):
    with time_machine.travel(TODAY, tick=False):
        user = fresh(world.users[persona])
        entering = {name for name, g in world.classes.items() if can_enter_grades(user, g)}

    assert entering == ENTERS[persona]


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_class_page_answers_by_scope(world, client, persona):
    client.force_login(world.users[persona])
    with time_machine.travel(TODAY, tick=False):
        for name, group in world.classes.items():
            response = client.get(f"/progress/classes/{group.pk}/")

            assert response.status_code == (200 if name in VISIBLE[persona] else 404), name


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_class_list_matches_detail_pages(world, client, persona):
    client.force_login(world.users[persona])
    with time_machine.travel(TODAY, tick=False):
        body = client.get("/progress/classes/").content.decode()

    listed = {name for name, g in world.classes.items() if f"/progress/classes/{g.pk}/" in body}
    assert listed == VISIBLE[persona]


def test_teacher_class_page_lists_only_class_pupils(world, client):
    client.force_login(world.users["teacher"])
    with time_machine.travel(TODAY, tick=False):
        body = client.get(f"/progress/classes/{world.classes['9Ma1'].pk}/").content.decode()

    assert "O&#x27;Brien" in body
    assert "Smith-Jones" in body
    assert "Patel" in body
    assert "Taylor" not in body
    assert "Ashdown" not in body


def test_class_past_year_hidden_from_teacher(world):
    with time_machine.travel(TODAY, tick=False):
        last_year = AcademicYearFactory(trust=world.academies["oak"].trust, start_year=2025)
        old = TeachingGroupFactory(
            academy=world.academies["oak"],
            academic_year=last_year,
            year_group=world.year_groups["oak9"],
            qualification=world.qualifications["maths"],
            name="8Ma1",
            teachers=[world.staff["teacher"]],
        )
        user = fresh(world.users["teacher"])

        assert not visible_teaching_groups(user).filter(pk=old.pk).exists()
        assert not can_enter_grades(user, old)


def test_teacher_pupil_progress_scope(world, client):
    client.force_login(world.users["teacher"])
    with time_machine.travel(TODAY, tick=False):
        own = client.get(f"/progress/pupils/{world.pupils['oak9b_patel'].pk}/")
        other_year = client.get(f"/progress/pupils/{world.pupils['oak10a_taylor'].pk}/")
        elm = client.get(f"/progress/pupils/{world.pupils['elm9e_ashdown'].pk}/")

    assert own.status_code == 200
    assert other_year.status_code == 404
    assert elm.status_code == 404
    assert b"Ashdown" not in elm.content


def test_class_list_filters(world, client):
    client.force_login(world.users["headteacher"])
    history = world.qualifications["history"].subject
    with time_machine.travel(TODAY, tick=False):
        everything = client.get("/progress/classes/").content.decode()
        year10 = client.get("/progress/classes/?year=10").content.decode()
        by_subject = client.get(f"/progress/classes/?subject={history.pk}").content.decode()
        bad = client.get("/progress/classes/?year=x9")

    assert "9Ma1" in everything
    assert "10Ma1" in everything
    assert "9EMa" not in everything
    assert "10Ma1" in year10
    assert "9Ma1" not in year10
    assert "9Hi1" in by_subject
    assert "9Ma1" not in by_subject
    assert bad.status_code == 400
    assert "x9" in bad.content.decode()


def test_class_list_links_latest_point(world, client):
    group = world.classes["9Ma1"]
    with time_machine.travel(TODAY, tick=False):
        AssessmentPointFactory(group=group, name="Autumn 1", date=datetime.date(2026, 10, 16))
        autumn2 = AssessmentPointFactory(
            group=group, name="Autumn 2", date=datetime.date(2026, 12, 1)
        )
        AssessmentPointFactory(group=group, name="Spring 1", date=datetime.date(2027, 2, 12))
        client.force_login(world.users["teacher"])
        body = client.get("/progress/classes/").content.decode()

    assert f"/progress/classes/{group.pk}/grades/{autumn2.pk}/" in body
    assert "Spring 1" not in body


def add_pupils(world, group: TeachingGroup, count: int) -> list:
    pupils = []
    for _ in range(count):
        enrolment = EnrolmentFactory(tutor_group=world.tutor_groups["9A"])
        ClassMembershipFactory(group=group, pupil=enrolment.pupil)
        pupils.append(enrolment.pupil)
    return pupils


def grade_everyone(group: TeachingGroup, points, labels) -> None:
    scale = group.qualification.scale
    for membership in group.memberships.all():
        TargetGradeFactory(
            pupil=membership.pupil,
            qualification=group.qualification,
            academic_year=group.academic_year,
            grade=grade_of(scale, "6"),
        )
        for point, label in zip(points, labels, strict=True):
            GradeEntryFactory(
                pupil=membership.pupil,
                assessment_point=point,
                qualification=group.qualification,
                grade=grade_of(scale, label),
            )


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_class_pages_queries_constant(world, client):
    small = world.classes["9Ma1"]
    large = make_group(world, "9Ma2", "oak", 9, world.qualifications["maths"], teacher="teacher")
    client.force_login(world.users["head_of_year"])
    with time_machine.travel(TODAY, tick=False):
        add_pupils(world, small, 2)
        add_pupils(world, large, 30)
        points = [
            AssessmentPointFactory(group=small, name="Autumn 1", date=datetime.date(2026, 10, 16)),
            AssessmentPointFactory(group=small, name="Autumn 2", date=datetime.date(2026, 12, 1)),
        ]
        grade_everyone(small, points, ["5", "6-"])
        grade_everyone(large, points, ["7", "4"])
        assert small.memberships.count() == 5
        client.get("/progress/classes/")

        detail_small = page_queries(client, f"/progress/classes/{small.pk}/")
        detail_large = page_queries(client, f"/progress/classes/{large.pk}/")
        grid_small = page_queries(client, f"/progress/classes/{small.pk}/grades/{points[1].pk}/")
        grid_large = page_queries(client, f"/progress/classes/{large.pk}/grades/{points[1].pk}/")
        list_before = page_queries(client, "/progress/classes/")
        for index in range(3, 9):
            make_group(
                world, f"9Ma{index}", "oak", 9, world.qualifications["maths"], teacher="tutor"
            )
        list_after = page_queries(client, "/progress/classes/")

    assert detail_small == detail_large
    assert grid_small == grid_large
    assert list_before == list_after


def test_class_page_shows_status_and_change(world, client):
    group = world.classes["9Ma1"]
    obrien = world.pupils["oak9a_obrien"]
    scale = group.qualification.scale
    with time_machine.travel(TODAY, tick=False):
        first = AssessmentPointFactory(
            group=group, name="Autumn 1", date=datetime.date(2026, 10, 16)
        )
        second = AssessmentPointFactory(
            group=group, name="Autumn 2", date=datetime.date(2026, 12, 1)
        )
        TargetGradeFactory(
            pupil=obrien,
            qualification=group.qualification,
            academic_year=world.academic_year,
            grade=grade_of(scale, "6"),
        )
        for point, label in ((first, "6"), (second, "5")):
            GradeEntryFactory(
                pupil=obrien,
                assessment_point=point,
                qualification=group.qualification,
                grade=grade_of(scale, label),
            )
        client.force_login(world.users["teacher"])
        body = client.get(f"/progress/classes/{group.pk}/").content.decode()

    row = body[body.index(f'id="pupil-{obrien.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Well below TMG" in row
    assert "▼▼" in row
    assert "down 1 grade" in row
    assert "No TMG" in body
    assert "1 below TMG" in body


def test_pupil_progress_gaps_and_no_tmg(world, client):
    group = world.classes["9Ma1"]
    pupil = world.pupils["oak9a_obrien"]
    scale = group.qualification.scale
    with time_machine.travel(TODAY, tick=False):
        points = [
            AssessmentPointFactory(group=group, name=name, date=day)
            for name, day in (
                ("Autumn 1", datetime.date(2026, 10, 9)),
                ("Half term check", datetime.date(2026, 11, 6)),
                ("Autumn 2", datetime.date(2026, 12, 1)),
            )
        ]
        TargetGradeFactory(
            pupil=pupil,
            qualification=group.qualification,
            academic_year=world.academic_year,
            grade=grade_of(scale, "6"),
        )
        for point, label in ((points[0], "6"), (points[2], "6-")):
            GradeEntryFactory(
                pupil=pupil,
                assessment_point=point,
                qualification=group.qualification,
                grade=grade_of(scale, label),
            )
        GradeEntryFactory(
            pupil=pupil,
            assessment_point=points[2],
            qualification=world.qualifications["history"],
            grade=grade_of(scale, "4"),
        )
        client.force_login(world.users["head_of_year"])
        body = client.get(f"/progress/pupils/{pupil.pk}/").content.decode()

    maths = body[body.index('<th scope="row">GCSE Mathematics') :]
    maths = maths[: maths.index("</tr>")]
    history = body[body.index('<th scope="row">GCSE History') :]
    history = history[: history.index("</tr>")]
    assert maths.count("no grade") == 1
    assert "On TMG" in maths
    assert "Below TMG" in maths
    assert "down 0.33 grades" in maths
    assert "0</span>" not in maths
    assert "No TMG" in history
    assert history.count("no grade") == 2


def test_pupil_page_links_class_subject_gaps(world, client):
    pupil = world.pupils["oak9b_patel"]
    client.force_login(world.users["teacher"])
    with time_machine.travel(TODAY, tick=False):
        AssessmentPointFactory(group=world.classes["9Ma1"], date=datetime.date(2026, 11, 20))
        body = client.get(f"/progress/pupils/{pupil.pk}/").content.decode()

    assert "GCSE Mathematics" in body
    assert "No TMG" in body
    assert "no grade" in body


# Assessment points ------------------------------------------------------------------------


def point_fields(world, **changes):
    fields = {
        "actor": world.users["head_of_year"],
        "academy_id": world.academies["oak"].pk,
        "year_group_id": world.year_groups["oak9"].pk,
        "academic_year_id": world.academic_year.pk,
        "name": "Autumn 2",
        "date": datetime.date(2026, 12, 1),
        "kind": AssessmentPoint.Kind.WORKING_AT,
    }
    fields.update(changes)
    return fields


def test_point_create_saves(world):
    with time_machine.travel(TODAY, tick=False):
        point = assessment_point_create(**point_fields(world, name="  Autumn   2 "))

    assert point.name == "Autumn 2"
    assert point.year_group == world.year_groups["oak9"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"date": datetime.date(2027, 9, 1)}, "date", "01/09/2027 is outside 2026/27"),
        ({"kind": "guess"}, "kind", "Kind 'guess' is not known"),
        ({"name": " "}, "name", "Name is blank"),
        ({"name": "x" * 61}, "name", "Name has 61 characters"),
    ],
)
def test_point_create_rejects(world, changes, field, words):
    with time_machine.travel(TODAY, tick=False), pytest.raises(ValidationError) as caught:
        assessment_point_create(**point_fields(world, **changes))

    assert words in caught.value.message_dict[field][0]
    assert not AssessmentPoint.objects.exists()


def test_point_create_rejects_duplicate(world):
    with time_machine.travel(TODAY, tick=False):
        assessment_point_create(**point_fields(world))
        with pytest.raises(ValidationError) as caught:
            assessment_point_create(**point_fields(world, name="autumn 2"))

    assert "already used" in caught.value.message_dict["name"][0]
    assert AssessmentPoint.objects.count() == 1


def test_point_create_rejects_other_academy_year_group(world):
    with time_machine.travel(TODAY, tick=False), pytest.raises(ValidationError) as caught:
        assessment_point_create(**point_fields(world, year_group_id=world.year_groups["elm9"].pk))

    assert "year_group" in caught.value.message_dict


def test_point_managers_by_role(world):
    with time_machine.travel(TODAY, tick=False):
        hoy = set(manageable_year_groups(fresh(world.users["head_of_year"])))
        head = set(manageable_year_groups(fresh(world.users["headteacher"])))
        teacher = set(manageable_year_groups(fresh(world.users["teacher"])))

    assert hoy == {world.year_groups["oak9"]}
    assert head == {world.year_groups["oak9"], world.year_groups["oak10"]}
    assert teacher == set()


def test_points_page_creates_for_head_of_year(world, client):
    client.force_login(world.users["head_of_year"])
    data = {
        "year_group": world.year_groups["oak9"].pk,
        "academic_year": world.academic_year.pk,
        "name": "Autumn 2",
        "date": "01/12/2026",
        "kind": "working_at",
    }
    with time_machine.travel(TODAY, tick=False):
        created = client.post("/progress/assessment-points/", data, follow=True)
        other_year = client.post(
            "/progress/assessment-points/",
            {**data, "year_group": world.year_groups["oak10"].pk, "name": "Other"},
        )
        outside = client.post(
            "/progress/assessment-points/", {**data, "name": "Late", "date": "02/09/2027"}
        )

    assert created.status_code == 200
    assert "Assessment point &#x27;Autumn 2&#x27; created for Year 9 on 01/12/2026" in (
        created.content.decode()
    )
    assert other_year.status_code == 400
    assert "not one whose assessment points you manage" in other_year.content.decode()
    assert outside.status_code == 400
    assert "02/09/2027 is outside 2026/27" in outside.content.decode()
    assert list(AssessmentPoint.objects.values_list("name", flat=True)) == ["Autumn 2"]


def test_points_page_teacher_reads_only(world, client):
    point = AssessmentPointFactory(group=world.classes["9Ma1"], name="Autumn 2")
    AssessmentPointFactory(group=world.classes["9EMa"], name="Elm drop")
    client.force_login(world.users["teacher"])
    with time_machine.travel(TODAY, tick=False):
        page = client.get("/progress/assessment-points/")
        post = client.post(
            "/progress/assessment-points/",
            {"year_group": point.year_group_id, "name": "Mine", "date": "01/12/2026"},
        )

    body = page.content.decode()
    assert "Autumn 2" in body
    assert "Elm drop" not in body
    assert "Create an assessment point" not in body
    assert post.status_code == 403
    assert AssessmentPoint.objects.count() == 2


def test_my_classes_links_grid(world, client):
    group = world.classes["9Ma1"]
    point = AssessmentPointFactory(group=group, name="Autumn 2", date=datetime.date(2026, 12, 1))
    client.force_login(world.users["teacher"])
    with time_machine.travel(TODAY, tick=False):
        body = client.get("/my-classes/").content.decode()

    assert f"/progress/classes/{group.pk}/" in body
    assert f"/progress/classes/{group.pk}/grades/{point.pk}/" in body
    assert "Enter grades for Autumn 2" in body
    assert "9Hi1" not in body


def test_profile_links_progress(world, client):
    pupil = world.pupils["oak9a_obrien"]
    client.force_login(world.users["teacher"])
    with time_machine.travel(TODAY, tick=False):
        body = client.get(f"/pupils/{pupil.pk}/").content.decode()

    assert f"/progress/pupils/{pupil.pk}/" in body
