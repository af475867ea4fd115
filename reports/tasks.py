"""Celery tasks that render report runs to PDF, and the beat tasks that queue them.

generate_report renders one run as of the run's own date, never the day the
worker runs. It is idempotent per run:

- a run already done or failed is left as it is;
- progress is written to the run row at each step, outside any transaction,
  so the run page shows it while the task works;
- the PDF is rendered to bytes first and written at the end under a name
  made from the run id, replacing whatever an earlier attempt left there,
  then the run is marked done in one UPDATE. A retry or a redelivery
  after a lost worker therefore leaves exactly one file.

The task is acknowledged late and rejected when its worker is lost, so a
killed worker's run goes back to the queue at once and the next worker
finishes it. The Redis visibility timeout in settings is longer than the
task's time limit, so a slow report is never delivered twice.
"""

import datetime
import logging
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from redis.exceptions import ConnectionError as RedisConnectionError

from academies.models import YearGroup
from trust import clock
from trust.tasks_support import checkpoint

from .access import can_request
from .models import ReportRun, report_storage
from .services import schedule_governance_report, schedule_intervention_reports

logger = logging.getLogger(__name__)

# Errors that clear once the database or Redis is back, so the task retries them.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisConnectionError)
MAX_RETRIES = 3
# Retries wait 10 s, 20 s and 40 s, 70 s in all (retry_backoff doubles the wait).
RETRY_BACKOFF_SECONDS = 10
RETRY_BACKOFF_MAX_SECONDS = 120
# Deliveries of one run, counting retries and redeliveries after a lost
# worker. A report that kills its worker each time (out of memory, say) is
# marked failed at the next delivery instead of going round for ever.
MAX_ATTEMPTS = MAX_RETRIES + 3
# The pool kills a task this long after its soft limit, when the task has
# not stopped by itself.
HARD_LIMIT_MARGIN_SECONDS = 60

TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": MAX_RETRIES,
    "retry_backoff": RETRY_BACKOFF_SECONDS,
    "retry_backoff_max": RETRY_BACKOFF_MAX_SECONDS,
    "retry_jitter": False,
    "soft_time_limit": settings.REPORT_TIME_LIMIT_SECONDS,
    "time_limit": settings.REPORT_TIME_LIMIT_SECONDS + HARD_LIMIT_MARGIN_SECONDS,
}

UNEXPECTED_ERROR = (
    "The report failed because of an unexpected error. Request it again; if it fails "
    "again, tell the trust's administrator the run number {run_id}."
)
UNAVAILABLE_ERROR = (
    "The report failed because the database or the task broker was unavailable after "
    "{retries} retries. Request it again later."
)


def run_file_name(run_id: int) -> str:
    """Return the storage name of run `run_id`'s PDF, the same on every attempt."""
    return f"runs/report-run-{run_id}.pdf"


def mark_failed(run_id: int, message: str) -> None:
    """Record the user-facing `message` on a run that is not done."""
    ReportRun.objects.filter(pk=run_id).exclude(status=ReportRun.Status.DONE).update(
        status=ReportRun.Status.FAILED, error=message, finished_at=timezone.now()
    )


class ProgressRecorder:
    """Write a run's progress to its row and pass each step to the test hook."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id

    def __call__(self, percent: int, step: str) -> None:
        percent = max(0, min(100, int(percent)))
        # Each UPDATE commits at once (no transaction is open), so the run page
        # and the API show it while the task carries on.
        ReportRun.objects.filter(pk=self.run_id, status=ReportRun.Status.RUNNING).update(
            progress=percent, step=step[:120]
        )
        checkpoint(
            f"report-{slugify(step) or 'step'}", run_id=self.run_id, progress=percent, step=step
        )


def time_limit_error() -> str:
    return (
        f"The report took longer than {settings.REPORT_TIME_LIMIT_SECONDS // 60} minutes, "
        "so it was stopped. Request it again later; if it stops again, tell the trust's "
        "administrator."
    )


class ReportTask(Task):
    """The task class of generate_report, whose on_failure marks the run failed
    when a transient error outlasts its retries or the pool kills the task at
    its hard time limit."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        run_id = args[0] if args else kwargs.get("run_id")
        if isinstance(exc, TimeLimitExceeded):
            logger.error("Report run %s was killed at its hard time limit: %s", run_id, exc)
            message = time_limit_error()
        else:
            logger.error("Report run %s failed after %s retries: %s", run_id, MAX_RETRIES, exc)
            message = UNAVAILABLE_ERROR.format(retries=MAX_RETRIES)
        if run_id is not None:
            mark_failed(run_id, message)


def _start(run_id: int, task: Task) -> ReportRun | None:
    """Mark run `run_id` running and return it, or return None when there is
    nothing to do."""
    run = ReportRun.objects.select_related("academy", "requested_by").filter(pk=run_id).first()
    if run is None:
        logger.warning("Report run %s not found; nothing to do", run_id)
        return None
    if run.is_finished:
        logger.info("Report run %s is already %s; nothing to do", run_id, run.status)
        return None
    if run.attempts >= MAX_ATTEMPTS:
        logger.error("Report run %s was started %s times without finishing", run_id, run.attempts)
        mark_failed(
            run_id,
            f"The report was started {run.attempts} times without finishing, so it was "
            "stopped. Request it again; if it stops again, tell the trust's administrator "
            f"the run number {run_id}.",
        )
        return None
    ReportRun.objects.filter(
        pk=run_id, status__in=[ReportRun.Status.QUEUED, ReportRun.Status.RUNNING]
    ).update(
        status=ReportRun.Status.RUNNING,
        started_at=Coalesce(F("started_at"), timezone.now()),
        attempts=F("attempts") + 1,
        progress=0,
        step="Starting",
    )
    run.refresh_from_db()
    logger.info(
        "Report run %s (%s) started, attempt %s, retry %s",
        run_id,
        run.kind,
        run.attempts,
        task.request.retries,
    )
    return run


