"""Staff for the demo trust: posts, line management, tutors, departments,
role assignments and the demo logins."""

import datetime
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from academies.models import Department, TutorGroup
from staff.models import PostType, Role, RoleAssignment, ScopeKind, StaffMember

from .names import (
    NAME_GROUPS,
    SECONDARY_DEPARTMENTS,
    SIXTH_FORM_DEPARTMENTS,
    STAFF_TITLES_FEMALE,
    STAFF_TITLES_MALE,
)
from .structure import BATCH_SIZE, AcademyPlan, DemoContext

DEMO_PASSWORD = "trust-demo"
EMAIL_DOMAIN = "severnvalley.org.uk"
# Staff names lean further towards the English group than pupils' names.
STAFF_GROUP_WEIGHTS = {"english": 70, "south_asian": 12, "african_caribbean": 9}


@dataclass
class PlannedStaff:
    """A staff member before saving, with what their roles and logins need."""

    member: StaffMember
    manager: "PlannedStaff | None" = None
    roles: list[tuple[str, object]] = field(default_factory=list)
    login: str = ""

    @property
    def depth(self) -> int:
        return 0 if self.manager is None else self.manager.depth + 1


@dataclass
class DemoLogin:
    username: str
    role_label: str
    planned: PlannedStaff


@dataclass
class StaffPlan:
    people: list[PlannedStaff] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    logins: list[DemoLogin] = field(default_factory=list)


def ascii_fold(text: str) -> str:
    """Return lowercase ASCII letters and digits of `text` ("Ní Bhriain" gives "nibhriain")."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded.lower() if c.isascii() and c.isalnum())


class StaffFactory:
    """Builder of unsaved staff members with names, unique e-mail addresses
    and start dates."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.emails: dict[str, int] = {}
        self.groups = [g for g in NAME_GROUPS if g.key in STAFF_GROUP_WEIGHTS]
        self.weights = [STAFF_GROUP_WEIGHTS[g.key] for g in self.groups]

    def _email(self, first: str, last: str) -> str:
        base = f"{ascii_fold(first)}.{ascii_fold(last)}"
        count = self.emails.get(base, 0) + 1
        self.emails[base] = count
        local = base if count == 1 else f"{base}{count}"
        return f"{local}@{EMAIL_DOMAIN}"

    def make(
        self,
        plan: AcademyPlan | None,
        job_title: str,
        post_type: str,
        manager: PlannedStaff | None,
    ) -> PlannedStaff:
        rng = self.rng
        group = rng.choices(self.groups, weights=self.weights)[0]
        female = rng.random() < 0.7
        first = rng.choice(group.female if female else group.male)
        last = rng.choice(group.surnames)
        titles = STAFF_TITLES_FEMALE if female else STAFF_TITLES_MALE
        earliest = plan.academy.joined_trust_on if plan else datetime.date(2012, 9, 1)
        span = max(1, (self.ctx.today - earliest).days)
        member = StaffMember(
            academy=plan.academy if plan else None,
            title=rng.choice(titles) if post_type != PostType.SUPPORT else "",
            first_name=first,
            last_name=last,
            email=self._email(first, last),
            job_title=job_title,
            post_type=post_type,
            started_on=earliest + datetime.timedelta(days=rng.randrange(span)),
        )
        return PlannedStaff(member=member, manager=manager)


def _central_team(factory: StaffFactory, staff: StaffPlan) -> dict[str, PlannedStaff]:
    def add(title: str, post: str, manager: PlannedStaff | None, *roles: str) -> PlannedStaff:
        person = factory.make(None, title, post, manager)
        person.roles = [(role, None) for role in roles]
        staff.people.append(person)
        return person

    ceo = add("Chief executive officer", PostType.LEADERSHIP, None, Role.TRUST_LEADER)
    director = add("Director of education", PostType.LEADERSHIP, ceo, Role.TRUST_LEADER)
    add("Chief financial officer", PostType.LEADERSHIP, ceo)
    admin = add("Data and systems manager", PostType.SUPPORT, ceo, Role.TRUST_ADMIN)
    hr = add("Head of HR", PostType.SUPPORT, ceo, Role.TRUST_HR)
    add("HR officer", PostType.SUPPORT, hr, Role.TRUST_HR)
    add("Trust safeguarding lead", PostType.LEADERSHIP, director, Role.SAFEGUARDING_LEAD)
    chair = add("Chair of trustees", PostType.LEADERSHIP, None, Role.TRUSTEE)
    for _ in range(6):
        add("Trustee", PostType.LEADERSHIP, None, Role.TRUSTEE)
    staff.logins += [
        DemoLogin("trust.leader", "Trust leader (CEO)", ceo),
        DemoLogin("trust.admin", "Trust administrator", admin),
        DemoLogin("trust.hr", "Trust HR", hr),
        DemoLogin("trustee", "Trustee (chair)", chair),
    ]
    return {"ceo": ceo, "director": director}


