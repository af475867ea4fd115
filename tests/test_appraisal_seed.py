"""Appraisals in the demo seed.

Covers both cycles with their deadlines, every member of staff's appraisal
at a stage that matches its fields, and linked objectives that the live
measures can compute. Also covers portfolios, the trust's CPD offer, and
what --if-empty and --seed do to them.
"""

import datetime
from collections import Counter, defaultdict
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

import academies.demo.appraisal as demo_appraisal
from academies.models import AcademicYear
from appraisal.deadlines import default_deadlines
from appraisal.measures import measure_errors, measure_values
from appraisal.models import (
    Appraisal,
    AppraisalCycle,
    CpdBooking,
    CpdEvent,
    Deadline,
    DevelopmentNeed,
    Measure,
    MeasureScope,
    Objective,
    ObjectiveReview,
    Outcome,
    PortfolioEntry,
    Signature,
    Stage,
    Track,
)
from appraisal.selectors import current_cycle
from appraisal.standards import TEACHERS_STANDARDS
from progress.models import TeachingGroup
from staff.models import PostType, Role, RoleAssignment, StaffMember
from trust.models import AuditEvent

TODAY = datetime.date(2026, 12, 4)
SMALL = ["--academies", "3", "--pupils-per-academy", "80", "--seed", "7", "--today", "2026-12-04"]
TINY = ["--academies", "2", "--pupils-per-academy", "40", "--today", "2026-12-04"]
SUPPORT_STANDARDS = "Support staff standards (trust)"
Status = Appraisal.Status
AGREED_OR_LATER = (
    Status.OBJECTIVES_AGREED,
    Status.MID_YEAR_REVIEWED,
    Status.FINAL_REVIEWED,
    Status.SIGNED_OFF,
)

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 12, 4, 10, 0), tick=False):
        yield


def seed(*arguments: str) -> str:
    out = StringIO()
    call_command("seed_demo", *arguments, stdout=out)
    return out.getvalue()


def appraisal_fingerprint() -> dict[str, list]:
    return {
        "appraisals": sorted(
            Appraisal.objects.values_list(
                "cycle__academic_year__start_year",
                "appraisee__email",
                "appraiser__email",
                "track",
                "status",
                "objectives_agreed_at",
            ),
            key=str,
        ),
        "objectives": sorted(
            Objective.objects.values_list(
                "appraisal__appraisee__email", "title", "weighting", "measure", "target_value"
            ),
            key=str,
        ),
        "entries": sorted(
            PortfolioEntry.objects.values_list("staff__email", "kind", "title", "started_on"),
            key=str,
        ),
        "bookings": sorted(
            CpdBooking.objects.values_list("event__title", "staff__email", "attendance"),
            key=str,
        ),
    }


def seed_and_fingerprint(*arguments: str) -> dict[str, list]:
    with transaction.atomic():
        seed(*arguments)
        result = appraisal_fingerprint()
        transaction.set_rollback(True)
    return result


# These seed their own trust and roll it back, so they run before the
# module's shared seed below exists.


def test_same_seed_same_appraisals():
    first = seed_and_fingerprint(*TINY, "--seed", "3")
    second = seed_and_fingerprint(*TINY, "--seed", "3")
    other = seed_and_fingerprint(*TINY, "--seed", "4")

    assert first["objectives"]
    for key in first:
        assert first[key] == second[key], key
    assert first["appraisals"] != other["appraisals"]


def test_queries_independent_of_academy_count(monkeypatch):
    counted: list[int] = []
    load = demo_appraisal.load_appraisal

    def counting_load(ctx, *, staff):
        with CaptureQueriesContext(connection) as queries:
            result = load(ctx, staff=staff)
        counted.append(len(queries.captured_queries))
        return result

    monkeypatch.setattr(demo_appraisal, "load_appraisal", counting_load)
    for academies in ("2", "4"):
        with transaction.atomic():
            seed("--academies", academies, "--pupils-per-academy", "30", "--today", "2026-12-04")
            transaction.set_rollback(True)

    assert len(counted) == 2
    assert counted[0] == counted[1]