def _still_allowed(run: ReportRun) -> bool:
    """Return whether the requester of `run` may still request it. A scheduled
    run has no requester and is always allowed."""
    if run.requested_by is None:
        return run.scheduled
    year_group = (
        YearGroup.objects.filter(pk=run.year_group_id).first() if run.year_group_id else None
    )
    return can_request(run.requested_by, run.kind, run.academy, year_group)


def _write_file(run_id: int, content: bytes) -> str:
    """Store `content` as run `run_id`'s PDF, replacing an earlier attempt's file."""
    storage = report_storage()
    name = run_file_name(run_id)
    if storage.exists(name):
        storage.delete(name)
    saved = storage.save(name, ContentFile(content))
    if saved != name:
        # Only another delivery of the same run writing at the same moment gets
        # here; keeping both names would leave two files.
        storage.delete(saved)
        raise RuntimeError(f"Report run {run_id}: storage saved {saved!r} instead of {name!r}")
    return name


def _render(run: ReportRun) -> str:
    """Render `run`, store its file and mark it done; return the final status."""
    from .documents import build_document

    progress = ProgressRecorder(run.pk)
    checkpoint("report-start", run_id=run.pk)
    document = build_document(run, progress)
    progress(99, "Saving the PDF")
    checkpoint("report-save", run_id=run.pk)
    name = _write_file(run.pk, document.content)
    checkpoint("report-saved", run_id=run.pk, file=name)
    finished = (
        ReportRun.objects.filter(pk=run.pk)
        .exclude(status=ReportRun.Status.DONE)
        .update(
            status=ReportRun.Status.DONE,
            progress=100,
            step="Done",
            file=name,
            filename=document.filename[:200],
            size_bytes=len(document.content),
            pages=document.pages,
            error="",
            finished_at=timezone.now(),
        )
    )
    if not finished:
        logger.warning("Report run %s was finished by another delivery meanwhile", run.pk)
    logger.info(
        "Report run %s done: %s pages, %s bytes", run.pk, document.pages, len(document.content)
    )
    return ReportRun.Status.DONE


def _generate(task: Task, run_id: int) -> str:
    """Produce run `run_id` once and return its status; transient errors propagate."""
    from .documents import ReportFailed

    run = _start(run_id, task)
    if run is None:
        status = ReportRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
        return status or "missing"
    try:
        if not _still_allowed(run):
            raise ReportFailed(
                "The report was not produced because the person who requested it may no "
                "longer request it."
            )
        return _render(run)
    except ReportFailed as failure:
        logger.info("Report run %s failed: %s", run_id, failure)
        mark_failed(run_id, str(failure))
    except SoftTimeLimitExceeded:
        logger.error(
            "Report run %s passed its time limit of %s s",
            run_id,
            settings.REPORT_TIME_LIMIT_SECONDS,
        )
        mark_failed(run_id, time_limit_error())
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        # The run row is what users see, so any other error still ends the run.
        logger.exception("Report run %s failed with an unexpected error", run_id)
        mark_failed(run_id, UNEXPECTED_ERROR.format(run_id=run_id))
    return ReportRun.Status.FAILED


def _retry_eagerly(task: Task, run_id: int, error: Exception) -> str:
    """Retry run `run_id` in this process, for a task run eagerly (the demo
    without a broker), where Celery's retry would raise into the web request
    that queued it."""
    retries = task.request.retries or 0
    if retries < MAX_RETRIES:
        logger.warning("Report run %s hit a transient error, retrying at once: %s", run_id, error)
        return task.apply((run_id,), retries=retries + 1).result
    logger.error("Report run %s failed after %s retries: %s", run_id, MAX_RETRIES, error)
    mark_failed(run_id, UNAVAILABLE_ERROR.format(retries=MAX_RETRIES))
    return ReportRun.Status.FAILED


@shared_task(base=ReportTask, **TASK_OPTIONS)
def generate_report(self: Task, run_id: int) -> str:
    """Render report run `run_id` to PDF (see the module docstring); return its status."""
    try:
        return _generate(self, run_id)
    except TRANSIENT_ERRORS as error:
        if self.request.is_eager:
            return _retry_eagerly(self, run_id, error)
        # autoretry_for sends the task again after a backoff, and
        # ReportTask.on_failure marks the run failed when the retries run out.
        logger.warning("Report run %s hit a transient error, retrying: %s", run_id, error)
        raise


# celery beat ------------------------------------------------------------------------


def _beat_day(as_of: str | None) -> datetime.date:
    return datetime.date.fromisoformat(as_of) if as_of else clock.today()


@shared_task
def queue_weekly_intervention_reports(as_of: str | None = None) -> list[int]:
    """Queue one intervention report for each academy with pupils, as of
    `as_of` (ISO date, today by default); return the new run ids."""
    return [run.pk for run in schedule_intervention_reports(_beat_day(as_of))]


@shared_task
def queue_termly_governance_report(as_of: str | None = None) -> list[int]:
    """Queue the governance report of a term that has just ended, checked on
    `as_of` (ISO date, today by default); return the new run ids."""
    return [run.pk for run in schedule_governance_report(_beat_day(as_of))]
