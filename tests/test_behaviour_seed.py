"""Behaviour in the demo seed: the taxonomy, incidents over two academic
years up to --today, copied fields on the pupil links, sanctions and
follow-ups, suspensions with E marks and one permanent exclusion."""

import datetime
from collections import Counter
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from academies.models import AcademicYear, Academy, Phase
from academies.services import school_days
from attendance.models import AttendanceMark
from behaviour import codes, taxonomy
from behaviour.access import visible_links
from behaviour.models import (
    Action,
    BehaviourCategory,
    FollowUp,
    Incident,
    IncidentPupil,
    PupilRole,
    Suspension,
    SuspensionSession,
)
from pupils.models import Enrolment
from staff.models import Role, RoleAssignment

TODAY = datetime.date(2026, 12, 4)
SMALL = ["--academies", "3", "--pupils-per-academy", "40", "--seed", "7", "--today", "2026-12-04"]


def seed(*arguments: str) -> str:
    out = StringIO()
    call_command("seed_demo", *arguments, stdout=out)
    return out.getvalue()


def fingerprint() -> dict[str, list]:
    """Return the seeded behaviour without database ids, in a stable order."""
    return {
        "categories": sorted(
            BehaviourCategory.objects.values_list(
                "name", "academy__urn", "parent__name", "default_points"
            ),
            key=str,
        ),
        "incidents": sorted(
            Incident.objects.values_list(
                "academy__urn",
                "occurred_at",
                "category__name",
                "location",
                "lesson",
                "subject",
                "description",
                "reported_by__email",
                "sensitive",
            ),
            key=str,
        ),
        "links": sorted(
            IncidentPupil.objects.values_list(
                "pupil__upn", "date", "role", "points", "tutor_group__name"
            ),
            key=str,
        ),
        "actions": sorted(
            Action.objects.values_list(
                "pupil__upn", "kind", "date", "attended", "contact_method", "contacted_at"
            ),
            key=str,
        ),
        "follow_ups": sorted(
            FollowUp.objects.values_list("owner__email", "due_on", "status", "resolution"),
            key=str,
        ),
        "suspensions": sorted(
            Suspension.objects.values_list(
                "pupil__upn", "kind", "start_date", "sessions", "reason_1", "reason_2"
            ),
            key=str,
        ),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed the small demo twice from an empty database and keep the second,
    so the tests read one trust and can compare the two runs."""
    with django_db_blocker.unblock():
        seed(*SMALL)
        first = fingerprint()
        call_command("flush", interactive=False, verbosity=0)
        seed(*SMALL)
        yield first
        call_command("flush", interactive=False, verbosity=0)
        # flush recreates the content types with new ids; later test files
        # must not read the old ones from the cache.
        ContentType.objects.clear_cache()


pytestmark = pytest.mark.django_db


def flagship() -> Academy:
    return Academy.objects.get(phase=Phase.ALL_THROUGH)


def test_seed_behaviour_deterministic(seeded):
    second = fingerprint()

    assert seeded["incidents"]
    for key, rows in seeded.items():
        assert rows == second[key], key


def test_seed_taxonomy_and_academy_categories(seeded):
    trust_categories = BehaviourCategory.objects.filter(academy__isnull=True)
    own = list(BehaviourCategory.objects.filter(academy__isnull=False).select_related("parent"))

    assert trust_categories.count() == len(taxonomy.DEFAULT_TAXONOMY)
    assert len(own) == 2
    for category in own:
        assert category.parent.academy_id is None
        assert category.parent.polarity == category.polarity
        category.full_clean()


def test_seed_behaviour_both_years_up_to_today(seeded):
    by_year = Counter(Incident.objects.values_list("academic_year__start_year", flat=True))
    last = Incident.objects.order_by("-date").values_list("date", flat=True).first()

    assert by_year[2025] > 0
    assert by_year[2026] > 0
    assert last is not None
    assert last < TODAY
    assert not IncidentPupil.objects.filter(date__gte=TODAY).exists()
    assert not Suspension.objects.filter(decided_on__gt=TODAY).exists()


def test_seed_incidents_on_school_days(seeded):
    start = AcademicYear.objects.order_by("start_year").first().start_date
    for academy in Academy.objects.all():
        open_days = set(school_days(academy, start, TODAY))
        dates = set(Incident.objects.filter(academy=academy).values_list("date", flat=True))
        assert dates, academy.name
        assert dates <= open_days, academy.name


def test_seed_incident_date_matches_time(seeded):
    from trust.clock import LONDON

    for occurred_at, day in Incident.objects.values_list("occurred_at", "date"):
        assert occurred_at.astimezone(LONDON).date() == day


def test_seed_links_copy_incident(seeded):
    rows = IncidentPupil.objects.values_list(
        "date",
        "polarity",
        "trust_category_id",
        "academy_id",
        "academic_year_id",
        "incident__date",
        "incident__polarity",
        "incident__trust_category_id",
        "incident__academy_id",
        "incident__academic_year_id",
    )

    assert rows
    for row in rows:
        assert row[:5] == row[5:]


def test_seed_links_copy_enrolment(seeded):
    enrolments: dict[int, list[Enrolment]] = {}
    for enrolment in Enrolment.objects.all():
        enrolments.setdefault(enrolment.pupil_id, []).append(enrolment)

    for link in IncidentPupil.objects.all():
        on_roll = [
            e
            for e in enrolments[link.pupil_id]
            if e.start_date <= link.date and (e.end_date is None or link.date <= e.end_date)
        ]
        assert len(on_roll) == 1, link.pk
        enrolment = on_roll[0]
        copied = (link.academy_id, link.academic_year_id, link.year_group_id, link.tutor_group_id)
        expected = (
            enrolment.academy_id,
            enrolment.academic_year_id,
            enrolment.year_group_id,
            enrolment.tutor_group_id,
        )
        assert copied == expected, link.pk


def test_seed_category_fields_consistent(seeded):
    for incident in Incident.objects.select_related("category"):
        assert incident.trust_category_id == incident.category.trust_category_id
        assert incident.polarity == incident.category.polarity


def test_seed_points_within_range(seeded):
    for link in IncidentPupil.objects.select_related("incident__category"):
        category = link.incident.category
        if link.role in (PupilRole.TARGET, PupilRole.WITNESS):
            assert link.points == 0
        else:
            assert category.min_points <= link.points <= category.max_points


def test_seed_mostly_positive(seeded):
    polarity = Counter(IncidentPupil.objects.values_list("polarity", flat=True))
    pupils = Counter(
        IncidentPupil.objects.filter(polarity="negative").values_list("pupil_id", flat=True)
    )
    repeated = [pupil for pupil, count in pupils.items() if count >= 3]
    with_behaviour = IncidentPupil.objects.values("pupil_id").distinct().count()

    assert polarity["positive"] > 3 * polarity["negative"]
    assert repeated
    assert len(repeated) < 0.3 * with_behaviour


def test_seed_multi_pupil_incidents(seeded):
    counts = Counter(IncidentPupil.objects.values_list("incident_id", flat=True))
    roles = Counter(IncidentPupil.objects.values_list("role", flat=True))

    assert any(count >= 3 for count in counts.values())
    assert roles[PupilRole.INSTIGATOR] > 0
    assert roles[PupilRole.TARGET] + roles[PupilRole.WITNESS] > 0
    assert roles[PupilRole.INVOLVED] > roles[PupilRole.INSTIGATOR]


def test_seed_sanctions_and_contacts(seeded):
    detentions = Action.objects.filter(kind=Action.Kind.DETENTION)
    contacts = Action.objects.filter(kind=Action.Kind.PARENT_CONTACT)

    assert detentions.filter(attended=True).exists()
    assert detentions.filter(attended=False).exists()
    assert not detentions.filter(date__lt=TODAY, attended__isnull=True).exists()
    assert not detentions.filter(date__gte=TODAY, attended__isnull=False).exists()
    assert contacts.exists()
    assert not contacts.filter(contacted_at__isnull=True).exists()
    assert not contacts.exclude(contact_method__in=Action.ContactMethod.values).exists()


def test_seed_sensitive_incidents(seeded):
    sensitive = Incident.objects.filter(sensitive=True).select_related("trust_category")

    assert sensitive.exists()
    for incident in sensitive:
        assert incident.sensitive_kind
        assert incident.trust_category.sensitive


def test_seed_follow_ups_for_head_of_year(seeded):
    hoy = RoleAssignment.objects.get(staff__user__username="hoy", role=Role.HEAD_OF_YEAR)
    open_follow_ups = FollowUp.objects.filter(owner=hoy.staff, status=FollowUp.Status.OPEN)

    assert open_follow_ups.count() >= 2
    assert open_follow_ups.filter(due_on__lt=TODAY).exists()
    assert FollowUp.objects.filter(status=FollowUp.Status.RESOLVED).exists()
    assert not FollowUp.objects.filter(
        status=FollowUp.Status.RESOLVED, resolved_at__isnull=True
    ).exists()


def test_seed_head_of_year_sees_year_nine(seeded):
    import time_machine

    hoy = RoleAssignment.objects.get(staff__user__username="hoy", role=Role.HEAD_OF_YEAR)
    with time_machine.travel(datetime.datetime(2026, 12, 4, 12, tzinfo=datetime.UTC)):
        links = visible_links(hoy.staff.user)
        current = links.filter(academic_year__start_year=2026, year_group=hoy.year_group)
        incident_count = current.count()
    suspensions = Suspension.objects.filter(
        year_group=hoy.year_group, academic_year__start_year=2026
    )

    assert incident_count > 0
    assert suspensions.count() == 1


def test_seed_one_permanent_exclusion(seeded):
    exclusions = list(Suspension.objects.filter(kind=Suspension.Kind.PERMANENT))

    assert len(exclusions) == 1
    exclusion = exclusions[0]
    assert exclusion.incident is not None
    assert exclusion.incident.pupil_links.filter(pupil=exclusion.pupil).exists()
    assert exclusion.decided_on < TODAY


def test_seed_suspensions_reasons_and_marks(seeded):
    suspensions = list(Suspension.objects.exclude(kind=Suspension.Kind.PERMANENT))

    assert len(suspensions) >= 2
    assert {s.academy_id for s in suspensions} <= set(Academy.objects.values_list("pk", flat=True))
    for suspension in suspensions:
        assert suspension.reasons
        for code in suspension.reasons:
            assert codes.reason_error(code, suspension.start_date) is None, code
        assert suspension.incident_id is not None
        assert suspension.end_date < TODAY
        assert suspension.days.count() == suspension.sessions


def test_seed_suspensions_e_marks(seeded):
    sessions = SuspensionSession.objects.filter(
        suspension__kind=Suspension.Kind.SUSPENSION
    ).exclude(session=SuspensionSession.LUNCHTIME)

    assert sessions.exists()
    for row in sessions:
        mark = AttendanceMark.objects.get(pupil=row.pupil, date=row.date, session=row.session)
        assert mark.code == "E"
        assert row.mark_written


def test_seed_e_marks_have_suspensions(seeded):
    e_marks = AttendanceMark.objects.filter(code="E")
    covered = {
        (row.pupil_id, row.date, row.session)
        for row in SuspensionSession.objects.filter(suspension__status=Suspension.Status.ACTIVE)
    }

    assert e_marks.exists()
    for mark in e_marks:
        assert (mark.pupil_id, mark.date, mark.session) in covered


def test_seed_if_empty_changes_nothing(seeded):
    def counts() -> tuple[int, ...]:
        return (
            BehaviourCategory.objects.count(),
            Incident.objects.count(),
            IncidentPupil.objects.count(),
            Action.objects.count(),
            FollowUp.objects.count(),
            Suspension.objects.count(),
            SuspensionSession.objects.count(),
        )

    before = counts()

    output = seed(*SMALL, "--if-empty")

    assert "already exists" in output
    assert counts() == before


def test_seed_attendance_weeks_limits_behaviour():
    call_command("flush", interactive=False, verbosity=0)
    call_command(
        "seed_demo",
        academies=1,
        pupils_per_academy=20,
        seed=5,
        today=TODAY,
        attendance_weeks=3,
        verbosity=0,
    )

    first = Incident.objects.order_by("date").values_list("date", flat=True).first()
    assert first is not None
    assert first >= TODAY - datetime.timedelta(weeks=3)
    assert Suspension.objects.filter(kind=Suspension.Kind.PERMANENT).count() == 1


def test_seed_new_incident_after_seed(seeded):
    existing = Incident.objects.order_by("-pk").first()
    highest = existing.pk
    existing.pk = None

    existing.save()

    assert existing.pk > highest