def stage_problems(today: datetime.date) -> list[str]:
    """Return a line for each appraisal whose status does not match its steps
    and signatures, or whose last step is not before `today`."""
    problems = []
    appraisals = Appraisal.objects.prefetch_related("signatures", "objectives__reviews")
    for appraisal in appraisals:
        rank = Status.values.index(appraisal.status)
        objective_signatures = {
            s.party
            for s in appraisal.signatures.all()
            if s.document == Signature.Document.OBJECTIVES
        }
        final_signatures = {
            s.party
            for s in appraisal.signatures.all()
            if s.document == Signature.Document.FINAL_REVIEW
        }
        kinds = [{r.kind for r in o.reviews.all()} for o in appraisal.objectives.all()]
        expected = {
            "objectives signed by both": rank >= 1,
            "mid-year reviews": rank >= 2,
            "final reviews": rank >= 3,
            "final review signed by both": rank >= 4,
        }
        found = {
            "objectives signed by both": len(objective_signatures) == 2,
            "mid-year reviews": all(ObjectiveReview.Kind.MID_YEAR in k for k in kinds),
            "final reviews": all(ObjectiveReview.Kind.FINAL in k for k in kinds),
            "final review signed by both": len(final_signatures) == 2,
        }
        for name, should_hold in expected.items():
            if found[name] != should_hold:
                problems.append(f"{appraisal.pk} {appraisal.status}: {name} is {found[name]}")
        last_step = appraisal.updated_at.astimezone(datetime.UTC).date()
        if last_step >= today:
            problems.append(f"{appraisal.pk} {appraisal.status}: last step on {last_step}")
    return problems


