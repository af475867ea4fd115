"""Behaviour for the demo trust: the default taxonomy with two academy
categories, incidents for last academic year and this one up to the day
before --today, their sanctions, parent contacts and follow-ups, a handful
of suspensions and one permanent exclusion.

Each pupil's incidents come from a random.Random seeded with one draw from
the demo's generator, the pupil's UPN and the year, so they depend neither
on database ids nor on the order rows are read. Incidents fall on school
days when the pupil is on roll and not marked absent in the morning.
Incidents and pupil links are inserted straight into their tables, and
actions and follow-ups with bulk_create, so none gets an audit record,
like the rest of the demo.

Shares are estimates chosen to look like an English trust that uses a
points system: most points are positive, and about one secondary pupil in
ten (one primary pupil in twenty) has repeated negative incidents.
"""

import bisect
import datetime
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max, Q

from academies import services
from academies.models import AcademicYear, Department, TutorGroup
from attendance.codes import Category
from attendance.models import AttendanceMark
from behaviour import suspensions as suspension_services
from behaviour import taxonomy
from behaviour.models import (
    Action,
    BehaviourCategory,
    FollowUp,
    Incident,
    IncidentPupil,
    Location,
    Polarity,
    PupilRole,
    SensitiveKind,
    Suspension,
)
from pupils.models import Enrolment
from staff.models import PostType, Role, RoleAssignment, StaffMember
from trust.models import AuditEvent

# The attendance loader's raw insert (COPY on PostgreSQL, executemany elsewhere).
from .attendance import _insert as insert_rows
from .structure import BATCH_SIZE, AcademyPlan, DemoContext

LONDON = ZoneInfo("Europe/London")
LOGGED_AFTER = datetime.timedelta(minutes=10)
INCIDENT_COLUMNS = (
    "id",
    "academy",
    "academic_year",
    "occurred_at",
    "date",
    "category",
    "trust_category",
    "polarity",
    "location",
    "lesson",
    "subject",
    "description",
    "reported_by",
    "sensitive",
    "sensitive_kind",
    "created_by",
    "created_at",
    "updated_at",
    "version",
)
LINK_COLUMNS = (
    "incident",
    "pupil",
    "role",
    "points",
    "date",
    "polarity",
    "trust_category",
    "academy",
    "academic_year",
    "year_group",
    "tutor_group",
)

REPEAT_SHARE_SECONDARY = 0.10
REPEAT_SHARE_PRIMARY = 0.05
# Chances per school day that a pupil has a positive or a negative incident.
POSITIVE_RATE = (0.025, 0.075)
NEGATIVE_RATE = (0.0005, 0.006)
REPEAT_NEGATIVE_RATE = (0.035, 0.08)
EARLY_YEARS_POSITIVE_RATE = 0.02
# Events where a team or group represents the school, per academy per year.
GROUP_EVENTS_PER_YEAR = 6
# Follow-ups due more than this many days before --today have been resolved.
RESOLVED_AFTER_DAYS = 7
# Suspensions per secondary pupil across the two years, with a floor and a
# ceiling so small and large demos both show a handful.
SUSPENSIONS_PER_PUPIL = 1 / 100
MIN_SUSPENSIONS = 3
MAX_SUSPENSIONS = 12
# The head of year login should see at least this many open follow-ups.
HEAD_OF_YEAR_OPEN_FOLLOW_UPS = 3

