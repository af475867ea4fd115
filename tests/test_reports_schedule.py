"""The celery beat schedule of the reports: seeding, an administrator's edits,
the admin pages, and the beat tasks that queue scheduled runs."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from academies.models import Term
from reports.models import ReportRun
from reports.schedule import SCHEDULE, seed_schedule
from reports.services import last_school_day
from reports.tasks import queue_termly_governance_report, queue_weekly_intervention_reports

from .factories import AcademyFactory
from .personas import TODAY, Personas, build_personas

pytestmark = pytest.mark.django_db

Kind = ReportRun.Kind
WEEKLY = "Weekly intervention reports"
TERMLY = "Termly governance report"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world() -> Personas:
    return build_personas()


def autumn_term(world: Personas, end: datetime.date) -> Term:
    return Term.objects.create(
        academic_year=world.academic_year,
        season=Term.Season.AUTUMN,
        start_date=datetime.date(2026, 9, 1),
        end_date=end,
    )


# Seeding and editing ---------------------------------------------------------------------


def test_migrate_seeds_both_entries():
    weekly = PeriodicTask.objects.get(name=WEEKLY)
    termly = PeriodicTask.objects.get(name=TERMLY)

    assert weekly.task == "reports.tasks.queue_weekly_intervention_reports"
    assert weekly.enabled
    assert (weekly.crontab.minute, weekly.crontab.hour, weekly.crontab.day_of_week) == (
        "30",
        "6",
        "1",
    )
    assert str(weekly.crontab.timezone) == "Europe/London"
    assert termly.task == "reports.tasks.queue_termly_governance_report"
    assert (termly.crontab.minute, termly.crontab.hour, termly.crontab.day_of_week) == (
        "0",
        "7",
        "*",
    )
    assert str(termly.crontab.timezone) == "Europe/London"


def test_seeding_again_adds_nothing():
    assert seed_schedule() == []
    assert PeriodicTask.objects.filter(name__in=[entry.name for entry in SCHEDULE]).count() == 2


def test_seeding_keeps_admin_edit():
    weekly = PeriodicTask.objects.get(name=WEEKLY)
    weekly.crontab = CrontabSchedule.objects.create(
        minute="15", hour="5", day_of_week="2", timezone="Europe/London"
    )
    weekly.enabled = False
    weekly.save()

    assert seed_schedule() == []

    weekly.refresh_from_db()
    assert (weekly.crontab.minute, weekly.crontab.hour, weekly.crontab.day_of_week) == (
        "15",
        "5",
        "2",
    )
    assert not weekly.enabled


def test_deleted_entry_comes_back():
    PeriodicTask.objects.filter(name=TERMLY).delete()

    assert seed_schedule() == [TERMLY]
    assert PeriodicTask.objects.filter(name=TERMLY).exists()


def test_beat_uses_database_with_settings_entry():
    from trust.celery import app

    # DatabaseScheduler copies the settings entries into PeriodicTask when
    # beat starts, beside the seeded ones.
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert "write-suspension-marks" in app.conf.beat_schedule


# The admin -------------------------------------------------------------------------------


def test_trust_admin_edits_schedule(client, world):
    weekly = PeriodicTask.objects.get(name=WEEKLY)
    client.force_login(world.users["trust_admin"])

    index = client.get(reverse("admin:index"))
    listing = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    change = client.get(reverse("admin:django_celery_beat_periodictask_change", args=[weekly.pk]))
    crontabs = client.get(reverse("admin:django_celery_beat_crontabschedule_changelist"))

    assert index.status_code == 200
    assert "Periodic tasks" in index.content.decode()
    assert listing.status_code == 200
    assert WEEKLY in listing.content.decode()
    assert change.status_code == 200
    assert crontabs.status_code == 200


def test_admin_saves_new_time(client, world):
    weekly = PeriodicTask.objects.get(name=WEEKLY)
    later = CrontabSchedule.objects.create(
        minute="0", hour="9", day_of_week="1", timezone="Europe/London"
    )
    client.force_login(world.users["trust_admin"])
    url = reverse("admin:django_celery_beat_periodictask_change", args=[weekly.pk])

    response = client.post(
        url,
        {
            "name": WEEKLY,
            "regtask": weekly.task,
            "task": "",
            "enabled": "on",
            "description": weekly.description,
            "crontab": later.pk,
            "args": "[]",
            "kwargs": "{}",
            "expire_seconds": "",
            "queue": "",
            "exchange": "",
            "routing_key": "",
            "headers": "{}",
            "priority": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    weekly.refresh_from_db()
    assert weekly.crontab_id == later.pk
    assert seed_schedule() == []
    weekly.refresh_from_db()
    assert weekly.crontab_id == later.pk


@pytest.mark.parametrize("persona", ["trustee", "headteacher", "trust_leader"])
def test_schedule_admin_closed_to_others(client, world, persona):
    client.force_login(world.users[persona])

    response = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# The weekly intervention reports -----------------------------------------------------------


def test_weekly_queues_one_per_academy(world, django_capture_on_commit_callbacks):
    AcademyFactory(trust=world.academies["oak"].trust, name="Ash Academy")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = queue_weekly_intervention_reports("2026-12-07")

    runs = list(ReportRun.objects.order_by("academy__name"))
    assert created == [run.pk for run in runs]
    assert [run.academy.name for run in runs] == ["Elm Academy", "Oak Academy"]
    assert len(callbacks) == 2
    for run in runs:
        assert run.kind == Kind.INTERVENTION
        assert run.scheduled
        assert run.requested_by is None
        assert run.as_of == datetime.date(2026, 12, 7)
        assert run.params == {"academy": run.academy_id, "as_of": "2026-12-07"}
        assert run.status == ReportRun.Status.QUEUED
        assert run.task_id


def test_weekly_twice_queues_once(world):
    queue_weekly_intervention_reports("2026-12-07")

    assert queue_weekly_intervention_reports("2026-12-07") == []
    assert ReportRun.objects.count() == 2


def test_weekly_defaults_to_today(world):
    queue_weekly_intervention_reports()

    assert set(ReportRun.objects.values_list("as_of", flat=True)) == {TODAY.date()}


def test_weekly_runs_visible_to_headteacher(world):
    from reports.access import visible_runs

    queue_weekly_intervention_reports("2026-12-07")

    visible = visible_runs(world.users["headteacher"])
    assert [run.academy.name for run in visible] == ["Oak Academy"]
    assert not visible_runs(world.users["trustee"]).exists()


# The termly governance report --------------------------------------------------------------


def test_governance_queued_day_after_term(world):
    term = autumn_term(world, datetime.date(2026, 12, 18))

    created = queue_termly_governance_report("2026-12-19")

    run = ReportRun.objects.get()
    assert created == [run.pk]
    assert run.kind == Kind.GOVERNANCE
    assert run.scheduled
    assert run.requested_by is None
    assert run.academy is None
    assert run.as_of == datetime.date(2026, 12, 18)
    assert run.params == {"term": term.pk, "as_of": "2026-12-18"}


def test_governance_never_twice_per_term(world):
    autumn_term(world, datetime.date(2026, 12, 18))
    queue_termly_governance_report("2026-12-19")

    assert queue_termly_governance_report("2026-12-20") == []
    assert queue_termly_governance_report("2026-12-21") == []
    assert ReportRun.objects.count() == 1


def test_governance_catches_up_on_monday(world):
    autumn_term(world, datetime.date(2026, 12, 18))

    assert len(queue_termly_governance_report("2026-12-21")) == 1
    assert ReportRun.objects.get().as_of == datetime.date(2026, 12, 18)


def test_governance_term_ending_sunday(world):
    term = autumn_term(world, datetime.date(2026, 12, 20))

    assert last_school_day(term) == datetime.date(2026, 12, 18)
    assert len(queue_termly_governance_report("2026-12-19")) == 1
    assert ReportRun.objects.get().as_of == datetime.date(2026, 12, 18)


@pytest.mark.parametrize("day", ["2026-12-17", "2026-12-18", "2027-01-04"])
def test_governance_not_queued_outside_window(world, day):
    autumn_term(world, datetime.date(2026, 12, 18))

    assert queue_termly_governance_report(day) == []
    assert not ReportRun.objects.exists()


def test_half_terms_ignored(world):
    term = autumn_term(world, datetime.date(2026, 12, 18))
    Term.objects.create(
        academic_year=world.academic_year,
        parent=term,
        season=Term.Season.AUTUMN,
        half=1,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2026, 10, 23),
    )

    assert queue_termly_governance_report("2026-10-24") == []


def test_governance_visible_to_trustee(world):
    from reports.access import visible_runs

    autumn_term(world, datetime.date(2026, 12, 18))
    queue_termly_governance_report("2026-12-19")

    assert visible_runs(world.users["trustee"]).count() == 1
    assert not visible_runs(world.users["headteacher"]).exists()
