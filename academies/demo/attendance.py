"""Register marks for the demo trust: last academic year in full and the
current one up to the day before --today.

Each pupil's marks come from a random.Random seeded with one draw from the
demo's generator and the pupil's UPN, so the marks do not depend on
database ids or on the order pupils are read. A large trust has millions
of marks, so they are written straight into the table (COPY on PostgreSQL,
executemany elsewhere). The summaries are then rebuilt in bulk.

Shares are estimates chosen to look like an English trust. Most pupils
attend above 95%. About 14% of secondary and 11% of primary pupils are
drawn as persistent absentees and 1.5% as severe absentees; the shares
that result vary with the draws.
"""

import datetime
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from academies import services
from academies.models import AcademicYear, Academy, Closure, TutorGroup
from attendance import summaries
from attendance.codes import CODES_2024_FROM, code_on
from attendance.models import AttendanceMark, Register, Session, week_start
from attendance.services import CLOSURE_CODES, session_times
from pupils.models import Enrolment

from .structure import AcademyPlan, DemoContext

LONDON = ZoneInfo("Europe/London")
INSERT_BATCH = 10_000
SEVERE_SHARE = 0.015
PERSISTENT_SHARE_SECONDARY = 0.14
PERSISTENT_SHARE_PRIMARY = 0.11
# Absence is likelier in December to February (winter illness) and a little
# less likely in the other months, so the year's mean stays about the same.
WINTER_MONTHS = {12, 1, 2}
WINTER_FACTOR = 1.5
OTHER_FACTOR = 0.8
# Unresolved N marks are left only on the last school days before --today;
# older ones have been followed up and carry the reason found.
UNRESOLVED_DAYS = 2
STUDY_LEAVE_FROM = (5, 18)
TRIP_DAYS_PER_GROUP = 2
PART_TIME_NURSERY_SHARE = 0.4
# Mean days missed per absence of each reason: illness runs one to three
# days, leave for a family event two, an appointment takes one session.
# Suspensions (E) come from the behaviour loader, which records each one.
EPISODE_DAYS = {"I": 1.8, "C": 2.0, "M": 0.5}
COMMENTS = {
    "M": ("Dental appointment", "Hospital appointment", "GP appointment"),
    "I": ("", "", "Parent rang: unwell", "Parent emailed"),
    "G": ("Holiday in term time, not authorised",),
    "C": ("Leave granted by the headteacher: family funeral", "Leave granted: family wedding"),
    "V": ("Year group trip",),
    "P": ("Inter-school sports fixture",),
    "B": ("Off-site course",),
}

MARK_COLUMNS = (
    "pupil",
    "date",
    "session",
    "code",
    "category",
    "minutes_late",
    "comment",
    "academy",
    "academic_year",
    "year_group",
    "tutor_group",
    "week_start",
    "entered_by",
    "entered_at",
    "changed_by",
    "changed_at",
    "version",
)
REGISTER_COLUMNS = (
    "tutor_group",
    "date",
    "session",
    "taken_by",
    "taken_at",
    "last_saved_by",
    "last_saved_at",
)


@dataclass(frozen=True)
class AttendanceLoadResult:
    marks: int
    registers: int


@dataclass(frozen=True)
class SchoolDay:
    """One day on which marks are due, with the values every mark of the day shares."""

    day: datetime.date
    stored_day: Any
    stored_week: Any
    # Closure code per session ("#", "Y4", or "Y" before 19/08/2024), or ""
    # when the session is open.
    am_closure: str
    pm_closure: str
    am_entered: Any
    pm_entered: Any
    recent: bool
    winter: bool


@dataclass
class PupilYear:
    """An enrolment of one pupil in one academic year, as read for the marks."""

    upn: str
    pupil_id: int
    academic_year_id: int
    year_group_id: int
    nc_year: int
    tutor_group_id: int | None
    start: datetime.date
    end: datetime.date | None


@dataclass
class Profile:
    absence: float
    late: float
    kind: str
    reasons: tuple[str, ...]
    reason_weights: tuple[float, ...]
    holiday_days: set[datetime.date] = field(default_factory=set)
    holiday_code: str = "G"

    def start_chance(self, factor: float) -> float:
        """Return the chance that an absence starts on a day with no absence
        running, such that about `absence * factor` of days are missed.

        An absence lasts `length` days on average. With start chance p the
        share of days missed is p * length / (p * length + 1 - p), and this
        solves that for p.
        """
        share = min(0.95, self.absence * factor)
        total = sum(self.reason_weights)
        length = (
            sum(
                EPISODE_DAYS.get(code, 1.0) * weight
                for code, weight in zip(self.reasons, self.reason_weights, strict=True)
            )
            / total
        )
        return share / (length * (1 - share) + share)


