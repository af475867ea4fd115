"""A small two-academy trust for the API tests: Oak and Elm, with users for
every role whose access the tests check."""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.models import User

from academies.models import AcademicYear, Academy, Phase, Trust, TutorGroup, YearGroup
from pupils.models import Enrolment, FsmPeriod, Pupil, SenNeed, SenStatus
from staff.models import PostType, Role, StaffMember

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

# A Tuesday in the autumn term of 2026/27; tests freeze the clock here.
TODAY = datetime.date(2026, 11, 10)

ROLE_NAMES = [
    "trust_leader",
    "trust_admin",
    "trustee",
    "oak_head",
    "oak_hoy9",
    "oak_tutor9a",
    "oak_teacher",
    "oak_no_role",
]


@dataclass
class ApiWorld:
    trust: Trust
    year: AcademicYear
    academies: dict[str, Academy] = field(default_factory=dict)
    year_groups: dict[str, YearGroup] = field(default_factory=dict)
    tutor_groups: dict[str, TutorGroup] = field(default_factory=dict)
    pupils: dict[str, Pupil] = field(default_factory=dict)
    staff: dict[str, StaffMember] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def make_staff(
    world: ApiWorld, key: str, academy: Academy | None, post_type: str = PostType.TEACHER
) -> StaffMember:
    """Create a staff member with a login named after `key`."""
    staff = StaffFactory(
        user=UserFactory(username=key.replace("_", ".")),
        academy=academy,
        first_name=key.split("_")[-1].capitalize(),
        last_name=f"{key.split('_')[0].capitalize()}son",
        email=f"{key}@trust.example",
        post_type=post_type,
    )
    world.staff[key] = staff
    if staff.user:
        world.users[key] = staff.user
    return staff


def enrol(world: ApiWorld, key: str, group: TutorGroup, **pupil_fields: object) -> Pupil:
    pupil = PupilFactory(**pupil_fields)
    EnrolmentFactory(pupil=pupil, tutor_group=group, start_date=datetime.date(2026, 9, 2))
    world.pupils[key] = pupil
    return pupil


def build_world() -> ApiWorld:
    """Build Oak (Years 9 and 10) and Elm (Year 9), their pupils and staff.

    Pupil names carry their academy ("Oakpupil", "Elmpupil") so a test can
    look for any Elm name in a response body.
    """
    trust = TrustFactory()
    year = AcademicYearFactory(trust=trust, start_year=2026)
    world = ApiWorld(trust=trust, year=year)

    oak = AcademyFactory(trust=trust, name="Oak Academy", phase=Phase.SECONDARY)
    elm = AcademyFactory(trust=trust, name="Elm Academy", phase=Phase.ALL_THROUGH)
    world.academies = {"oak": oak, "elm": elm}

    oak9 = YearGroupFactory(academy=oak, nc_year=9)
    oak10 = YearGroupFactory(academy=oak, nc_year=10)
    elm9 = YearGroupFactory(academy=elm, nc_year=9)
    world.year_groups = {"oak9": oak9, "oak10": oak10, "elm9": elm9}

    def tutor_group(name: str, academy: Academy, year_group: YearGroup) -> TutorGroup:
        return TutorGroupFactory(
            academy=academy, academic_year=year, year_group=year_group, name=name
        )

    world.tutor_groups = {
        "oak9a": tutor_group("9A", oak, oak9),
        "oak9b": tutor_group("9B", oak, oak9),
        "oak10a": tutor_group("10A", oak, oak10),
        "elm9e": tutor_group("9E", elm, elm9),
    }
    groups = world.tutor_groups

    enrol(
        world,
        "oak9a_1",
        groups["oak9a"],
        legal_forename="Amara",
        legal_surname="Oakpupil",
        preferred_forename="Amy",
        sen_status=SenStatus.SEN_SUPPORT,
        looked_after=True,
        medical_notes="Carries an inhaler.",
        safeguarding_notes="Social worker: see file.",
    )
    enrol(world, "oak9a_2", groups["oak9a"], legal_forename="Zoë", legal_surname="O’Brien-Oakpupil")
    enrol(world, "oak9b_1", groups["oak9b"], legal_forename="Ben", legal_surname="Oakpupil")
    enrol(world, "oak10a_1", groups["oak10a"], legal_forename="Cara", legal_surname="Oakpupil")
    enrol(world, "elm9e_1", groups["elm9e"], legal_forename="Dev", legal_surname="Elmpupil")
    enrol(
        world,
        "elm9e_2",
        groups["elm9e"],
        legal_forename="Eve",
        legal_surname="Elmpupil",
        sen_status=SenStatus.EHC_PLAN,
    )
    SenNeed.objects.create(pupil=world.pupils["oak9a_1"], need="SPLD", rank=1, notes="Dyslexia")
    FsmPeriod.objects.create(pupil=world.pupils["oak9a_2"], start_date=datetime.date(2024, 1, 8))

    leader = make_staff(world, "trust_leader", None, PostType.LEADERSHIP)
    grant(leader, Role.TRUST_LEADER)
    admin = make_staff(world, "trust_admin", None, PostType.SUPPORT)
    grant(admin, Role.TRUST_ADMIN)
    trustee = make_staff(world, "trustee", None, PostType.SUPPORT)
    grant(trustee, Role.TRUSTEE)

    head = make_staff(world, "oak_head", oak, PostType.LEADERSHIP)
    grant(head, Role.HEADTEACHER, oak)
    hoy = make_staff(world, "oak_hoy9", oak, PostType.PASTORAL)
    grant(hoy, Role.HEAD_OF_YEAR, oak9)
    hoy.line_manager = head
    hoy.save()
    tutor = make_staff(world, "oak_tutor9a", oak)
    grant(tutor, Role.TUTOR, groups["oak9a"])
    groups["oak9a"].tutor = tutor
    groups["oak9a"].save()
    teacher = make_staff(world, "oak_teacher", oak)
    grant(teacher, Role.TEACHER, oak)
    make_staff(world, "oak_no_role", oak, PostType.SUPPORT)

    elm_head = make_staff(world, "elm_head", elm, PostType.LEADERSHIP)
    grant(elm_head, Role.HEADTEACHER, elm)
    elm_teacher = make_staff(world, "elm_teacher", elm)
    grant(elm_teacher, Role.TEACHER, elm)
    return world


def grant_safeguarding(staff: StaffMember, academy: Academy) -> None:
    grant(staff, Role.SAFEGUARDING_LEAD, academy)


def add_pupils(group: TutorGroup, count: int, *, with_fsm: bool = True) -> list[Pupil]:
    """Enrol `count` more pupils in `group`, each with an FSM period."""
    pupils = []
    for _ in range(count):
        pupil = PupilFactory()
        Enrolment.objects.create(
            pupil=pupil,
            academy=group.academy,
            academic_year=group.academic_year,
            year_group=group.year_group,
            tutor_group=group,
            start_date=datetime.date(2026, 9, 2),
        )
        if with_fsm:
            FsmPeriod.objects.create(pupil=pupil, start_date=datetime.date(2025, 1, 6))
        pupils.append(pupil)
    return pupils