def _academy_staff(
    factory: StaffFactory,
    staff: StaffPlan,
    plan: AcademyPlan,
    line_manager: PlannedStaff,
    is_flagship: bool,
) -> None:
    academy = plan.academy
    people: list[PlannedStaff] = []

    def add(
        title: str, post: str, manager: PlannedStaff | None, *roles: tuple[str, object]
    ) -> PlannedStaff:
        person = factory.make(plan, title, post, manager)
        person.roles = list(roles)
        people.append(person)
        return person

    head = add("Headteacher", PostType.LEADERSHIP, line_manager, (Role.HEADTEACHER, academy))
    deputy_count = 2 if plan.is_secondary else 1
    deputies = [
        add("Deputy headteacher", PostType.LEADERSHIP, head, (Role.ACADEMY_LEADER, academy))
        for _ in range(deputy_count)
    ]
    # The first deputy is the designated safeguarding lead.
    deputies[0].roles.append((Role.SAFEGUARDING_LEAD, academy))
    assistant = add(
        "Assistant headteacher", PostType.LEADERSHIP, deputies[-1], (Role.ACADEMY_LEADER, academy)
    )
    senco = add("SENCo", PostType.TEACHER, deputies[-1], (Role.TEACHER, academy))
    business = add("School business manager", PostType.SUPPORT, head)
    attendance = add(
        "Attendance officer", PostType.SUPPORT, business, (Role.ATTENDANCE_OFFICER, academy)
    )

    departments: dict[str, PlannedStaff] = {}
    if plan.is_secondary:
        names = list(SECONDARY_DEPARTMENTS)
        if plan.academy.age_range_high >= 18:
            names += SIXTH_FORM_DEPARTMENTS
        for index, name in enumerate(names):
            departments[name] = add(
                f"Head of {name}",
                PostType.TEACHER,
                deputies[index % len(deputies)],
                (Role.TEACHER, academy),
            )
        staff.departments += [
            Department(academy=academy, name=name, head=leader.member)
            for name, leader in departments.items()
        ]

    heads_of_year: dict[int, PlannedStaff] = {}
    for nc_year in plan.nc_years:
        if nc_year >= 7:
            heads_of_year[nc_year] = add(
                f"Head of Year {nc_year}",
                PostType.PASTORAL,
                deputies[nc_year % len(deputies)],
                (Role.HEAD_OF_YEAR, plan.year_groups[nc_year]),
            )

    # One tutor per tutor group and at least one teacher without a group,
    # with more teachers where needed for about one to every 17 pupils.
    tutor_groups: list[TutorGroup] = [g for nc in plan.nc_years for g in plan.tutor_groups[nc]]
    pupils = sum(plan.cohort_sizes.values())
    teacher_count = max(len(tutor_groups) + 1, pupils // 17)
    department_names = list(departments)
    teachers: list[PlannedStaff] = []
    for index in range(teacher_count):
        group = tutor_groups[index] if index < len(tutor_groups) else None
        if not department_names or (group is not None and group.year_group.nc_year <= 6):
            teacher = add("Class teacher", PostType.TEACHER, assistant, (Role.TEACHER, academy))
        else:
            subject = department_names[index % len(department_names)]
            teacher = add(
                f"Teacher of {subject}",
                PostType.TEACHER,
                departments[subject],
                (Role.TEACHER, academy),
            )
        if group is not None:
            group.tutor = teacher.member
            teacher.roles.append((Role.TUTOR, group))
            last_year = plan.last_year_groups.get(group.year_group.nc_year - 1, [])
            for old in last_year:
                if old.name[-1] == group.name[-1]:
                    old.tutor = teacher.member
        teachers.append(teacher)

    teaching_assistants = [
        add("Teaching assistant", PostType.TEACHING_ASSISTANT, senco)
        for _ in range(pupils // 40 + 1)
    ]
    support_titles = (
        "Site manager",
        "Office manager",
        "Receptionist",
        "Finance officer",
        "IT technician",
        "Cleaner",
        "Midday supervisor",
    )
    for index in range(max(2, pupils // 50)):
        add(support_titles[index % len(support_titles)], PostType.SUPPORT, business)

    if is_flagship:
        _flagship_logins(staff, plan, people, head, deputies, attendance, heads_of_year)
        _teacher_logins(staff, plan, teachers)
        staff.logins.append(DemoLogin("staff", "Staff member, no role", teaching_assistants[0]))
    staff.people += people


def _flagship_logins(
    staff: StaffPlan,
    plan: AcademyPlan,
    people: list[PlannedStaff],
    head: PlannedStaff,
    deputies: list[PlannedStaff],
    attendance: PlannedStaff,
    heads_of_year: dict[int, PlannedStaff],
) -> None:
    staff.logins += [
        DemoLogin("head", "Headteacher", head),
        DemoLogin("academy.leader", "Academy leader", deputies[1]),
        DemoLogin("attendance", "Attendance officer", attendance),
        DemoLogin("safeguarding", "Academy leader and safeguarding lead", deputies[0]),
        DemoLogin("hoy", "Head of Year 9", heads_of_year[9]),
    ]


def _teacher_logins(staff: StaffPlan, plan: AcademyPlan, teachers: list[PlannedStaff]) -> None:
    """Pick the `tutor` login (Year 9 tutor, tutor role only) and the
    `teacher` login (a teacher who also tutors a group in another year, as
    most secondary teachers do, so My classes has pupils to show)."""
    year_nine_tutor = plan.tutor_groups[9][0].tutor
    tutor = next(t for t in teachers if t.member is year_nine_tutor)
    tutor.roles = [role for role in tutor.roles if role[0] == Role.TUTOR]
    other_groups = [
        groups[0]
        for year, groups in sorted(plan.tutor_groups.items())
        if year != 9 and groups and groups[0].tutor is not None
    ]
    teacher_group = next((g for g in other_groups if g.year_group.nc_year == 10), other_groups[0])
    teacher = next(t for t in teachers if t.member is teacher_group.tutor)
    staff.logins += [
        DemoLogin("tutor", f"Tutor of {plan.tutor_groups[9][0].name}", tutor),
        DemoLogin("teacher", f"Teacher and tutor of {teacher_group.name}", teacher),
    ]


def plan_staff(ctx: DemoContext) -> StaffPlan:
    """Plan every staff member; tutors are set on the planned tutor groups."""
    factory = StaffFactory(ctx)
    staff = StaffPlan()
    central = _central_team(factory, staff)
    for index, plan in enumerate(ctx.plans):
        line_manager = central["ceo"] if index == 0 else central["director"]
        _academy_staff(factory, staff, plan, line_manager, is_flagship=index == 0)
    return staff


def save_staff(ctx: DemoContext, staff: StaffPlan) -> None:
    """Write demo users, staff members level by level (so each line manager
    has an id before their reports), and departments."""
    password = make_password(DEMO_PASSWORD)
    user_model = get_user_model()
    users = []
    for login in staff.logins:
        member = login.planned.member
        user = user_model(
            username=login.username,
            password=password,
            first_name=member.first_name,
            last_name=member.last_name,
            email=member.email,
            is_staff=login.username == "trust.admin",
        )
        users.append(user)
        member.user = user
    # Staff members hold the unsaved users; bulk_create copies each user's
    # new id into the foreign key when the staff rows are written.
    user_model.objects.bulk_create(users)

    levels: dict[int, list[PlannedStaff]] = {}
    for person in staff.people:
        levels.setdefault(person.depth, []).append(person)
    for depth in sorted(levels):
        rows = []
        for person in levels[depth]:
            if person.manager is not None:
                person.member.line_manager_id = person.manager.member.pk
            rows.append(person.member)
        StaffMember.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    Department.objects.bulk_create(staff.departments, batch_size=BATCH_SIZE)


def save_roles(staff: StaffPlan) -> None:
    """Write role assignments once tutor groups have ids."""
    from academies.models import Academy, YearGroup

    rows = []
    for person in staff.people:
        for role, target in person.roles:
            assignment = RoleAssignment(staff=person.member, role=role, scope=ScopeKind.TRUST)
            if isinstance(target, Academy):
                assignment.scope = ScopeKind.ACADEMY
                assignment.academy = target
            elif isinstance(target, YearGroup):
                assignment.scope = ScopeKind.YEAR_GROUP
                assignment.year_group = target
                assignment.academy = target.academy
            elif isinstance(target, TutorGroup):
                assignment.scope = ScopeKind.TUTOR_GROUP
                assignment.tutor_group = target
                assignment.academy = target.academy
            rows.append(assignment)
    RoleAssignment.objects.bulk_create(rows, batch_size=BATCH_SIZE)
