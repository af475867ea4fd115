"""Named personas for access tests: two academies and one user per role.

build_personas() creates Oak Academy and Elm Academy in one trust, each
with Years 9 and 10 and a tutor group per year (Oak has two in Year 9),
named pupils in every tutor group, and a staff member with a login for
each role. Every persona except the Elm teacher works at Oak. Call it
inside a test that has database access and a frozen clock in the
2026/27 academic year (TODAY).
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.models import User

from academies.models import AcademicYear, Academy, Department, Phase, TutorGroup, YearGroup
from pupils.models import Enrolment, Pupil, SenStatus
from staff.models import PostType, Role, StaffMember

from .factories import (
    AcademicYearFactory,
    AcademyFactory,
    PupilFactory,
    StaffFactory,
    TrustFactory,
    TutorGroupFactory,
    UserFactory,
    YearGroupFactory,
    grant,
)

TODAY = datetime.datetime(2026, 12, 4, 10, 0)

# Tutor group name -> (academy key, year) for every tutor group built.
TUTOR_GROUPS = {
    "9A": ("oak", 9),
    "9B": ("oak", 9),
    "10A": ("oak", 10),
    "9E": ("elm", 9),
    "10E": ("elm", 10),
}

# Pupil key -> (tutor group, legal forename, legal surname). The names
# are distinctive so a test can look for them in a response body.
PUPILS = {
    "oak9a_obrien": ("9A", "Aoife", "O'Brien"),
    "oak9a_smithjones": ("9A", "Noah", "Smith-Jones"),
    "oak9b_patel": ("9B", "Isla", "Patel"),
    "oak10a_taylor": ("10A", "Oliver", "Taylor"),
    "elm9e_ashdown": ("9E", "Elowen", "Ashdown"),
    "elm10e_birchwood": ("10E", "Ezra", "Birchwood"),
}

# Persona key -> (role, scope target key or None for the trust).
ROLE_PERSONAS: dict[str, tuple[str | None, str | None]] = {
    "trust_leader": (Role.TRUST_LEADER, None),
    "trust_admin": (Role.TRUST_ADMIN, None),
    "trust_hr": (Role.TRUST_HR, None),
    "trustee": (Role.TRUSTEE, None),
    "headteacher": (Role.HEADTEACHER, "oak"),
    "academy_leader": (Role.ACADEMY_LEADER, "oak"),
    "attendance_officer": (Role.ATTENDANCE_OFFICER, "oak"),
    "safeguarding_lead": (Role.SAFEGUARDING_LEAD, "oak"),
    "head_of_year": (Role.HEAD_OF_YEAR, "oak9"),
    "tutor": (Role.TUTOR, "9A"),
    "teacher": (Role.TEACHER, "oak"),
    "elm_teacher": (Role.TEACHER, "elm"),
    "staff": (None, None),
}


@dataclass
class Personas:
    academies: dict[str, Academy] = field(default_factory=dict)
    year_groups: dict[str, YearGroup] = field(default_factory=dict)
    tutor_groups: dict[str, TutorGroup] = field(default_factory=dict)
    pupils: dict[str, Pupil] = field(default_factory=dict)
    staff: dict[str, StaffMember] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    academic_year: AcademicYear | None = None

    def pupils_of(self, *academy_keys: str) -> set[int]:
        wanted = {self.academies[k].pk for k in academy_keys}
        return {
            p.pk
            for key, p in self.pupils.items()
            if self.tutor_groups[PUPILS[key][0]].academy_id in wanted
        }


def build_personas() -> Personas:
    """Create the two academies, their groups and pupils, and one user per role."""
    world = Personas()
    trust = TrustFactory()
    world.academic_year = AcademicYearFactory(trust=trust, start_year=2026)
    world.academies["oak"] = AcademyFactory(
        trust=trust, name="Oak Academy", short_name="Oak", phase=Phase.SECONDARY
    )
    world.academies["elm"] = AcademyFactory(
        trust=trust, name="Elm Academy", short_name="Elm", phase=Phase.SECONDARY
    )
    for key, academy in world.academies.items():
        for year in (9, 10):
            world.year_groups[f"{key}{year}"] = YearGroupFactory(academy=academy, nc_year=year)
        Department.objects.create(academy=academy, name=f"English at {academy.short_name}")

    for name, (academy_key, year) in TUTOR_GROUPS.items():
        world.tutor_groups[name] = TutorGroupFactory(
            academy=world.academies[academy_key],
            academic_year=world.academic_year,
            year_group=world.year_groups[f"{academy_key}{year}"],
            name=name,
        )

    for key, (group_name, forename, surname) in PUPILS.items():
        group = world.tutor_groups[group_name]
        pupil = PupilFactory(legal_forename=forename, legal_surname=surname)
        Enrolment.objects.create(
            pupil=pupil,
            academy=group.academy,
            academic_year=group.academic_year,
            year_group=group.year_group,
            tutor_group=group,
            start_date=group.academic_year.start_date,
        )
        world.pupils[key] = pupil
    obrien = world.pupils["oak9a_obrien"]
    obrien.sen_status = SenStatus.SEN_SUPPORT
    obrien.eal = True
    obrien.looked_after = True
    obrien.save()

    for key, (role, target_key) in ROLE_PERSONAS.items():
        academy = world.academies["elm" if key.startswith("elm") else "oak"]
        staff = StaffFactory(
            user=UserFactory(username=key.replace("_", ".")),
            academy=None if target_key is None and role else academy,
            first_name=key.replace("_", " ").title().replace(" ", ""),
            last_name="Persona",
            post_type=PostType.TEACHER,
        )
        world.staff[key] = staff
        world.users[key] = staff.user
        if role is None:
            continue
        target = None
        if target_key in world.academies:
            target = world.academies[target_key]
        elif target_key in world.year_groups:
            target = world.year_groups[target_key]
        elif target_key in world.tutor_groups:
            target = world.tutor_groups[target_key]
        grant(staff, role, target)
        if role == Role.SAFEGUARDING_LEAD:
            grant(staff, Role.ACADEMY_LEADER, target)
        if role == Role.TUTOR:
            group = world.tutor_groups[str(target_key)]
            group.tutor = staff
            group.save()
    return world