POSITIVE_WEIGHTS = {
    "Praise": 30,
    "Excellent work": 22,
    "Effort": 22,
    "Helping others": 10,
    "Achievement": 8,
    "Leadership": 4,
}
NEGATIVE_WEIGHTS = {
    "Low-level disruption": 30,
    "No homework": 18,
    "Lateness to lesson": 14,
    "Uniform": 10,
    "Mobile phone": 8,
    "Defiance": 5,
    "Disrespect to staff": 4,
    "Truancy from lesson": 3,
    "Smoking or vaping": 1.5,
    "Damage to property": 1.5,
    "Theft": 0.7,
    "Fighting": 1.5,
    "Threatening behaviour": 0.8,
    "Bullying": 0.6,
    "Prejudice-related incident": 0.3,
    "Safeguarding concern": 0.4,
}
NOT_IN_PRIMARY = {"Smoking or vaping", "Truancy from lesson", "Mobile phone"}
SENSITIVE_KINDS = {
    "Bullying": SensitiveKind.OTHER,
    "Prejudice-related incident": SensitiveKind.PREJUDICE,
    "Safeguarding concern": SensitiveKind.SAFEGUARDING,
}
# Incidents away from lessons: break, lunch and the journey to school.
OUT_OF_LESSON = {
    "Fighting": (Location.PLAYGROUND, Location.CORRIDOR, Location.DINING_HALL),
    "Bullying": (Location.PLAYGROUND, Location.ONLINE, Location.CORRIDOR),
    "Smoking or vaping": (Location.TOILETS, Location.ENTRANCE),
    "Damage to property": (Location.TOILETS, Location.CORRIDOR, Location.CLASSROOM),
    "Theft": (Location.CLASSROOM, Location.SPORTS),
    "Threatening behaviour": (Location.CORRIDOR, Location.PLAYGROUND, Location.ENTRANCE),
    "Truancy from lesson": (Location.TOILETS, Location.OFF_SITE),
    "Uniform": (Location.ENTRANCE,),
    "Safeguarding concern": (Location.CLASSROOM, Location.OTHER),
    "Helping others": (Location.PLAYGROUND, Location.CLASSROOM, Location.LIBRARY),
}
DESCRIPTIONS = {
    "Praise": ("Thoughtful answer in class discussion.", "Kind and polite all lesson."),
    "Excellent work": ("Outstanding piece of homework.", "Excellent extended writing."),
    "Effort": ("Kept going with a difficult task.", "Real effort in practical work."),
    "Helping others": ("Helped a classmate who was upset.", "Helped tidy the room unasked."),
    "Achievement": ("Top score in the end-of-unit test.", "Reached a new reading level."),
    "Leadership": ("Led the group task well.", "Organised the form charity stall."),
    "Representing the school": ("Represented the school at a fixture.",),
    "Low-level disruption": ("Talking over the teacher after warnings.", "Off task all lesson."),
    "No homework": ("Homework not handed in.", "Homework incomplete for the second time."),
    "Lateness to lesson": ("Arrived ten minutes late without a reason.",),
    "Uniform": ("Not in correct uniform; no note from home.",),
    "Mobile phone": ("Phone out in lesson; confiscated until the end of the day.",),
    "Defiance": ("Refused to follow a reasonable instruction.",),
    "Disrespect to staff": ("Rude and dismissive to a member of staff.",),
    "Truancy from lesson": ("In school but did not arrive at the lesson.",),
    "Smoking or vaping": ("Found vaping in the toilets.",),
    "Damage to property": ("Wrote on and damaged a desk.",),
    "Theft": ("Took another pupil's property.",),
    "Fighting": ("Physical fight at break time.",),
    "Threatening behaviour": ("Threatened another pupil.",),
    "Bullying": ("Repeated unkind messages to another pupil.",),
    "Prejudice-related incident": ("Prejudice-related remark reported to staff.",),
    "Safeguarding concern": ("Concern passed to the designated safeguarding lead.",),
}
# DfE reason codes for suspensions that follow an incident in the category.
REASONS = {
    "Fighting": ("PP",),
    "Threatening behaviour": ("VP",),
    "Disrespect to staff": ("VA",),
    "Defiance": ("DB",),
    "Low-level disruption": ("DB",),
    "Damage to property": ("DM",),
    "Theft": ("TH",),
    "Bullying": ("BU", "VP"),
    "Prejudice-related incident": ("RA",),
    "Smoking or vaping": ("DA",),
}
SUSPENSION_CATEGORIES = ("Fighting", "Threatening behaviour", "Disrespect to staff", "Defiance")
EXCLUSION_CATEGORY = "Fighting"
# Secondary lesson start times (a five-period day) and primary sessions.
SECONDARY_PERIODS = (
    ("Period 1", datetime.time(8, 55)),
    ("Period 2", datetime.time(9, 55)),
    ("Period 3", datetime.time(11, 15)),
    ("Period 4", datetime.time(12, 15)),
    ("Period 5", datetime.time(14, 5)),
)
PRIMARY_PERIODS = (
    ("Morning", datetime.time(9, 20)),
    ("Morning", datetime.time(10, 40)),
    ("Afternoon", datetime.time(13, 30)),
)
BREAK_TIMES = (datetime.time(10, 50), datetime.time(12, 55), datetime.time(15, 20))
CONTACT_OUTCOMES: dict[str, tuple[str, ...]] = {
    Polarity.POSITIVE: ("Parent thanked the school.", "Parent delighted to hear it."),
    Polarity.NEGATIVE: (
        "Parent supportive; will talk to their child tonight.",
        "Parent disagreed with the sanction; head of year to call back.",
        "Left a voicemail; followed up by email.",
    ),
}
FOLLOW_UP_NOTE = "Meet the pupil and parent and agree next steps."
SAFEGUARDING_NOTE = "Designated safeguarding lead to review and record next steps."
RESOLUTIONS = (
    "Met the pupil and parent; behaviour plan agreed.",
    "Restorative conversation held; no further action.",
    "Referred to the pastoral team for mentoring.",
)


@dataclass(frozen=True)
class BehaviourLoadResult:
    incidents: int
    links: int
    actions: int
    follow_ups: int
    suspensions: int


@dataclass
class PupilYear:
    """An enrolment of one pupil in one academic year, with their profile."""

    upn: str
    pupil_id: int
    academy_id: int
    academic_year_id: int
    year_group_id: int
    nc_year: int
    tutor_group_id: int | None
    start: datetime.date
    end: datetime.date | None
    rng: random.Random = field(default_factory=random.Random)
    repeat: bool = False
    positive_rate: float = 0.0
    negative_rate: float = 0.0

    def on_roll(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass
class AcademyStaff:
    """The staff of one academy that the incidents name."""

    teachers: list[tuple[int, int | None]] = field(default_factory=list)
    users: dict[int, int | None] = field(default_factory=dict)
    tutors: dict[int, int] = field(default_factory=dict)
    heads_of_year: dict[int, int] = field(default_factory=dict)
    headteacher: int | None = None
    # The designated safeguarding lead, who also owns primary follow-ups.
    pastoral_lead: int | None = None
    subjects: list[str] = field(default_factory=list)


@dataclass(slots=True)
class IncidentRow:
    """An incident's values before it is written, with its id chosen already."""

    pk: int
    academy_id: int
    academic_year_id: int
    date: datetime.date
    occurred_at: datetime.datetime
    category_id: int
    trust_category: BehaviourCategory
    polarity: str
    location: str
    lesson: str
    subject: str
    description: str
    reported_by_id: int
    created_by_id: int | None
    sensitive: bool = False
    sensitive_kind: str = ""


@dataclass(slots=True)
class LinkRow:
    """One pupil's part in an incident, with the copied enrolment fields."""

    pupil_id: int
    role: str
    points: int
    academy_id: int
    academic_year_id: int
    year_group_id: int
    tutor_group_id: int | None


@dataclass
class PlannedIncident:
    incident: IncidentRow
    links: list[LinkRow] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)


@dataclass
class PlannedSuspension:
    pupil: PupilYear
    planned: PlannedIncident
    kind: str
    start: datetime.date
    sessions: int | None
    reasons: tuple[str, ...]
    details: str