@pytest.mark.parametrize("today", ["2026-09-02", "2027-04-20", "2027-08-25"])
def test_other_dates_stay_consistent(today):
    day = datetime.date.fromisoformat(today)
    with (
        time_machine.travel(datetime.datetime.combine(day, datetime.time(10)), tick=False),
        transaction.atomic(),
    ):
        seed(*TINY[:-2], "--today", today)
        statuses = set(Appraisal.objects.values_list("status", flat=True))
        problems = stage_problems(day)
        missing = StaffMember.objects.exclude(pk__in=trustee_ids()).exclude(
            appraisals__cycle__academic_year__start_date__lte=day,
            appraisals__cycle__academic_year__end_date__gte=day,
        )
        missing_count = missing.count()
        transaction.set_rollback(True)

    assert problems == []
    assert missing_count == 0
    assert len(statuses) >= 2


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """Seed once for the read-only tests below, and empty the database
    afterwards so later modules start from nothing."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(datetime.datetime(2026, 12, 4, 10, 0), tick=False),
    ):
        seed(*SMALL)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def seeded(seeded_once, db):
    return None


def this_cycle() -> AppraisalCycle:
    cycle = current_cycle(TODAY)
    assert cycle is not None
    return cycle


def last_cycle() -> AppraisalCycle:
    return AppraisalCycle.objects.get(
        academic_year__start_year=this_cycle().academic_year.start_year - 1
    )


def trustee_ids() -> set[int]:
    """Return the ids of staff whose only role is trustee. Trustees are
    governors, not employees, so they are not appraised."""
    roles: dict[int, set[str]] = defaultdict(set)
    for staff_id, role in RoleAssignment.objects.values_list("staff_id", "role"):
        roles[staff_id].add(role)
    return {staff_id for staff_id, held in roles.items() if held == {Role.TRUSTEE}}


def headteacher_ids() -> set[int]:
    return set(
        RoleAssignment.objects.filter(role=Role.HEADTEACHER).values_list("staff_id", flat=True)
    )


def test_two_cycles_with_default_deadlines(seeded):
    cycles = list(AppraisalCycle.objects.select_related("academic_year"))

    assert [c.academic_year.start_year for c in cycles] == [2026, 2025]
    for cycle in cycles:
        trust = {
            (d.track, d.stage): d.due for d in Deadline.objects.filter(cycle=cycle, academy=None)
        }
        assert trust == default_deadlines(cycle.academic_year)
        assert cycle.uses_pay_recommendation


def test_one_academy_moved_mid_year(seeded):
    cycle = this_cycle()
    moved = list(Deadline.objects.filter(academy__isnull=False))

    assert len(moved) == 1
    override = moved[0]
    assert override.cycle == cycle
    assert (override.track, override.stage) == (Track.STAFF, Stage.MID_YEAR)
    trust_date = default_deadlines(cycle.academic_year)[(Track.STAFF, Stage.MID_YEAR)]
    assert override.due != trust_date
    assert override.due.weekday() == 4
    start, end = cycle.academic_year.start_date, cycle.academic_year.end_date
    assert start <= override.due <= end


def test_every_employee_has_current_appraisal(seeded):
    cycle = this_cycle()
    trustees = trustee_ids()
    per_staff = Counter(
        Appraisal.objects.filter(cycle=cycle).values_list("appraisee_id", flat=True)
    )

    assert trustees
    employees = StaffMember.objects.exclude(pk__in=trustees)
    assert employees.exists()
    for staff_id in employees.values_list("pk", flat=True):
        assert per_staff[staff_id] == 1, staff_id
    assert not set(per_staff) & trustees


def test_appraisers_and_tracks(seeded):
    heads = headteacher_ids()
    appraisals = Appraisal.objects.select_related("appraisee", "appraiser", "standard_set")

    for appraisal in appraisals:
        appraisee, appraiser = appraisal.appraisee, appraisal.appraiser
        assert appraiser is not None, appraisee.pk
        assert appraiser.pk != appraisee.pk
        if appraisee.line_manager_id is not None:
            assert appraiser.pk == appraisee.line_manager_id
        assert appraisal.academy_id == appraisee.academy_id
        if appraisee.pk in heads:
            assert appraisal.track == Track.HEADTEACHER
            assert appraisal.external_adviser
            assert appraiser.academy_id is None
        else:
            assert appraisal.track == Track.STAFF
        teaching = appraisee.post_type in (PostType.TEACHER, PostType.LEADERSHIP)
        expected_set = TEACHERS_STANDARDS if teaching else SUPPORT_STANDARDS
        assert appraisal.standard_set.name == expected_set


def test_chief_executive_appraised_by_chair(seeded):
    chief = StaffMember.objects.get(job_title="Chief executive officer")

    appraisal = Appraisal.objects.get(cycle=this_cycle(), appraisee=chief)

    assert appraisal.appraiser.job_title == "Chair of trustees"


def test_objectives_two_to_four_totalling_100(seeded):
    appraisals = Appraisal.objects.prefetch_related("objectives")

    for appraisal in appraisals:
        weightings = [o.weighting for o in appraisal.objectives.all()]
        assert 2 <= len(weightings) <= 4, appraisal.pk
        assert sum(weightings) == 100, appraisal.pk
        positions = [o.position for o in appraisal.objectives.all()]
        assert positions == list(range(1, len(positions) + 1))


def test_agreed_appraisals_signed_by_both(seeded):
    appraisals = Appraisal.objects.filter(status__in=AGREED_OR_LATER).prefetch_related("signatures")

    assert appraisals.exists()
    for appraisal in appraisals:
        signed = {
            s.party: s
            for s in appraisal.signatures.all()
            if s.document == Signature.Document.OBJECTIVES
        }
        assert set(signed) == {Signature.Party.APPRAISEE, Signature.Party.APPRAISER}
        assert signed[Signature.Party.APPRAISEE].staff_id == appraisal.appraisee_id
        assert signed[Signature.Party.APPRAISER].staff_id == appraisal.appraiser_id
        assert appraisal.objectives_agreed_at is not None
        assert appraisal.objectives_agreed_at >= signed[Signature.Party.APPRAISEE].signed_at
        assert appraisal.objectives_agreed_by_id == appraisal.appraiser_id


def test_steps_dated_in_order(seeded):
    appraisals = Appraisal.objects.select_related(
        "appraisee", "cycle__academic_year"
    ).prefetch_related("signatures")

    for appraisal in appraisals:
        opened = appraisal.created_at
        assert opened.date() >= appraisal.cycle.academic_year.start_date
        assert opened.date() < TODAY
        if appraisal.appraisee.started_on is not None:
            assert opened.date() >= appraisal.appraisee.started_on
        for signature in appraisal.signatures.all():
            assert opened < signature.signed_at, appraisal.pk
        steps = [
            appraisal.objectives_agreed_at,
            appraisal.mid_year_reviewed_at,
            appraisal.final_reviewed_at,
            appraisal.signed_off_at,
        ]
        done = [step for step in steps if step is not None]
        assert done == sorted(done), appraisal.pk
        assert all(opened < step for step in done), appraisal.pk
        assert appraisal.updated_at == max(
            [opened, *done, *(s.signed_at for s in appraisal.signatures.all())]
        )


def test_statuses_match_steps(seeded):
    assert stage_problems(TODAY) == []


def test_drafts_have_at_most_one_signature(seeded):
    drafts = Appraisal.objects.filter(status=Status.DRAFT).prefetch_related("signatures")

    assert drafts.exists()
    for appraisal in drafts:
        signatures = list(appraisal.signatures.all())
        assert len(signatures) <= 1, appraisal.pk
        assert all(s.party == Signature.Party.APPRAISER for s in signatures)
        assert appraisal.objectives_agreed_at is None


def test_current_cycle_stages_follow_deadlines(seeded):
    by_track: dict[str, Counter[str]] = defaultdict(Counter)
    for track, status in Appraisal.objects.filter(cycle=this_cycle()).values_list(
        "track", "status"
    ):
        by_track[track][status] += 1

    staff = by_track[Track.STAFF]
    # Staff objectives were due on 31/10: most agreed, a few drafts overdue.
    assert staff[Status.OBJECTIVES_AGREED] > 0
    assert 0 < staff[Status.DRAFT] < staff[Status.OBJECTIVES_AGREED] / 4
    assert set(staff) <= {Status.DRAFT, Status.OBJECTIVES_AGREED}
    # Headteachers' objectives are due on 31/12, so none is further on.
    heads = by_track[Track.HEADTEACHER]
    assert sum(heads.values()) == 3
    assert set(heads) <= {Status.DRAFT, Status.OBJECTIVES_AGREED}


def test_last_cycle_signed_off_with_reviews(seeded):
    appraisals = Appraisal.objects.filter(cycle=last_cycle()).prefetch_related(
        "signatures", "objectives__reviews"
    )

    assert appraisals.exists()
    for appraisal in appraisals:
        assert appraisal.status == Status.SIGNED_OFF
        assert appraisal.summary
        assert appraisal.pay_recommendation
        assert appraisal.mid_year_reviewed_at is not None
        assert appraisal.objectives_agreed_at < appraisal.mid_year_reviewed_at
        assert appraisal.mid_year_reviewed_at < appraisal.final_reviewed_at
        assert appraisal.final_reviewed_at <= appraisal.signed_off_at
        assert appraisal.signed_off_at.date() < TODAY
        assert appraisal.signed_off_by_id == appraisal.appraisee_id
        final = {
            s.party
            for s in appraisal.signatures.all()
            if s.document == Signature.Document.FINAL_REVIEW
        }
        assert final == {Signature.Party.APPRAISEE, Signature.Party.APPRAISER}
        for objective in appraisal.objectives.all():
            kinds = {r.kind: r for r in objective.reviews.all()}
            assert set(kinds) == {ObjectiveReview.Kind.MID_YEAR, ObjectiveReview.Kind.FINAL}
            assert kinds[ObjectiveReview.Kind.FINAL].outcome in Outcome.values
            assert kinds[ObjectiveReview.Kind.MID_YEAR].outcome == ""


def test_last_cycle_outcomes_mostly_met(seeded):
    outcomes = Counter(
        ObjectiveReview.objects.filter(
            kind=ObjectiveReview.Kind.FINAL, objective__appraisal__cycle=last_cycle()
        ).values_list("outcome", flat=True)
    )

    assert outcomes[Outcome.MET] > sum(outcomes.values()) / 2
    assert outcomes[Outcome.PARTLY_MET] > 0
    assert outcomes[Outcome.NOT_MET] > 0
    assert 1 <= outcomes[Outcome.NOT_APPLICABLE] <= 2


def test_one_disagreement_with_comment(seeded):
    disagreements = list(Signature.objects.filter(agrees=False).select_related("appraisal"))

    assert len(disagreements) == 1
    signature = disagreements[0]
    assert signature.comment
    assert signature.party == Signature.Party.APPRAISEE
    assert signature.document == Signature.Document.FINAL_REVIEW
    assert signature.appraisal.cycle == last_cycle()


def test_development_needs_some_met(seeded):
    needs = DevelopmentNeed.objects.filter(appraisal__cycle=last_cycle())
    met = needs.filter(portfolio_entries__isnull=False).distinct()
    this_year = this_cycle().academic_year

    assert needs.exists()
    assert 0 < met.count() < needs.count()
    for entry in PortfolioEntry.objects.filter(development_need__isnull=False).select_related(
        "development_need__appraisal"
    ):
        assert entry.staff_id == entry.development_need.appraisal.appraisee_id
        assert entry.kind == entry.development_need.suggested_kind
        assert this_year.start_date <= entry.started_on < TODAY
        found_on = entry.development_need.appraisal.final_reviewed_at.date()
        assert entry.started_on > found_on


def test_linked_measures_by_role(seeded):
    cycle = this_cycle()
    objectives = Objective.objects.filter(appraisal__cycle=cycle).select_related(
        "appraisal__appraisee"
    )
    teachers_with_classes = set(
        TeachingGroup.teachers.through.objects.filter(
            teachinggroup__academic_year=cycle.academic_year
        ).values_list("staffmember_id", flat=True)
    )
    heads_of_year = dict(
        RoleAssignment.objects.filter(role=Role.HEAD_OF_YEAR).values_list(
            "staff_id", "year_group_id"
        )
    )
    heads = headteacher_ids()
    linked: dict[int, list[Objective]] = defaultdict(list)
    for objective in objectives:
        if objective.measure:
            linked[objective.appraisal.appraisee_id].append(objective)
            assert 0 <= objective.target_value <= 100

    assert teachers_with_classes
    for staff_id in teachers_with_classes - heads:
        kinds = {(o.measure, o.measure_scope) for o in linked[staff_id]}
        if staff_id not in heads_of_year:
            assert kinds == {(Measure.TMG_LATEST, MeasureScope.OWN_CLASSES)}, staff_id
    for staff_id, year_group_id in heads_of_year.items():
        (objective,) = linked[staff_id]
        assert objective.measure in (Measure.ATTENDANCE, Measure.PERSISTENT_ABSENCE)
        assert objective.measure_year_group_id == year_group_id
    for staff_id in heads:
        measures = {o.measure for o in linked[staff_id]}
        assert Measure.ATTENDANCE in measures
        assert all(o.measure_scope == MeasureScope.ACADEMY for o in linked[staff_id])
    support = objectives.filter(appraisal__appraisee__post_type=PostType.SUPPORT)
    assert support.exists()
    assert not support.exclude(measure="").exists()


def test_linked_measures_valid_and_computed(seeded):
    objectives = list(
        Objective.objects.filter(appraisal__cycle=this_cycle())
        .exclude(measure="")
        .select_related(
            "appraisal__appraisee__academy",
            "measure_academy",
            "measure_subject",
            "measure_year_group",
            "measure_tutor_group",
        )
    )

    assert objectives
    for objective in objectives:
        errors = measure_errors(
            objective.appraisal.appraisee,
            measure=objective.measure,
            measure_scope=objective.measure_scope,
            measure_academy=objective.measure_academy,
            measure_subject=objective.measure_subject,
            measure_year_group=objective.measure_year_group,
            measure_tutor_group=objective.measure_tutor_group,
            target_value=objective.target_value,
        )
        assert errors == {}, (objective.pk, errors)
    values = measure_values(objectives, TODAY)
    with_numbers = [pk for pk, value in values.items() if value.value is not None]
    assert len(with_numbers) >= 0.8 * len(objectives)
    meets = [values[pk].meets_target for pk in with_numbers]
    assert True in meets
    assert False in meets


def test_objectives_tagged_with_their_set(seeded):
    objectives = Objective.objects.select_related("appraisal__standard_set").prefetch_related(
        "standards__standard_set"
    )
    tagged = 0

    for objective in objectives:
        for standard in objective.standards.all():
            assert standard.standard_set_id == objective.appraisal.standard_set_id
            tagged += 1
    assert tagged > objectives.count()
    teachers = objectives.filter(appraisal__appraisee__post_type=PostType.TEACHER)
    assert teachers.filter(standards__code="TS2").exists()
    support = objectives.filter(appraisal__standard_set__name=SUPPORT_STANDARDS)
    assert support.filter(standards__code="SS1").exists()


def test_every_employee_has_portfolio(seeded):
    per_staff = Counter(PortfolioEntry.objects.values_list("staff_id", flat=True))
    employees = StaffMember.objects.exclude(pk__in=trustee_ids())

    for staff_id in employees.values_list("pk", flat=True):
        assert 2 <= per_staff[staff_id] <= 6, staff_id
    kinds = set(PortfolioEntry.objects.values_list("kind", flat=True))
    assert kinds == {
        "course",
        "inset",
        "coaching",
        "observation",
        "peer_visit",
        "qualification",
        "reading",
        "research",
    }


def test_portfolio_entries_dated_and_linked(seeded):
    entries = PortfolioEntry.objects.select_related("staff").prefetch_related(
        "objectives__appraisal"
    )
    last_year = AcademicYear.objects.get(start_year=2025)
    yesterday = TODAY - datetime.timedelta(days=1)

    for entry in entries:
        assert last_year.start_date <= entry.started_on < TODAY, entry.pk
        assert entry.started_on >= min(entry.staff.started_on, yesterday), entry.pk
        assert entry.ended_on is None or entry.ended_on >= entry.started_on
        assert entry.hours > 0
        assert entry.cost >= 0
        assert entry.reflection
        for objective in entry.objectives.all():
            assert objective.appraisal.appraisee_id == entry.staff_id
    assert PortfolioEntry.objects.filter(objectives__isnull=False).exists()
    assert PortfolioEntry.objects.filter(standards__isnull=False).exists()
    assert PortfolioEntry.objects.filter(ended_on__isnull=True).exists()


def test_cpd_offer_events_with_bookings(seeded):
    events = CpdEvent.objects.prefetch_related("bookings__staff")

    assert 10 <= events.count() <= 14
    assert events.filter(kind="qualification").count() >= 2
    assert events.filter(subject__isnull=False).count() >= 4
    assert events.filter(starts_on__gt=TODAY).exists()
    for event in events:
        bookings = list(event.bookings.all())
        assert bookings, event.title
        for booking in bookings:
            assert booking.booked_at.date() < min(event.starts_on, TODAY)
            assert booking.booked_at.date() >= booking.staff.started_on
        booked = [b for b in bookings if b.status == CpdBooking.Status.BOOKED]
        assert len(booked) <= event.places
        marked = {b.attendance for b in booked}
        if event.ends_on < TODAY:
            assert "" not in marked, event.title
        else:
            assert marked <= {""}, event.title


def test_attended_bookings_in_portfolios(seeded):
    attended = CpdBooking.objects.filter(attendance=CpdBooking.Attendance.ATTENDED)
    linked = PortfolioEntry.objects.filter(booking__isnull=False).select_related("booking__event")

    assert attended.exists()
    assert set(linked.values_list("booking_id", flat=True)) == set(
        attended.values_list("pk", flat=True)
    )
    for entry in linked:
        assert entry.staff_id == entry.booking.staff_id
        assert entry.hours == entry.booking.event.hours
        assert entry.started_on == entry.booking.event.starts_on


def appraisal_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            AppraisalCycle,
            Deadline,
            Appraisal,
            Objective,
            Signature,
            ObjectiveReview,
            DevelopmentNeed,
            CpdEvent,
            CpdBooking,
            PortfolioEntry,
        )
    )


def test_seed_writes_no_audit_events(seeded):
    assert not AuditEvent.objects.exists()


def test_if_empty_adds_no_appraisals(seeded):
    counts = appraisal_counts()

    output = seed(*SMALL, "--if-empty")

    assert "already exists" in output
    assert appraisal_counts() == counts
