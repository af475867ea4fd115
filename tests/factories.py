"""factory-boy factories for the trust structure, pupils and staff."""

import datetime

import factory
from django.contrib.auth import get_user_model

from academies.models import AcademicYear, Academy, Phase, Trust, TutorGroup, YearGroup
from pupils.models import Enrolment, Pupil
from pupils.upn import check_letter
from staff.models import PostType, Role, RoleAssignment, ScopeKind, StaffMember


def make_upn(serial: int, la: str = "801", estab: str = "2000", year: str = "24") -> str:
    body = f"{la}{estab}{year}{serial:03d}"
    return check_letter(body) + body


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trust

    name = "Severn Valley Learning Trust"


class AcademyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Academy

    trust = factory.SubFactory(TrustFactory)
    name = factory.Sequence(lambda n: f"Academy {n}")
    urn = factory.Sequence(lambda n: f"{140000 + n:06d}")
    dfe_number = factory.Sequence(lambda n: f"{800 + n % 100:03d}/{4000 + n:04d}")
    phase = Phase.SECONDARY
    age_range_low = 11
    age_range_high = 18
    joined_trust_on = datetime.date(2015, 9, 1)


class AcademicYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AcademicYear
        django_get_or_create = ("trust", "start_year")

    trust = factory.SubFactory(TrustFactory)
    start_year = 2026
    start_date = factory.LazyAttribute(lambda o: datetime.date(o.start_year, 9, 1))
    end_date = factory.LazyAttribute(lambda o: datetime.date(o.start_year + 1, 8, 31))


class YearGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = YearGroup
        django_get_or_create = ("academy", "nc_year")

    academy = factory.SubFactory(AcademyFactory)
    nc_year = 9


class TutorGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TutorGroup

    academy = factory.SubFactory(AcademyFactory)
    academic_year = factory.SubFactory(
        AcademicYearFactory, trust=factory.SelfAttribute("..academy.trust")
    )
    year_group = factory.SubFactory(YearGroupFactory, academy=factory.SelfAttribute("..academy"))
    name = factory.Sequence(lambda n: f"9{chr(65 + n % 26)}{n}")


class PupilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pupil

    upn = factory.Sequence(lambda n: make_upn(n % 1000, year=f"{10 + n // 1000:02d}"))
    legal_forename = factory.Sequence(lambda n: f"Forename{n}")
    legal_surname = factory.Sequence(lambda n: f"Surname{n}")
    date_of_birth = datetime.date(2012, 10, 1)
    sex = "F"


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    pupil = factory.SubFactory(PupilFactory)
    tutor_group = factory.SubFactory(TutorGroupFactory)
    academy = factory.SelfAttribute("tutor_group.academy")
    academic_year = factory.SelfAttribute("tutor_group.academic_year")
    year_group = factory.SelfAttribute("tutor_group.year_group")
    start_date = factory.LazyAttribute(lambda o: o.academic_year.start_date)
    end_date = None


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("password")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    user = factory.SubFactory(UserFactory)
    academy = factory.SubFactory(AcademyFactory)
    first_name = factory.Sequence(lambda n: f"Staff{n}")
    last_name = "Member"
    email = factory.Sequence(lambda n: f"staff{n}@trust.example")
    job_title = "Teacher of English"
    post_type = PostType.TEACHER


def grant(staff: StaffMember, role: str, target: object = None) -> RoleAssignment:
    """Give `staff` a role over `target`: None for the trust, or an academy,
    year group or tutor group."""
    fields: dict[str, object] = {"scope": ScopeKind.TRUST}
    if isinstance(target, Academy):
        fields = {"scope": ScopeKind.ACADEMY, "academy": target}
    elif isinstance(target, YearGroup):
        fields = {"scope": ScopeKind.YEAR_GROUP, "year_group": target}
    elif isinstance(target, TutorGroup):
        fields = {"scope": ScopeKind.TUTOR_GROUP, "tutor_group": target}
    return RoleAssignment.objects.create(staff=staff, role=Role(role), **fields)