def load_behaviour(ctx: DemoContext, *, weeks: int | None = None) -> BehaviourLoadResult:
    """Write the taxonomy, incidents, sanctions, follow-ups and suspensions.

    With `weeks`, only the last `weeks` weeks before --today get incidents,
    as with the register marks.
    """
    assert ctx.trust is not None
    assert ctx.current_year is not None
    assert ctx.last_year is not None
    base = ctx.rng.getrandbits(64)
    first_day = ctx.today - datetime.timedelta(weeks=weeks) if weeks is not None else None
    categories = _create_taxonomy(ctx)
    loader = _Loader(ctx, base, categories, first_day)
    return loader.load()


def _create_taxonomy(ctx: DemoContext) -> dict[str, BehaviourCategory]:
    """Create the default taxonomy and two academy categories, and return all by name."""
    assert ctx.trust is not None
    by_name = {c.name: c for c in taxonomy.default_taxonomy_ensure(ctx.trust)}
    secondary = next((plan for plan in ctx.plans[1:] if plan.is_secondary), ctx.flagship).academy
    own = [
        BehaviourCategory(
            trust=ctx.trust,
            academy=ctx.flagship.academy,
            parent=by_name["Achievement"],
            name="Reading challenge",
            polarity=Polarity.POSITIVE,
            default_points=2,
            min_points=1,
            max_points=3,
            position=35,
        ),
        BehaviourCategory(
            trust=ctx.trust,
            academy=secondary,
            parent=by_name["Low-level disruption"],
            name="Corridor conduct",
            polarity=Polarity.NEGATIVE,
            severity=1,
            default_points=-1,
            min_points=-2,
            max_points=0,
            position=75,
        ),
    ]
    BehaviourCategory.objects.bulk_create(own)
    for category in own:
        by_name[category.name] = category
    return by_name


