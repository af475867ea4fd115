"""The demo trust's register marks: coverage, shape, summaries and determinism."""

import datetime
import hashlib
import random
import statistics
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from academies import services
from academies.demo import attendance, pupils, staffing, structure
from academies.models import AcademicYear, Academy, Closure
from attendance.codes import code_on
from attendance.models import AttendanceMark, PupilWeekSummary, PupilYearSummary, Register
from attendance.summaries import COUNT_EXPRESSIONS, COUNT_FIELDS, counts_of
from pupils.models import Enrolment

TODAY = datetime.date(2026, 12, 4)
SMALL = ["--academies", "3", "--pupils-per-academy", "40", "--seed", "7", "--today", "2026-12-04"]
# Large enough for a few severe absentees among the pupils.
SEEDED = ["--academies", "3", "--pupils-per-academy", "150", "--seed", "3", "--today", "2026-12-04"]


def seed(*arguments: str) -> None:
    call_command("seed_demo", *arguments, stdout=StringIO())


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the read-only tests of this module, and empty the
    database afterwards so later modules start from nothing."""
    with django_db_blocker.unblock():
        seed(*SEEDED)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def mark_fingerprint() -> str:
    digest = hashlib.sha256()
    rows = AttendanceMark.objects.values_list(
        "pupil__upn", "date", "session", "code", "minutes_late", "comment"
    ).order_by("pupil__upn", "date", "session")
    for row in rows:
        digest.update(repr(row).encode())
    return digest.hexdigest()


def seed_and_fingerprint(*arguments: str) -> str:
    with transaction.atomic():
        seed(*arguments)
        result = mark_fingerprint()
        transaction.set_rollback(True)
    return result


@pytest.mark.django_db
def test_every_school_day_marked_while_enrolled(seeded):
    last_year = AcademicYear.objects.get(start_year=2025)
    marked: dict[tuple[int, datetime.date], set[str]] = {}
    for pupil_id, day, session in AttendanceMark.objects.filter(
        academic_year=last_year
    ).values_list("pupil_id", "date", "session"):
        marked.setdefault((pupil_id, day), set()).add(session)

    enrolments = list(Enrolment.objects.filter(academic_year=last_year).select_related("academy"))
    assert enrolments
    for enrolment in enrolments:
        days = services.school_days(
            enrolment.academy, enrolment.start_date, enrolment.end_date or last_year.end_date
        )
        assert days
        for day in days:
            assert marked.get((enrolment.pupil_id, day)) == {"AM", "PM"}, (enrolment, day)

    expected = sum(
        len(services.school_days(e.academy, e.start_date, e.end_date or last_year.end_date))
        for e in enrolments
    )
    closure_marks = AttendanceMark.objects.filter(
        academic_year=last_year, code__in=["#", "Y4"]
    ).count()
    assert AttendanceMark.objects.filter(academic_year=last_year).count() == (
        2 * expected + closure_marks
    )


@pytest.mark.django_db
def test_no_marks_from_today_on(seeded):
    assert AttendanceMark.objects.filter(academic_year__start_year=2026).exists()
    # Only the E marks of an exclusion in force are written ahead of the register.
    from_today = AttendanceMark.objects.filter(date__gte=TODAY)
    assert not from_today.exclude(code="E", entered_by__isnull=True).exists()
    assert not Register.objects.filter(date__gte=TODAY).exists()
    taken = AttendanceMark.objects.filter(entered_by__isnull=False)
    yesterday_school = taken.order_by("-date").values_list("date", flat=True)[0]
    assert yesterday_school == datetime.date(2026, 12, 3)


@pytest.mark.django_db
def test_marks_only_while_enrolled(seeded):
    enrolments = {}
    for e in Enrolment.objects.all():
        enrolments.setdefault((e.pupil_id, e.academic_year_id), []).append(e)
    rows = AttendanceMark.objects.values_list(
        "pupil_id", "academic_year_id", "date", "academy_id", "year_group_id", "tutor_group_id"
    )
    for pupil_id, year_id, day, academy_id, year_group_id, tutor_group_id in rows:
        active = [e for e in enrolments[(pupil_id, year_id)] if e.is_active_on(day)]
        assert len(active) == 1, (pupil_id, day)
        assert active[0].academy_id == academy_id
        assert active[0].year_group_id == year_group_id
        assert active[0].tutor_group_id == tutor_group_id


@pytest.mark.django_db
def test_categories_and_week_starts_follow_dates(seeded):
    rows = AttendanceMark.objects.values_list("code", "date", "category", "week_start").distinct()
    for code, day, category, week in rows:
        definition = code_on(code, day)
        assert definition is not None, (code, day)
        assert category == definition.category
        assert week == day - datetime.timedelta(days=day.weekday())


@pytest.mark.django_db
def test_distribution_looks_like_a_trust(seeded):
    rows = [counts_of(r) for r in PupilYearSummary.objects.filter(academic_year__start_year=2025)]
    rates = [c.attendance_rate for c in rows if c.attendance_rate is not None]
    persistent = sum(c.persistent_absence for c in rows)
    severe = sum(c.severe_absence for c in rows)

    assert statistics.median(rates) > 95
    assert 0.08 * len(rows) <= persistent <= 0.3 * len(rows)
    assert severe >= 1
    assert severe <= 0.05 * len(rows)

    codes = set(AttendanceMark.objects.values_list("code", flat=True).distinct())
    assert {"/", "\\", "L", "U", "I", "M", "G", "V", "#"} <= codes
    assert AttendanceMark.objects.filter(code="U", minutes_late__gt=30).exists()
    assert not AttendanceMark.objects.filter(code="L", minutes_late__gt=30).exists()
    assert not AttendanceMark.objects.filter(code="U", minutes_late__isnull=True).exists()
    assert AttendanceMark.objects.filter(code="S", year_group__nc_year=11).exists()
    assert AttendanceMark.objects.filter(code="X", year_group__nc_year=-1).exists()
    assert not AttendanceMark.objects.filter(code="X").exclude(year_group__nc_year=-1).exists()


@pytest.mark.django_db
def test_winter_illness_more_frequent(seeded):
    year = AcademicYear.objects.get(start_year=2025)
    marks = AttendanceMark.objects.filter(academic_year=year)
    winter = marks.filter(date__month__in=[12, 1, 2])
    other = marks.exclude(date__month__in=[12, 1, 2])
    winter_share = winter.filter(code="I").count() / winter.count()
    other_share = other.filter(code="I").count() / other.count()
    assert winter_share > 1.3 * other_share


@pytest.mark.django_db
def test_unresolved_n_only_recent(seeded):
    dates = set(AttendanceMark.objects.filter(code="N").values_list("date", flat=True))
    assert dates <= {datetime.date(2026, 12, 2), datetime.date(2026, 12, 3)}


@pytest.mark.django_db
def test_summaries_equal_recount(seeded):
    year_rows = {
        (r["pupil_id"], r["academy_id"], r["academic_year_id"]): counts_of(r)
        for r in AttendanceMark.objects.values("pupil_id", "academy_id", "academic_year_id")
        .annotate(**COUNT_EXPRESSIONS)
        .order_by()
    }
    stored = {
        (s.pupil_id, s.academy_id, s.academic_year_id): counts_of(s)
        for s in PupilYearSummary.objects.all()
    }
    assert stored == year_rows

    week_rows = {
        (r["pupil_id"], r["year_group_id"], r["week_start"]): counts_of(r)
        for r in AttendanceMark.objects.values("pupil_id", "year_group_id", "week_start")
        .annotate(**COUNT_EXPRESSIONS)
        .order_by()
    }
    stored_weeks = {
        (s.pupil_id, s.year_group_id, s.week_start): counts_of(s)
        for s in PupilWeekSummary.objects.all()
    }
    assert stored_weeks == week_rows
    assert all(getattr(c, name) >= 0 for c in stored.values() for name in COUNT_FIELDS)


@pytest.mark.django_db
def test_closures_carry_closure_codes(seeded):
    closures = list(Closure.objects.filter(date__lt=TODAY))
    assert closures
    for closure in closures:
        marks = AttendanceMark.objects.filter(academy=closure.academy, date=closure.date)
        expected = "Y4" if closure.kind == Closure.Kind.UNEXPECTED else "#"
        on_roll = Enrolment.objects.filter(
            academy=closure.academy, start_date__lte=closure.date
        ).exclude(end_date__lt=closure.date)
        assert marks.count() == 2 * on_roll.count()
        assert set(marks.values_list("code", flat=True)) == {expected}
        assert not Register.objects.filter(
            tutor_group__academy=closure.academy, date=closure.date
        ).exists()


@pytest.mark.django_db
def test_registers_taken_by_tutors(seeded):
    academy = Academy.objects.order_by("pk").first()
    assert academy is not None
    registers = Register.objects.filter(tutor_group__academy=academy).select_related(
        "tutor_group__tutor"
    )
    assert registers.exists()
    for register in registers[:200]:
        assert register.taken_by_id == register.tutor_group.tutor.user_id
        marks = AttendanceMark.objects.filter(
            tutor_group=register.tutor_group, date=register.date, session=register.session
        )
        assert marks.exists()
        assert marks.filter(entered_by_id=register.taken_by_id).count() == marks.count()
    marked_sessions = (
        AttendanceMark.objects.filter(tutor_group__isnull=False, date__lt=TODAY)
        .exclude(code__in=["#", "Y4"])
        .values("tutor_group_id", "date", "session")
        .distinct()
        .count()
    )
    assert Register.objects.count() == marked_sessions


@pytest.mark.django_db
def test_entered_at_on_mark_date(seeded):
    for mark in AttendanceMark.objects.order_by("?")[:300]:
        assert timezone.localdate(mark.entered_at) == mark.date
        if mark.code == "E":
            # A demo suspension writes E over the mark its register already
            # had, which is that mark's second version.
            assert mark.version in (1, 2)
        else:
            assert mark.version == 1


@pytest.mark.django_db
def test_same_seed_same_marks():
    # Work on an empty database whether or not this module's seed has run;
    # the test's transaction brings the seeded data back afterwards.
    call_command("flush", interactive=False, verbosity=0)
    first = seed_and_fingerprint(*SMALL)
    second = seed_and_fingerprint(*SMALL)
    other = seed_and_fingerprint(
        "--academies", "3", "--pupils-per-academy", "40", "--seed", "8", "--today", "2026-12-04"
    )
    assert first == second
    assert first != other


@pytest.mark.django_db
def test_weeks_limit_marks_to_recent_days():
    # Work on an empty database whether or not this module's seed has run.
    call_command("flush", interactive=False, verbosity=0)
    ctx = structure.DemoContext(rng=random.Random(5), today=TODAY, current_start_year=2026)
    structure.create_trust(ctx)
    structure.create_calendar(ctx)
    structure.create_academies(ctx, 1)
    structure.create_year_groups(ctx, 60)
    structure.plan_tutor_groups(ctx)
    staff = staffing.plan_staff(ctx)
    staffing.save_staff(ctx, staff)
    structure.save_tutor_groups(ctx)
    staffing.save_roles(staff)
    structure.create_closures(ctx)
    pupils.create_pupils(ctx)

    result = attendance.load_attendance(ctx, weeks=2)

    dates = set(AttendanceMark.objects.values_list("date", flat=True))
    assert min(dates) >= TODAY - datetime.timedelta(weeks=2)
    assert max(dates) == datetime.date(2026, 12, 3)
    assert len(dates) == 10
    assert result.marks == AttendanceMark.objects.count()
    assert result.registers == Register.objects.count()
    assert (
        PupilYearSummary.objects.count()
        == Enrolment.objects.filter(
            academic_year__start_year=2026, start_date__lte=datetime.date(2026, 12, 3)
        ).count()
    )
