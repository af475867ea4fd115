"""The scope engine: what each role assignment lets a user see."""

import datetime

import pytest
import time_machine

from academies.selectors import visible_academies, visible_tutor_groups, visible_year_groups
from pupils.selectors import can_see_sensitive, visible_pupils
from staff.models import Role
from staff.selectors import visible_staff

from .factories import (
    AcademyFactory,
    EnrolmentFactory,
    StaffFactory,
    TrustFactory,
    TutorGroupFactory,
    YearGroupFactory,
    grant,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    trust = TrustFactory()
    oak = AcademyFactory(trust=trust, name="Oak Academy")
    elm = AcademyFactory(trust=trust, name="Elm Academy")
    oak9 = YearGroupFactory(academy=oak, nc_year=9)
    oak10 = YearGroupFactory(academy=oak, nc_year=10)
    elm9 = YearGroupFactory(academy=elm, nc_year=9)
    groups = {
        "9A": TutorGroupFactory(academy=oak, year_group=oak9, name="9A"),
        "9B": TutorGroupFactory(academy=oak, year_group=oak9, name="9B"),
        "10A": TutorGroupFactory(academy=oak, year_group=oak10, name="10A"),
        "E9": TutorGroupFactory(academy=elm, year_group=elm9, name="9E"),
    }
    pupils = {name: EnrolmentFactory(tutor_group=group).pupil for name, group in groups.items()}
    return {"oak": oak, "elm": elm, "oak9": oak9, "groups": groups, "pupils": pupils}


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 12, 4, 10, 0), tick=False):
        yield


def names(queryset):
    return {p.pk for p in queryset}


def test_head_of_year_sees_own_year_only(world):
    hoy = StaffFactory(academy=world["oak"])
    grant(hoy, Role.HEAD_OF_YEAR, world["oak9"])
    pupils = world["pupils"]

    assert names(visible_pupils(hoy.user)) == {pupils["9A"].pk, pupils["9B"].pk}
    assert list(visible_year_groups(hoy.user)) == [world["oak9"]]
    assert set(visible_academies(hoy.user)) == {world["oak"]}


def test_tutor_named_on_group_sees_group(world):
    tutor = StaffFactory(academy=world["oak"])
    group = world["groups"]["9B"]
    group.tutor = tutor
    group.save()

    assert names(visible_pupils(tutor.user)) == {world["pupils"]["9B"].pk}
    assert list(visible_tutor_groups(tutor.user)) == [group]


def test_headteacher_sees_whole_academy(world):
    head = StaffFactory(academy=world["oak"])
    grant(head, Role.HEADTEACHER, world["oak"])
    pupils = world["pupils"]

    assert names(visible_pupils(head.user)) == {
        pupils["9A"].pk,
        pupils["9B"].pk,
        pupils["10A"].pk,
    }
    assert pupils["E9"] not in visible_pupils(head.user)


def test_trust_leader_sees_everything(world):
    leader = StaffFactory(academy=None)
    grant(leader, Role.TRUST_LEADER)

    assert visible_pupils(leader.user).count() == 4
    assert visible_academies(leader.user).count() == 2


def test_trustee_sees_academies_but_no_pupil(world):
    trustee = StaffFactory(academy=None)
    grant(trustee, Role.TRUSTEE)

    assert visible_pupils(trustee.user).count() == 0
    assert visible_academies(trustee.user).count() == 2
    assert visible_year_groups(trustee.user).count() == 0
    assert list(visible_staff(trustee.user)) == [trustee]


def test_trust_hr_sees_staff_not_pupils(world):
    hr = StaffFactory(academy=None)
    grant(hr, Role.TRUST_HR)
    other = StaffFactory(academy=world["elm"])

    assert visible_pupils(hr.user).count() == 0
    assert other in visible_staff(hr.user)


def test_staff_without_role_sees_own_academy_staff(world):
    me = StaffFactory(academy=world["oak"])
    colleague = StaffFactory(academy=world["oak"])
    elsewhere = StaffFactory(academy=world["elm"])

    assert {colleague, me} <= set(visible_staff(me.user))
    assert elsewhere not in visible_staff(me.user)
    assert visible_pupils(me.user).count() == 0


def test_year_group_scope_follows_date(world):
    hoy = StaffFactory(academy=world["oak"])
    grant(hoy, Role.HEAD_OF_YEAR, world["oak9"])
    pupil = world["pupils"]["9A"]
    enrolment = pupil.enrolments.get()
    enrolment.end_date = datetime.date(2026, 11, 30)
    enrolment.save()

    assert pupil not in visible_pupils(hoy.user)
    assert pupil in visible_pupils(hoy.user, on=datetime.date(2026, 11, 30))


def test_leaver_stays_visible_to_academy_leader(world):
    leader = StaffFactory(academy=world["oak"])
    grant(leader, Role.ACADEMY_LEADER, world["oak"])
    pupil = world["pupils"]["10A"]
    enrolment = pupil.enrolments.get()
    enrolment.end_date = datetime.date(2026, 10, 1)
    enrolment.save()

    assert pupil in visible_pupils(leader.user)


def test_safeguarding_permission_per_academy(world):
    dsl = StaffFactory(academy=world["oak"])
    grant(dsl, Role.ACADEMY_LEADER, world["oak"])
    grant(dsl, Role.SAFEGUARDING_LEAD, world["oak"])
    plain = StaffFactory(academy=world["oak"])
    grant(plain, Role.ACADEMY_LEADER, world["oak"])

    assert can_see_sensitive(dsl.user, world["pupils"]["9A"])
    assert not can_see_sensitive(dsl.user, world["pupils"]["E9"])
    assert not can_see_sensitive(plain.user, world["pupils"]["9A"])


def test_expired_assignment_grants_nothing(world):
    head = StaffFactory(academy=world["oak"])
    assignment = grant(head, Role.HEADTEACHER, world["oak"])
    assignment.ends_on = datetime.date(2026, 8, 31)
    assignment.save()

    assert visible_pupils(head.user).count() == 0


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert visible_pupils(AnonymousUser()).count() == 0
    assert visible_academies(AnonymousUser()).count() == 0