class _Loader:
    def __init__(
        self,
        ctx: DemoContext,
        base: int,
        categories: dict[str, BehaviourCategory],
        first_day: datetime.date | None,
    ) -> None:
        assert ctx.current_year is not None and ctx.last_year is not None
        self.ctx = ctx
        self.base = base
        self.today = ctx.today
        self.categories = categories
        self.years: list[AcademicYear] = [ctx.last_year, ctx.current_year]
        self.start_years = {year.pk: year.start_year for year in self.years}
        self.first_day = first_day
        self.plans = {plan.academy.pk: plan for plan in ctx.plans}
        # Academy categories replace their parent for some incidents there.
        self.own_categories: dict[tuple[int, str], BehaviourCategory] = {
            (c.academy_id, c.parent.name): c
            for c in categories.values()
            if c.academy_id is not None and c.parent is not None
        }
        self.school_days = {
            (plan.academy.pk, year.pk): self._school_days(plan, year)
            for plan in ctx.plans
            for year in self.years
        }
        self.all_days = {
            academy_id: sorted(
                {d for year in self.years for d in self.school_days[(academy_id, year.pk)]}
            )
            for academy_id in self.plans
        }
        self.staff = _read_staff(list(self.plans))
        self.pupil_years = self._read_pupil_years()
        self.absent = self._read_absences()
        self.by_year_group: dict[int, list[PupilYear]] = defaultdict(list)
        for pupil_year in self.pupil_years:
            self.by_year_group[pupil_year.year_group_id].append(pupil_year)
        # (pupil id, date) already used by an incident or a suspension.
        self.busy: set[tuple[int, datetime.date]] = set()
        self.planned: list[PlannedIncident] = []
        # Incidents are inserted with ids chosen here, so links, actions and
        # suspensions can name them before the rows exist.
        last_id = Incident.objects.aggregate(last=Max("pk"))["last"] or 0
        self.next_id = last_id + 1

    # Reading ------------------------------------------------------------

    def _school_days(self, plan: AcademyPlan, year: AcademicYear) -> list[datetime.date]:
        first = max(year.start_date, self.first_day or year.start_date)
        last = min(year.end_date, self.today - datetime.timedelta(days=1))
        return services.school_days(plan.academy, first, last)

    def _read_pupil_years(self) -> list[PupilYear]:
        rows = (
            Enrolment.objects.filter(
                academy_id__in=list(self.plans),
                academic_year_id__in=[year.pk for year in self.years],
            )
            .values_list(
                "pupil__upn",
                "pupil_id",
                "academy_id",
                "academic_year_id",
                "year_group_id",
                "year_group__nc_year",
                "tutor_group_id",
                "start_date",
                "end_date",
            )
            .order_by("pupil__upn", "start_date")
        )
        pupil_years = []
        for row in rows:
            pupil_year = PupilYear(*row)
            start_year = self.start_years[pupil_year.academic_year_id]
            pupil_year.rng = random.Random(f"{self.base}:{pupil_year.upn}:{start_year}")
            _draw_profile(pupil_year)
            pupil_years.append(pupil_year)
        return pupil_years

    def _read_absences(self) -> set[tuple[int, datetime.date]]:
        """Return (pupil, date) of every morning not marked present.

        The rows are read with a plain cursor, because the ORM's conversion
        of tens of thousands of dates is slow on SQLite. SQLite returns the
        dates as ISO text and PostgreSQL as dates.
        """
        first = self.first_day or self.years[0].start_date
        marks = (
            AttendanceMark.objects.filter(
                academy_id__in=list(self.plans), session="AM", date__gte=first
            )
            .exclude(category=Category.PRESENT)
            .values_list("pupil_id", "date")
        )
        sql, params = marks.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {
                (pupil_id, day if isinstance(day, datetime.date) else _iso_date(day))
                for pupil_id, day in cursor.fetchall()
            }

    # Planning -----------------------------------------------------------

    def load(self) -> BehaviourLoadResult:
        suspensions = self._plan_suspensions()
        for pupil_year in self.pupil_years:
            self._plan_pupil(pupil_year)
        for plan in self.ctx.plans:
            self._plan_group_events(plan)
        self._ensure_head_of_year_follow_ups()
        counts = self._write()
        written = self._record_suspensions(suspensions)
        return BehaviourLoadResult(suspensions=written, **counts)

    def _days_for(self, pupil_year: PupilYear) -> list[datetime.date]:
        days = self.school_days[(pupil_year.academy_id, pupil_year.academic_year_id)]
        return [d for d in days if pupil_year.on_roll(d)]

    def _plan_pupil(self, pupil_year: PupilYear) -> None:
        rng = pupil_year.rng
        secondary = pupil_year.nc_year >= 7
        for day in self._days_for(pupil_year):
            # Draw before skipping, so one pupil's draws do not depend on another's.
            roll = rng.random()
            key = (pupil_year.pupil_id, day)
            if key in self.absent or key in self.busy:
                continue
            if roll < pupil_year.positive_rate:
                name = rng.choices(list(POSITIVE_WEIGHTS), list(POSITIVE_WEIGHTS.values()))[0]
                self._plan_incident(pupil_year, day, name, rng)
            elif roll < pupil_year.positive_rate + pupil_year.negative_rate:
                names = [n for n in NEGATIVE_WEIGHTS if secondary or n not in NOT_IN_PRIMARY]
                weights = [NEGATIVE_WEIGHTS[n] for n in names]
                name = rng.choices(names, weights)[0]
                self._plan_incident(pupil_year, day, name, rng)

    def _category(self, academy_id: int, name: str, rng: random.Random) -> BehaviourCategory:
        own = self.own_categories.get((academy_id, name))
        if own is not None and rng.random() < 0.3:
            return own
        return self.categories[name]

    def _reporter(self, pupil_year: PupilYear, rng: random.Random) -> tuple[int, int | None]:
        staff = self.staff[pupil_year.academy_id]
        tutor = staff.tutors.get(pupil_year.tutor_group_id or 0)
        if tutor is not None and rng.random() < 0.35:
            return tutor, staff.users.get(tutor)
        return rng.choice(staff.teachers)

    def _when(
        self, pupil_year: PupilYear, day: datetime.date, name: str, rng: random.Random
    ) -> dict[str, Any]:
        """Return the time, place, lesson and subject fields of an incident."""
        places = OUT_OF_LESSON.get(name)
        if places is not None and rng.random() < 0.8:
            at = rng.choice(BREAK_TIMES)
            return {
                "occurred_at": _local(day, at, rng),
                "location": rng.choice(places),
                "lesson": "",
                "subject": "",
            }
        periods = SECONDARY_PERIODS if pupil_year.nc_year >= 7 else PRIMARY_PERIODS
        lesson, at = rng.choice(periods)
        subjects = self.staff[pupil_year.academy_id].subjects
        subject = rng.choice(subjects) if subjects and pupil_year.nc_year >= 7 else ""
        return {
            "occurred_at": _local(day, at, rng),
            "location": Location.CLASSROOM,
            "lesson": lesson,
            "subject": subject,
        }

    def _plan_incident(
        self,
        pupil_year: PupilYear,
        day: datetime.date,
        name: str,
        rng: random.Random,
        *,
        serious: bool = False,
    ) -> PlannedIncident | None:
        category = self._category(pupil_year.academy_id, name, rng)
        trust_category = category.parent or category
        reporter, reporter_user = self._reporter(pupil_year, rng)
        kind = SENSITIVE_KINDS.get(trust_category.name, "")
        incident = IncidentRow(
            pk=self._new_id(),
            academy_id=pupil_year.academy_id,
            academic_year_id=pupil_year.academic_year_id,
            date=day,
            category_id=category.pk,
            trust_category=trust_category,
            polarity=category.polarity,
            description=rng.choice(DESCRIPTIONS.get(trust_category.name, ("",))),
            reported_by_id=reporter,
            created_by_id=reporter_user,
            sensitive=bool(kind),
            sensitive_kind=kind,
            **self._when(pupil_year, day, trust_category.name, rng),
        )
        planned = PlannedIncident(incident)
        main_role = PupilRole.INVOLVED
        others: list[tuple[PupilYear, str]] = []
        if trust_category.name in ("Fighting", "Bullying"):
            other = self._classmate(pupil_year, day, rng)
            if other is None and not serious:
                return None
            main_role = PupilRole.INSTIGATOR
            if other is not None:
                role = (
                    PupilRole.INSTIGATOR if trust_category.name == "Fighting" else PupilRole.TARGET
                )
                others.append((other, role))
                witness = self._classmate(pupil_year, day, rng, exclude={other.pupil_id})
                if witness is not None and rng.random() < 0.5:
                    others.append((witness, PupilRole.WITNESS))
        planned.links.append(self._link(pupil_year, main_role, category, rng))
        for other, other_role in others:
            planned.links.append(self._link(other, other_role, category, rng))
        for link in planned.links:
            self.busy.add((link.pupil_id, day))
        self._plan_actions(planned, pupil_year, trust_category, reporter_user, rng, serious=serious)
        self.planned.append(planned)
        return planned

    def _classmate(
        self,
        pupil_year: PupilYear,
        day: datetime.date,
        rng: random.Random,
        exclude: set[int] | None = None,
    ) -> PupilYear | None:
        skip = {pupil_year.pupil_id, *(exclude or set())}
        options = [
            other
            for other in self.by_year_group[pupil_year.year_group_id]
            if other.pupil_id not in skip
            and other.on_roll(day)
            and (other.pupil_id, day) not in self.absent
            and (other.pupil_id, day) not in self.busy
        ]
        return rng.choice(options) if options else None

    def _new_id(self) -> int:
        pk = self.next_id
        self.next_id += 1
        return pk

    def _link(
        self,
        pupil_year: PupilYear,
        role: str,
        category: BehaviourCategory,
        rng: random.Random,
    ) -> LinkRow:
        points = category.default_points
        if role in (PupilRole.TARGET, PupilRole.WITNESS):
            points = 0
        elif category.min_points < category.max_points and rng.random() < 0.15:
            points = rng.randint(category.min_points, category.max_points)
        return LinkRow(
            pupil_id=pupil_year.pupil_id,
            role=role,
            points=points,
            academy_id=pupil_year.academy_id,
            academic_year_id=pupil_year.academic_year_id,
            year_group_id=pupil_year.year_group_id,
            tutor_group_id=pupil_year.tutor_group_id,
        )

    def _next_school_day(self, academy_id: int, day: datetime.date) -> datetime.date | None:
        days = self.all_days[academy_id]
        index = bisect.bisect_right(days, day)
        return days[index] if index < len(days) else None

    def _plan_actions(
        self,
        planned: PlannedIncident,
        pupil_year: PupilYear,
        category: BehaviourCategory,
        reporter_user: int | None,
        rng: random.Random,
        *,
        serious: bool = False,
    ) -> None:
        """Add the sanctions, contacts and referral an incident of `category` gets.

        A `serious` incident leads to a suspension, so it gets a parent contact
        and a referral but no detention or isolation.
        """
        incident = planned.incident
        day = incident.date
        pupils = [
            link.pupil_id
            for link in planned.links
            if link.role in (PupilRole.INVOLVED, PupilRole.INSTIGATOR)
        ]

        def add(kind: str, **fields: Any) -> None:
            for pupil_id in pupils:
                planned.actions.append(
                    Action(
                        incident_id=incident.pk,
                        pupil_id=pupil_id,
                        kind=kind,
                        created_by_id=reporter_user,
                        **fields,
                    )
                )

        if category.polarity == Polarity.POSITIVE:
            if category.name in ("Achievement", "Representing the school") and rng.random() < 0.2:
                add(**self._contact(day, Polarity.POSITIVE, rng))
            return
        severity = category.severity or 1
        if category.name == "Safeguarding concern":
            self._plan_follow_up(planned, pupil_year, rng, safeguarding=True)
            return
        if serious:
            add(**self._contact(day, Polarity.NEGATIVE, rng))
            self._plan_follow_up(planned, pupil_year, rng)
            return
        detention_chance = 0.1
        if severity >= 2:
            detention_chance = 0.7
        elif pupil_year.repeat:
            detention_chance = 0.3
        next_day = self._next_school_day(incident.academy_id, day)
        if next_day is not None and rng.random() < detention_chance:
            attended = (rng.random() < 0.85) if next_day < self.today else None
            add(
                Action.Kind.DETENTION,
                date=next_day,
                duration_minutes=60 if severity >= 3 else 30,
                attended=attended,
            )
        if severity >= 4 and next_day is not None and rng.random() < 0.6:
            attended = True if next_day < self.today else None
            add(Action.Kind.ISOLATION, date=next_day, duration_minutes=300, attended=attended)
        if rng.random() < {1: 0.05, 2: 0.15}.get(severity, 0.8):
            add(**self._contact(day, Polarity.NEGATIVE, rng))
        if severity >= 4 or (severity == 3 and pupil_year.repeat and rng.random() < 0.4):
            self._plan_follow_up(planned, pupil_year, rng, safeguarding=bool(incident.sensitive))

    def _contact(self, day: datetime.date, polarity: str, rng: random.Random) -> dict[str, Any]:
        method = rng.choice(
            (Action.ContactMethod.PHONE, Action.ContactMethod.PHONE, Action.ContactMethod.EMAIL)
        )
        return {
            "kind": Action.Kind.PARENT_CONTACT,
            "contact_method": method,
            "contacted_at": _local(day, datetime.time(15, 40), rng, spread=80),
            "outcome": rng.choice(CONTACT_OUTCOMES[polarity]),
        }

    def _plan_follow_up(
        self,
        planned: PlannedIncident,
        pupil_year: PupilYear,
        rng: random.Random,
        *,
        safeguarding: bool = False,
        due_on: datetime.date | None = None,
    ) -> None:
        """Refer the incident to the head of year (or the safeguarding lead) and
        open a follow-up they own."""
        staff = self.staff[pupil_year.academy_id]
        owner = staff.heads_of_year.get(pupil_year.year_group_id)
        if safeguarding or owner is None:
            owner = staff.pastoral_lead
        if owner is None:
            return
        incident = planned.incident
        due = due_on or incident.date + datetime.timedelta(days=7)
        follow_up = FollowUp(
            incident_id=incident.pk,
            owner_id=owner,
            due_on=due,
            note=SAFEGUARDING_NOTE if safeguarding else FOLLOW_UP_NOTE,
        )
        if due < self.today - datetime.timedelta(days=RESOLVED_AFTER_DAYS):
            follow_up.status = FollowUp.Status.RESOLVED
            follow_up.resolved_at = _local(due, datetime.time(15, 30), rng, spread=120)
            follow_up.resolved_by_id = staff.users.get(owner)
            follow_up.resolution = rng.choice(RESOLUTIONS)
        planned.follow_ups.append(follow_up)
        planned.actions.append(
            Action(
                incident_id=incident.pk,
                pupil_id=pupil_year.pupil_id,
                kind=Action.Kind.REFERRAL,
                referred_to_id=owner,
                created_by_id=incident.created_by_id,
            )
        )

    def _plan_group_events(self, plan: AcademyPlan) -> None:
        """Add events where a group of pupils represented the school."""
        rng = random.Random(f"{self.base}:{plan.academy.urn}:events")
        eligible = [g.pk for nc, g in sorted(plan.year_groups.items()) if nc >= 3]
        for year in self.years:
            days = self.school_days[(plan.academy.pk, year.pk)]
            if not days or not eligible:
                continue
            count = max(1, round(GROUP_EVENTS_PER_YEAR * len(days) / 190))
            for _ in range(count):
                day = rng.choice(days)
                group_id = rng.choice(eligible)
                pupils = [
                    p
                    for p in self.by_year_group[group_id]
                    if p.academic_year_id == year.pk
                    and p.on_roll(day)
                    and (p.pupil_id, day) not in self.absent
                    and (p.pupil_id, day) not in self.busy
                ]
                if len(pupils) < 2:
                    continue
                chosen = rng.sample(pupils, min(len(pupils), rng.randint(3, 8)))
                self._plan_group_incident(chosen, day, rng)

    def _plan_group_incident(
        self, pupils: list[PupilYear], day: datetime.date, rng: random.Random
    ) -> None:
        category = self.categories["Representing the school"]
        first = pupils[0]
        reporter, reporter_user = self._reporter(first, rng)
        incident = IncidentRow(
            pk=self._new_id(),
            academy_id=first.academy_id,
            academic_year_id=first.academic_year_id,
            date=day,
            category_id=category.pk,
            trust_category=category,
            polarity=category.polarity,
            description=rng.choice(
                (
                    "Represented the school in an inter-school sports fixture.",
                    "Sang in the choir at the local music festival.",
                    "Took part in the regional maths challenge.",
                )
            ),
            reported_by_id=reporter,
            created_by_id=reporter_user,
            occurred_at=_local(day, datetime.time(15, 30), rng),
            location=Location.OFF_SITE,
            lesson="",
            subject="",
        )
        planned = PlannedIncident(incident)
        for pupil_year in pupils:
            planned.links.append(self._link(pupil_year, PupilRole.INVOLVED, category, rng))
            self.busy.add((pupil_year.pupil_id, day))
        self.planned.append(planned)

    def _ensure_head_of_year_follow_ups(self) -> None:
        """Give the flagship's Year 9 head of year open follow-ups, a few overdue,
        so the demo login has some to show."""
        flagship = self.ctx.flagship
        year_nine = flagship.year_groups.get(9)
        if year_nine is None:
            return
        owner = self.staff[flagship.academy.pk].heads_of_year.get(year_nine.pk)
        if owner is None:
            return
        open_count = sum(
            1
            for planned in self.planned
            for f in planned.follow_ups
            if f.owner_id == owner and f.status == FollowUp.Status.OPEN
        )
        candidates = [
            planned
            for planned in self.planned
            if planned.incident.polarity == Polarity.NEGATIVE
            and not planned.incident.sensitive
            and planned.links[0].year_group_id == year_nine.pk
            and planned.links[0].academic_year_id == self.years[1].pk
            and not any(f.status == FollowUp.Status.OPEN for f in planned.follow_ups)
        ]
        candidates.sort(key=lambda planned: planned.incident.date, reverse=True)
        rng = random.Random(f"{self.base}:head-of-year")
        by_pupil = {(p.pupil_id, p.academic_year_id): p for p in self.by_year_group[year_nine.pk]}
        missing = max(0, HEAD_OF_YEAR_OPEN_FOLLOW_UPS - open_count)
        if len(candidates) < missing:
            # A small demo may have too few recent incidents in Year 9, so
            # add some in the last school weeks.
            pupils = [p for p in by_pupil.values() if p.academic_year_id == self.years[1].pk]
            extra = self._plan_recent_incidents(pupils, missing - len(candidates), rng)
            candidates = extra + candidates
        for index, planned in enumerate(candidates[:missing]):
            link = planned.links[0]
            pupil_year = by_pupil[(link.pupil_id, link.academic_year_id)]
            # The first two are overdue and later ones are due after --today.
            offset = -(index + 1) * 2 if index < 2 else 5
            due = self.today + datetime.timedelta(days=offset)
            self._plan_follow_up(planned, pupil_year, rng, due_on=due)

    def _plan_recent_incidents(
        self, pupils: list[PupilYear], count: int, rng: random.Random
    ) -> list[PlannedIncident]:
        """Plan up to `count` negative incidents for `pupils` in the last ten
        school days before --today, and return them."""
        made: list[PlannedIncident] = []
        for _attempt in range(count * 10):
            if len(made) >= count or not pupils:
                break
            pupil_year = rng.choice(pupils)
            recent = [
                day
                for day in self._days_for(pupil_year)[-10:]
                if (pupil_year.pupil_id, day) not in self.busy
                and (pupil_year.pupil_id, day) not in self.absent
            ]
            if not recent:
                continue
            name = rng.choice(("Defiance", "Disrespect to staff", "Truancy from lesson"))
            planned = self._plan_incident(pupil_year, rng.choice(recent), name, rng)
            if planned is not None:
                made.append(planned)
        return made

    # Suspensions --------------------------------------------------------

    def _plan_suspensions(self) -> list[PlannedSuspension]:
        """Choose the suspended pupils and their dates, one of them in the
        flagship's Year 9 this year, and plan the incident behind each."""
        rng = random.Random(f"{self.base}:suspensions")
        secondary = [p for p in self.pupil_years if 7 <= p.nc_year <= 11]
        current_ids = {p.pupil_id for p in secondary if p.academic_year_id == self.years[1].pk}
        wanted = round(len(current_ids) * SUSPENSIONS_PER_PUPIL)
        wanted = max(MIN_SUSPENSIONS, min(MAX_SUSPENSIONS, wanted))
        chosen: list[PlannedSuspension] = []
        used: set[int] = set()
        head_of_year_pupil: int | None = None

        flagship = self.ctx.flagship
        year_nine = flagship.year_groups.get(9)
        if year_nine is not None:
            options = [
                p
                for p in self.by_year_group[year_nine.pk]
                if p.academic_year_id == self.years[1].pk
            ]
            options.sort(key=lambda p: (not p.repeat, p.upn))
            for pupil_year in options:
                planned = self._plan_suspension(pupil_year, rng)
                if planned is not None:
                    chosen.append(planned)
                    used.add(pupil_year.pupil_id)
                    head_of_year_pupil = pupil_year.pupil_id
                    break

        # Other pupils of the head of year's Year 9 are left out, so the
        # login shows exactly one suspension in the year.
        year_nine_now = {
            p.pupil_id
            for p in secondary
            if year_nine is not None
            and p.year_group_id == year_nine.pk
            and p.academic_year_id == self.years[1].pk
        }
        candidates = sorted(
            (p for p in secondary if p.pupil_id not in used and p.pupil_id not in year_nine_now),
            key=lambda p: (not p.repeat, p.upn, p.academic_year_id),
        )
        repeaters = [p for p in candidates if p.repeat]
        pool = repeaters if len(repeaters) >= wanted else candidates
        rng.shuffle(pool)
        for pupil_year in pool:
            if len(chosen) >= wanted:
                break
            if pupil_year.pupil_id in used:
                continue
            planned = self._plan_suspension(pupil_year, rng, lunchtime=len(chosen) == 2)
            if planned is not None:
                chosen.append(planned)
                used.add(pupil_year.pupil_id)

        # The excluded pupil was suspended earlier if possible, but not the
        # head of year's Year 9 pupil, who keeps one suspension to show.
        current = self.years[1].pk
        suspended = [
            item.pupil
            for item in chosen
            if item.kind == Suspension.Kind.SUSPENSION
            and item.pupil.academic_year_id == current
            and item.pupil.pupil_id != head_of_year_pupil
        ]
        others = [p for p in candidates if p.academic_year_id == current and p.pupil_id not in used]
        exclusion = self._plan_exclusion([*suspended, *others], rng)
        if exclusion is not None:
            chosen.append(exclusion)
        return chosen

    def _plan_suspension(
        self, pupil_year: PupilYear, rng: random.Random, *, lunchtime: bool = False
    ) -> PlannedSuspension | None:
        """Plan a suspension of one to three days (or two lunchtimes) that ends
        before --today, after an incident on the school day before it starts."""
        days = self._days_for(pupil_year)
        length = 2 if lunchtime else rng.randint(1, 3)
        # The incident day, then the suspension's school days.
        if len(days) < length + 2:
            return None
        index = rng.randrange(0, len(days) - length - 1)
        incident_day, start = days[index], days[index + 1]
        covered = days[index + 1 : index + 1 + length]
        name = "Low-level disruption" if lunchtime else rng.choice(SUSPENSION_CATEGORIES)
        planned = self._plan_incident(pupil_year, incident_day, name, rng, serious=True)
        if planned is None:
            return None
        for day in covered:
            self.busy.add((pupil_year.pupil_id, day))
        if lunchtime:
            return PlannedSuspension(
                pupil=pupil_year,
                planned=planned,
                kind=Suspension.Kind.LUNCHTIME,
                start=start,
                sessions=length,
                reasons=("DB",),
                details="Repeated disruption at lunchtime; two lunchtimes off site.",
            )
        days_text = "one day" if length == 1 else f"{length} days"
        return PlannedSuspension(
            pupil=pupil_year,
            planned=planned,
            kind=Suspension.Kind.SUSPENSION,
            start=start,
            sessions=length * 2,
            reasons=REASONS[planned.incident.trust_category.name],
            details=f"Suspended for {days_text} after the incident on {incident_day:%d/%m/%Y}.",
        )

    def _plan_exclusion(
        self, candidates: list[PupilYear], rng: random.Random
    ) -> PlannedSuspension | None:
        """Plan the permanent exclusion: an assault on the last school day
        before --today, excluded from the next school day. The last day on
        roll waits for the governors' review, so the pupil stays on roll."""
        for pupil_year in candidates:
            days = self._days_for(pupil_year)
            if not days or (pupil_year.pupil_id, days[-1]) in self.busy:
                continue
            incident_day = days[-1]
            start = self._next_school_day(pupil_year.academy_id, incident_day)
            if start is None or not pupil_year.on_roll(start):
                start = incident_day
            planned = self._plan_incident(
                pupil_year, incident_day, EXCLUSION_CATEGORY, rng, serious=True
            )
            if planned is None:
                continue
            return PlannedSuspension(
                pupil=pupil_year,
                planned=planned,
                kind=Suspension.Kind.PERMANENT,
                start=max(start, incident_day),
                sessions=None,
                reasons=("PP", "DB"),
                details=(
                    "Serious assault on another pupil after earlier suspensions and a "
                    "behaviour plan. The governors' review is pending."
                ),
            )
        return None

    def _record_suspensions(self, planned: list[PlannedSuspension]) -> int:
        """Record the planned suspensions through the suspension service, which
        writes their sessions and E marks, then drop the audit events it wrote:
        demo data carries no audit trail."""
        if not planned:
            return 0
        actor = _trust_wide_user()
        last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for item in planned:
            staff = self.staff[item.pupil.academy_id]
            assert staff.headteacher is not None
            decided = item.planned.incident.date
            suspension_services.suspension_record(
                actor=actor,
                pupil_id=item.pupil.pupil_id,
                kind=item.kind,
                start_date=item.start,
                sessions=item.sessions,
                reasons=item.reasons,
                decided_by_id=staff.headteacher,
                decided_on=decided,
                details=item.details,
                incident_id=item.planned.incident.pk,
                parents_notified_on=decided,
            )
        AuditEvent.objects.filter(pk__gt=last_event).delete()
        return len(planned)

    # Writing ------------------------------------------------------------

    def _write(self) -> dict[str, int]:
        """Insert the incidents and links straight into their tables (there are
        tens of thousands), then the actions and follow-ups with bulk_create."""
        incidents = (self._incident_values(p.incident) for p in self.planned)
        incident_count = insert_rows(Incident, INCIDENT_COLUMNS, incidents)
        links = (
            self._link_values(planned.incident, link)
            for planned in self.planned
            for link in planned.links
        )
        link_count = insert_rows(IncidentPupil, LINK_COLUMNS, links)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Incident]):
                cursor.execute(sql)
        actions = [action for planned in self.planned for action in planned.actions]
        follow_ups = [f for planned in self.planned for f in planned.follow_ups]
        Action.objects.bulk_create(actions, batch_size=BATCH_SIZE)
        FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH_SIZE)
        return {
            "incidents": incident_count,
            "links": link_count,
            "actions": len(actions),
            "follow_ups": len(follow_ups),
        }

    def _incident_values(self, incident: IncidentRow) -> tuple[Any, ...]:
        ops = connection.ops
        # Logged ten minutes after it happened.
        logged = ops.adapt_datetimefield_value(incident.occurred_at + LOGGED_AFTER)
        return (
            incident.pk,
            incident.academy_id,
            incident.academic_year_id,
            ops.adapt_datetimefield_value(incident.occurred_at),
            ops.adapt_datefield_value(incident.date),
            incident.category_id,
            incident.trust_category.pk,
            incident.polarity,
            incident.location,
            incident.lesson,
            incident.subject,
            incident.description,
            incident.reported_by_id,
            incident.sensitive,
            incident.sensitive_kind,
            incident.created_by_id,
            logged,
            logged,
            1,
        )

    def _link_values(self, incident: IncidentRow, link: LinkRow) -> tuple[Any, ...]:
        return (
            incident.pk,
            link.pupil_id,
            link.role,
            link.points,
            connection.ops.adapt_datefield_value(incident.date),
            incident.polarity,
            incident.trust_category.pk,
            link.academy_id,
            link.academic_year_id,
            link.year_group_id,
            link.tutor_group_id,
        )


