"""The celery beat schedule of the reports, kept in the database.

celery beat runs with django_celery_beat's DatabaseScheduler, so the
schedule is rows of PeriodicTask that an administrator edits in the admin
site. seed_schedule() adds the report entries after each migrate when they
are missing and leaves existing rows alone, so an administrator's change of
time or a disabled entry survives every deployment. A deleted entry comes
back at the next migrate: disable an entry to stop it instead.

The entries of settings.CELERY_BEAT_SCHEDULE (the morning's suspension
marks) are written to the same table by the scheduler itself when beat starts.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.db import DEFAULT_DB_ALIAS, connections
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from trust.admin_access import TrustAdminMixin

logger = logging.getLogger(__name__)

TIMEZONE = "Europe/London"


@dataclass(frozen=True)
class ScheduledReport:
    name: str
    task: str
    minute: str
    hour: str
    day_of_week: str
    description: str


SCHEDULE = [
    ScheduledReport(
        name="Weekly intervention reports",
        task="reports.tasks.queue_weekly_intervention_reports",
        minute="30",
        hour="6",
        day_of_week="1",
        description=(
            "Every Monday at 06:30 (Europe/London), queues an intervention report for "
            "each academy with pupils on roll, as of that day. Headteachers and academy "
            "leaders find it on their Reports page."
        ),
    ),
    ScheduledReport(
        name="Termly governance report",
        task="reports.tasks.queue_termly_governance_report",
        minute="0",
        hour="7",
        day_of_week="*",
        description=(
            "Every day at 07:00 (Europe/London), checks whether a term ended on the last "
            "school day, and if so queues the governance report for trustees as of that "
            "day, once per term. Terms come from the trust's academic years."
        ),
    ),
]


def _tables_exist(using: str) -> bool:
    tables = connections[using].introspection.table_names()
    return PeriodicTask._meta.db_table in tables and CrontabSchedule._meta.db_table in tables


def seed_schedule(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> list[str]:
    """Add each missing report entry to the beat schedule; return the names added.

    Connected to post_migrate. An entry is matched by name, and an existing
    one is never changed.
    """
    if not _tables_exist(using):
        return []
    added = []
    for entry in SCHEDULE:
        if PeriodicTask.objects.using(using).filter(name=entry.name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
            minute=entry.minute,
            hour=entry.hour,
            day_of_week=entry.day_of_week,
            day_of_month="*",
            month_of_year="*",
            timezone=TIMEZONE,
        )
        PeriodicTask.objects.using(using).create(
            name=entry.name, task=entry.task, crontab=crontab, description=entry.description
        )
        added.append(entry.name)
    if added:
        logger.info("Added to the beat schedule: %s", ", ".join(added))
    return added


SCHEDULE_MODELS = [PeriodicTask, CrontabSchedule, IntervalSchedule, SolarSchedule, ClockedSchedule]


def open_schedule_admin(site: admin.AdminSite) -> None:
    """Let trust administrators edit the beat schedule in `site`.

    django_celery_beat registers its models with Django's per-model
    permissions, which trust administrators do not hold: their role decides
    what they may change (TrustAdminMixin), so each registration is replaced
    by one with the mixin.
    """
    for model in SCHEDULE_MODELS:
        if not site.is_registered(model):
            continue
        current = site.get_model_admin(model)
        if isinstance(current, TrustAdminMixin):
            continue
        site.unregister(model)
        site.register(
            model, type(f"Trust{type(current).__name__}", (TrustAdminMixin, type(current)), {})
        )