def load_attendance(ctx: DemoContext, *, weeks: int | None = None) -> AttendanceLoadResult:
    """Write marks and registers for every academy of the demo trust and
    rebuild the attendance summaries.

    With `weeks`, only the school days of the last `weeks` weeks before
    --today get marks, which keeps a very large demo quick to load.
    """
    assert ctx.current_year is not None and ctx.last_year is not None
    base = ctx.rng.getrandbits(64)
    years = [ctx.last_year, ctx.current_year]
    first_day = None
    if weeks is not None:
        first_day = ctx.today - datetime.timedelta(weeks=weeks)
    marks = 0
    registers = 0
    for plan in ctx.plans:
        loader = _AcademyLoader(ctx, plan, base, years, first_day)
        marks += loader.write_marks()
        registers += loader.write_registers()
    summaries.rebuild_academies([p.academy.pk for p in ctx.plans], [y.pk for y in years])
    return AttendanceLoadResult(marks=marks, registers=registers)


def _category(code: str, day: datetime.date) -> str:
    definition = code_on(code, day)
    assert definition is not None, f"demo code {code} is not in force on {day}"
    return str(definition.category)


class _AcademyLoader:
    def __init__(
        self,
        ctx: DemoContext,
        plan: AcademyPlan,
        base: int,
        years: list[AcademicYear],
        first_day: datetime.date | None,
    ) -> None:
        self.ctx = ctx
        self.first_day = first_day
        self.plan = plan
        self.academy: Academy = plan.academy
        self.base = base
        self.years = years
        self.times = session_times(self.academy.pk)
        self.ops = connection.ops
        self.days = {year.pk: self._school_days(year) for year in years}
        # Random streams are keyed by the year's start, never by database ids.
        self.start_years = {year.pk: year.start_year for year in years}
        groups = TutorGroup.objects.filter(academy=self.academy).values_list(
            "pk", "name", "academic_year_id", "tutor__user_id"
        )
        self.tutor_users: dict[int, int | None] = {}
        self.trip_days: dict[int, set[datetime.date]] = {}
        for group_id, name, year_id, user_id in groups:
            self.tutor_users[group_id] = user_id
            group_rng = random.Random(
                f"{base}:{self.academy.urn}:{name}:{self.start_years[year_id]}"
            )
            open_days = [d.day for d in self.days[year_id] if not d.am_closure]
            count = min(TRIP_DAYS_PER_GROUP, len(open_days))
            self.trip_days[group_id] = set(group_rng.sample(open_days, count))
        # (tutor group, date, session) of every register with a mark.
        self.registers: dict[tuple[int, datetime.date, str], Any] = {}
        self.categories: dict[tuple[str, bool], str] = {}

    # Days ---------------------------------------------------------------

    def _school_days(self, year: AcademicYear) -> list[SchoolDay]:
        first = max(year.start_date, self.first_day or year.start_date)
        last = min(year.end_date, self.ctx.today - datetime.timedelta(days=1))
        if last < first:
            return []
        open_days = set(services.school_days(self.academy, first, last))
        closures = {
            c.date: c
            for c in Closure.objects.filter(academy=self.academy, date__range=(first, last))
        }
        all_days = sorted(open_days | {d for d in closures if d.weekday() < 5})
        recent: set[datetime.date] = set()
        if all_days and (self.ctx.today - all_days[-1]).days <= 7:
            recent = set(all_days[-UNRESOLVED_DAYS:])
        result = []
        for day in all_days:
            am_closure = pm_closure = ""
            closure = closures.get(day)
            if closure is not None:
                code = _closure_code(closure, day)
                if closure.sessions in (Closure.Sessions.BOTH, Closure.Sessions.AM):
                    am_closure = code
                if closure.sessions in (Closure.Sessions.BOTH, Closure.Sessions.PM):
                    pm_closure = code
            result.append(
                SchoolDay(
                    day=day,
                    stored_day=self.ops.adapt_datefield_value(day),
                    stored_week=self.ops.adapt_datefield_value(week_start(day)),
                    am_closure=am_closure,
                    pm_closure=pm_closure,
                    am_entered=self._entered_at(day, Session.AM),
                    pm_entered=self._entered_at(day, Session.PM),
                    recent=day in recent,
                    winter=day.month in WINTER_MONTHS,
                )
            )
        return result

    def _entered_at(self, day: datetime.date, session: str) -> Any:
        start = datetime.datetime.combine(day, self.times.start_of(session), tzinfo=LONDON)
        return self.ops.adapt_datetimefield_value(start + datetime.timedelta(minutes=7))

    # Marks --------------------------------------------------------------

    def _pupil_years(self) -> list[PupilYear]:
        rows = (
            Enrolment.objects.filter(
                academy=self.academy, academic_year_id__in=[y.pk for y in self.years]
            )
            .values_list(
                "pupil__upn",
                "pupil_id",
                "academic_year_id",
                "year_group_id",
                "year_group__nc_year",
                "tutor_group_id",
                "start_date",
                "end_date",
            )
            .order_by("pupil__upn", "start_date")
        )
        return [PupilYear(*row) for row in rows]

    def write_marks(self) -> int:
        # Read the enrolments before the insert starts: the row generator must
        # not query, because a COPY uses the connection until it ends.
        pupil_years = self._pupil_years()
        return _insert(AttendanceMark, MARK_COLUMNS, self._mark_rows(pupil_years))

    def _mark_rows(self, pupil_years: list[PupilYear]) -> Iterator[tuple[Any, ...]]:
        for pupil_year in pupil_years:
            start_year = self.start_years[pupil_year.academic_year_id]
            rng = random.Random(f"{self.base}:{pupil_year.upn}:{start_year}")
            days = [
                d
                for d in self.days[pupil_year.academic_year_id]
                if d.day >= pupil_year.start and (pupil_year.end is None or d.day <= pupil_year.end)
            ]
            yield from self._pupil_rows(rng, pupil_year, days)

    def _profile(self, rng: random.Random, pupil_year: PupilYear, days: list[SchoolDay]) -> Profile:
        persistent_share = (
            PERSISTENT_SHARE_SECONDARY if pupil_year.nc_year >= 7 else PERSISTENT_SHARE_PRIMARY
        )
        roll = rng.random()
        if roll < SEVERE_SHARE:
            profile = Profile(
                absence=rng.uniform(0.5, 0.8),
                late=0.08,
                kind="severe",
                reasons=("I", "O", "C", "M"),
                reason_weights=(40, 50, 5, 5),
            )
        elif roll < SEVERE_SHARE + persistent_share:
            profile = Profile(
                absence=rng.uniform(0.10, 0.28),
                late=0.05,
                kind="persistent",
                reasons=("I", "O", "M", "C", "R"),
                reason_weights=(62, 25, 8, 3, 2),
            )
        else:
            profile = Profile(
                absence=min(0.085, rng.expovariate(1 / 0.025)),
                late=0.015,
                kind="regular",
                reasons=("I", "M", "O", "R", "T"),
                reason_weights=(78, 13, 5, 3, 1),
            )
        holiday_share = 0.2 if profile.kind != "regular" else 0.07
        open_days = [d.day for d in days if not d.am_closure]
        if rng.random() < holiday_share and len(open_days) > 10:
            length = rng.randint(3, 5)
            first = rng.randrange(0, len(open_days) - length)
            profile.holiday_days = set(open_days[first : first + length])
            profile.holiday_code = "G" if rng.random() < 0.85 else "C"
        return profile

    def _pupil_rows(
        self, rng: random.Random, pupil_year: PupilYear, days: list[SchoolDay]
    ) -> Iterator[tuple[Any, ...]]:
        profile = self._profile(rng, pupil_year, days)
        group = pupil_year.tutor_group_id
        trips = self.trip_days.get(group, set()) if group is not None else set()
        entered_by = self.tutor_users.get(group) if group is not None else None
        shared = (self.academy.pk, pupil_year.academic_year_id, pupil_year.year_group_id, group)
        part_time = pupil_year.nc_year == -1 and rng.random() < PART_TIME_NURSERY_SHARE
        study_leave = pupil_year.nc_year == 11
        secondary = pupil_year.nc_year >= 7
        episode_code = ""
        episode_left = 0
        chances = {
            True: profile.start_chance(WINTER_FACTOR),
            False: profile.start_chance(OTHER_FACTOR),
        }

        for school_day in days:
            day = school_day.day
            am: tuple[str, int | None, str]
            pm: tuple[str, int | None, str]
            if episode_left > 0:
                episode_left -= 1
                am = pm = (episode_code, None, "")
            elif day in profile.holiday_days:
                code = profile.holiday_code
                am = pm = (code, None, rng.choice(COMMENTS[code]))
            elif day in trips and rng.random() < 0.95:
                am = pm = ("V", None, COMMENTS["V"][0])
            elif study_leave and (day.month, day.day) >= STUDY_LEAVE_FROM and day.month < 9:
                am = ("S", None, "") if rng.random() < 0.6 else ("/", None, "")
                pm = ("S", None, "") if rng.random() < 0.6 else ("\\", None, "")
            elif rng.random() < chances[school_day.winter]:
                code = rng.choices(profile.reasons, profile.reason_weights)[0]
                comment = rng.choice(COMMENTS.get(code, ("",)))
                if code == "M":
                    # An appointment takes one session; the pupil attends the other.
                    if rng.random() < 0.5:
                        am, pm = (code, None, comment), ("\\", None, "")
                    else:
                        am, pm = ("/", None, ""), (code, None, comment)
                else:
                    if code == "I":
                        # Illness runs on: one to three days in all.
                        episode_left = rng.choice((0, 0, 1, 1, 2))
                        episode_code = code
                    elif code == "C":
                        episode_left = 1
                        episode_code = code
                    am = pm = (code, None, comment)
            else:
                am = ("/", None, "")
                pm = ("\\", None, "")
                if rng.random() < profile.late:
                    am = self._late(rng)
                elif secondary and rng.random() < 0.004:
                    pm = ("P", None, COMMENTS["P"][0])
                elif rng.random() < 0.001:
                    am = pm = ("B", None, COMMENTS["B"][0])
            if school_day.recent and am[0] in {"I", "O"} and rng.random() < 0.5:
                # No parent has rung in yet, so the reason is still unknown.
                am = ("N", None, "")
                if pm[0] in {"I", "O"}:
                    pm = ("N", None, "")
            if part_time or (pupil_year.nc_year == -1 and rng.random() < 0.05):
                pm = ("X", None, "")

            for session, (code, minutes, comment), closure, entered in (
                (Session.AM, am, school_day.am_closure, school_day.am_entered),
                (Session.PM, pm, school_day.pm_closure, school_day.pm_entered),
            ):
                if closure:
                    code, minutes, comment = closure, None, ""
                elif group is not None:
                    self.registers.setdefault((group, day, str(session)), entered)
                yield (
                    pupil_year.pupil_id,
                    school_day.stored_day,
                    str(session),
                    code,
                    self._category(code, day),
                    minutes,
                    comment,
                    *shared,
                    school_day.stored_week,
                    None if closure else entered_by,
                    entered,
                    None,
                    None,
                    1,
                )

    def _late(self, rng: random.Random) -> tuple[str, int | None, str]:
        if rng.random() < 0.88:
            minutes = rng.randint(2, min(25, self.times.open_minutes))
        else:
            minutes = rng.randint(self.times.open_minutes + 1, self.times.open_minutes + 40)
        code = "L" if minutes <= self.times.open_minutes else "U"
        return code, minutes, ""

    def _category(self, code: str, day: datetime.date) -> str:
        key = (code, day >= CODES_2024_FROM)
        category = self.categories.get(key)
        if category is None:
            category = self.categories[key] = _category(code, day)
        return category

    # Registers ----------------------------------------------------------

    def write_registers(self) -> int:
        rows = (
            (
                group,
                self.ops.adapt_datefield_value(day),
                session,
                self.tutor_users.get(group),
                entered,
                self.tutor_users.get(group),
                entered,
            )
            for (group, day, session), entered in sorted(self.registers.items())
        )
        return _insert(Register, REGISTER_COLUMNS, rows)


def _closure_code(closure: Closure, day: datetime.date) -> str:
    code = CLOSURE_CODES[closure.kind]
    if code == "Y4" and day < CODES_2024_FROM:
        # Before the 2024 codes an unexpected closure was recorded as Y.
        return "Y"
    return code


def _insert(model: Any, names: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert `rows` (values in the order of the fields `names`) into
    `model`'s table without building model instances; return the row count.

    `rows` must not query the database while it is consumed.
    """
    table = model._meta.db_table
    columns = [model._meta.get_field(name).column for name in names]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= INSERT_BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
