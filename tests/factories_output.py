"""Data for the PDF and export tests: a trust of two academies in the 2026/27
year, pupils placed in year and tutor groups, and users holding each role."""

import datetime
from dataclasses import dataclass

import factory
from django.contrib.auth.models import User

from academies.models import Academy, TutorGroup, YearGroup
from pupils.models import Contact, FsmPeriod, Pupil, SenNeed
from staff.models import Role

from .factories import (
    AcademicYearFactory,
    AcademyFactory,
    EnrolmentFactory,
    PupilFactory,
    StaffFactory,
    TrustFactory,
    TutorGroupFactory,
    UserFactory,
    YearGroupFactory,
    grant,
)

# A school day in the autumn term of 2026/27, which the tests travel to.
TODAY = datetime.date(2026, 11, 10)
NOW = datetime.datetime(2026, 11, 10, 11, 0, tzinfo=datetime.UTC)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    pupil = factory.SubFactory(PupilFactory)
    name = factory.Sequence(lambda n: f"Parent {n}")
    relationship = "Mother"
    phone = "07700 900123"
    email = factory.Sequence(lambda n: f"parent{n}@example.com")
    address = "1 High Street\nShrewsbury\nSY1 1AA"


class SenNeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SenNeed

    pupil = factory.SubFactory(PupilFactory)
    need = "SLCN"
    rank = 1
    notes = "Uses a visual timetable."


class FsmPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FsmPeriod

    pupil = factory.SubFactory(PupilFactory)
    start_date = datetime.date(2024, 9, 1)
    end_date = None


@dataclass
class School:
    """One academy with Year 9 and Year 10 and a tutor group in each."""

    academy: Academy
    year9: YearGroup
    year10: YearGroup
    group9: TutorGroup
    group10: TutorGroup

    def enrol(self, pupil: Pupil | None = None, *, year: int = 9, **fields: object) -> Pupil:
        """Put `pupil` (a new one by default) on roll in this academy's Year `year`."""
        pupil = pupil or PupilFactory(**fields)
        group = self.group9 if year == 9 else self.group10
        EnrolmentFactory(pupil=pupil, tutor_group=group)
        return pupil


def school(name: str, trust: object | None = None) -> School:
    trust = trust or TrustFactory()
    academy = AcademyFactory(trust=trust, name=name)
    year = AcademicYearFactory(trust=trust, start_year=2026)
    year9 = YearGroupFactory(academy=academy, nc_year=9)
    year10 = YearGroupFactory(academy=academy, nc_year=10)
    return School(
        academy=academy,
        year9=year9,
        year10=year10,
        group9=TutorGroupFactory(academy=academy, academic_year=year, year_group=year9, name="9A"),
        group10=TutorGroupFactory(
            academy=academy, academic_year=year, year_group=year10, name="10A"
        ),
    )


def two_schools() -> tuple[School, School]:
    trust = TrustFactory(name="Severn Valley Learning Trust")
    return school("Oak Academy", trust), school("Elm Academy", trust)


def user_with_role(role: str, target: object = None, *, academy: Academy | None = None) -> User:
    """Return a user whose staff record has `role` over `target`, or over the trust
    when `target` is None."""
    staff = StaffFactory(academy=academy, user=UserFactory())
    grant(staff, role, target)
    return staff.user


def head_of_year(group: YearGroup) -> User:
    return user_with_role(Role.HEAD_OF_YEAR, group, academy=group.academy)


def trustee() -> User:
    return user_with_role(Role.TRUSTEE, None)


def safeguarding_lead(academy: Academy) -> User:
    """Return an academy leader who also holds the safeguarding permission there."""
    user = user_with_role(Role.ACADEMY_LEADER, academy, academy=academy)
    grant(user.staff_member, Role.SAFEGUARDING_LEAD, academy)
    return user
