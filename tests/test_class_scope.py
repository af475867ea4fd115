"""A teacher's scope covers the pupils of the classes they teach."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from progress.models import ClassMembership, GradeScale, Qualification, Subject, TeachingGroup
from pupils.selectors import visible_pupils
from trust.access import scope_for

from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


def make_class(world, name: str = "9Ma1") -> TeachingGroup:
    trust = world.academies["oak"].trust
    scale, _ = GradeScale.objects.get_or_create(
        trust=trust, code="gcse", defaults={"name": "GCSE 9 to 1", "kind": "gcse"}
    )
    subject, _ = Subject.objects.get_or_create(
        trust=trust, code="maths", defaults={"name": "Mathematics"}
    )
    qualification, _ = Qualification.objects.get_or_create(
        subject=subject, name="GCSE Mathematics", defaults={"scale": scale, "element": "maths"}
    )
    group = TeachingGroup.objects.create(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        qualification=qualification,
        name=name,
    )
    group.teachers.add(world.staff["teacher"])
    return group


def test_teacher_sees_class_pupils(world):
    teacher = world.users["teacher"]
    pupil = world.pupils["oak9a_obrien"]
    assert pupil.pk not in set(visible_pupils(teacher).values_list("pk", flat=True))

    group = make_class(world)
    ClassMembership.objects.create(group=group, pupil=pupil, start_date=datetime.date(2026, 9, 1))
    teacher = type(teacher).objects.get(pk=teacher.pk)

    assert group.pk in scope_for(teacher).teaching_group_ids
    assert pupil.pk in set(visible_pupils(teacher).values_list("pk", flat=True))


def test_ended_membership_leaves_scope(world):
    group = make_class(world)
    pupil = world.pupils["oak9a_obrien"]
    ClassMembership.objects.create(
        group=group,
        pupil=pupil,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2026, 11, 30),
    )
    teacher = world.users["teacher"]

    assert pupil.pk not in set(visible_pupils(teacher).values_list("pk", flat=True))
    assert pupil.pk in set(
        visible_pupils(teacher, datetime.date(2026, 11, 2)).values_list("pk", flat=True)
    )


def test_class_profile_reachable(world, client):
    group = make_class(world)
    pupil = world.pupils["oak9a_obrien"]
    ClassMembership.objects.create(group=group, pupil=pupil, start_date=datetime.date(2026, 9, 1))
    client.force_login(world.users["teacher"])

    assert client.get(f"/pupils/{pupil.pk}/").status_code == 200
    assert client.get(f"/pupils/{world.pupils['elm9e_ashdown'].pk}/").status_code == 404


def test_scope_reads_groups_once(world):
    make_class(world)
    make_class(world, "9Ma2").teachers.add(world.staff["tutor"])
    tutor = world.users["tutor"]

    with CaptureQueriesContext(connection) as queries:
        scope = scope_for(tutor)

    assert len(scope.teaching_group_ids) == 1
    assert len(scope.tutor_group_ids) == 1
    assert len(queries) == 3