def _draw_profile(pupil_year: PupilYear) -> None:
    rng = pupil_year.rng
    roll = rng.random()
    if pupil_year.nc_year <= 0:
        pupil_year.positive_rate = EARLY_YEARS_POSITIVE_RATE
        return
    share = REPEAT_SHARE_SECONDARY if pupil_year.nc_year >= 7 else REPEAT_SHARE_PRIMARY
    pupil_year.repeat = roll < share
    pupil_year.positive_rate = rng.uniform(*POSITIVE_RATE)
    rates = REPEAT_NEGATIVE_RATE if pupil_year.repeat else NEGATIVE_RATE
    pupil_year.negative_rate = rng.uniform(*rates)


def _iso_date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text[:10])


def _local(
    day: datetime.date, at: datetime.time, rng: random.Random, spread: int = 40
) -> datetime.datetime:
    """Return `day` at `at` plus up to `spread` minutes, in Europe/London."""
    start = datetime.datetime.combine(day, at, tzinfo=LONDON)
    return start + datetime.timedelta(minutes=rng.randrange(spread))


def _read_staff(academy_ids: list[int]) -> dict[int, AcademyStaff]:
    """Return each academy's teachers, tutors, heads of year and leaders."""
    staff = {academy_id: AcademyStaff() for academy_id in academy_ids}
    members = StaffMember.objects.filter(academy_id__in=academy_ids).order_by("email")
    teaching = {PostType.TEACHER, PostType.LEADERSHIP}
    for pk, academy_id, post_type, user_id in members.values_list(
        "pk", "academy_id", "post_type", "user_id"
    ):
        academy = staff[academy_id]
        academy.users[pk] = user_id
        if post_type in teaching:
            academy.teachers.append((pk, user_id))
    groups = TutorGroup.objects.filter(academy_id__in=academy_ids, tutor__isnull=False)
    for group_id, academy_id, tutor_id in groups.values_list("pk", "academy_id", "tutor_id"):
        staff[academy_id].tutors[group_id] = tutor_id
    roles = RoleAssignment.objects.filter(
        academy_id__in=academy_ids,
        role__in=[Role.HEAD_OF_YEAR, Role.HEADTEACHER, Role.SAFEGUARDING_LEAD],
    ).order_by("staff__email")
    for role, staff_id, academy_id, year_group_id in roles.values_list(
        "role", "staff_id", "academy_id", "year_group_id"
    ):
        academy = staff[academy_id]
        if role == Role.HEAD_OF_YEAR and year_group_id is not None:
            academy.heads_of_year.setdefault(year_group_id, staff_id)
        elif role == Role.HEADTEACHER and academy.headteacher is None:
            academy.headteacher = staff_id
        elif role == Role.SAFEGUARDING_LEAD and academy.pastoral_lead is None:
            academy.pastoral_lead = staff_id
    for academy_id, name in (
        Department.objects.filter(academy_id__in=academy_ids)
        .values_list("academy_id", "name")
        .order_by("name")
    ):
        staff[academy_id].subjects.append(name)
    return staff


def _trust_wide_user() -> Any:
    """Return a user with a trust-wide pupil role, to act for the suspension service."""
    assignment = (
        RoleAssignment.objects.filter(
            Q(role=Role.TRUST_LEADER) | Q(role=Role.TRUST_ADMIN), staff__user__isnull=False
        )
        .select_related("staff__user")
        .order_by("role", "staff__email")
        .first()
    )
    assert assignment is not None, "the demo trust has no trust leader login"
    return assignment.staff.user
