"""Celery tasks that apply confirmed imports, and the run lifecycle they share.

A task takes an ImportRun id, loads the run and its stored upload, checks
the file again and applies it in one transaction through the import
service. The run is marked done inside that transaction, so a run is either
done with every row written or not done with nothing written. A worker that
dies mid-run leaves the run to the next delivery (acks_late), and a second
delivery of a done run does nothing.
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Task, shared_task
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from trust.tabular import delete_upload, load_upload
from trust.tasks_support import checkpoint, clear_progress, progress_key, report_progress

from .imports import importable_academies
from .models import ImportRun
from .services import ImportInvalid, ProgressCallback, describe_result, pupil_import_apply

logger = logging.getLogger(__name__)

MAX_RETRIES = 3
# A 10,000-pupil import took 7 to 10 s on 2 cores (see PROGRESS_ROWS in
# pupils.services), so these limits only stop a task that is stuck.
SOFT_TIME_LIMIT_SECONDS = 10 * 60
TIME_LIMIT_SECONDS = 11 * 60
# How many row errors a failed run's message lists before "and N more".
ERRORS_IN_MESSAGE = 5

TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": MAX_RETRIES,
    "soft_time_limit": SOFT_TIME_LIMIT_SECONDS,
    "time_limit": TIME_LIMIT_SECONDS,
}


class ImportFailed(Exception):
    """The run cannot be applied. The message gives the reason and the next step."""


@dataclass
class RunOutcome:
    created: int
    updated: int
    summary: str


# Applies a run's upload with the given progress callback, inside the run's transaction.
Applier = Callable[[ImportRun, bytes, ProgressCallback], RunOutcome]


def describe_invalid(file_error: str | None, errors: list[Any]) -> str:
    """Return why a re-checked file was rejected, listing its first row errors."""
    if file_error:
        return f"Nothing was imported: {file_error}"
    listed = [f"line {e.line}, {e.column}: {e.reason}" for e in errors[:ERRORS_IN_MESSAGE]]
    more = len(errors) - len(listed)
    text = f"Nothing was imported: {len(errors)} rows have errors ({'; '.join(listed)}"
    text += f"; and {more} more)." if more else ")."
    return text + " Correct the file and upload it again."


class ProgressReporter:
    """Write a run's progress to the cache and pass each step to the test hook."""

    def __init__(self, run: ImportRun) -> None:
        self.run = run
        self.key = progress_key(run.kind, run.pk)
        self.total = 0

    def __call__(self, processed: int, total: int, step: str) -> None:
        self.total = total
        report_progress(self.key, processed=processed, total=total, step=step)
        checkpoint(
            f"import-{step}",
            kind=self.run.kind,
            run_id=self.run.pk,
            processed=processed,
            total=total,
        )


def _mark_failed(run_id: int, message: str) -> None:
    ImportRun.objects.filter(pk=run_id).exclude(status=ImportRun.Status.DONE).update(
        status=ImportRun.Status.FAILED, error_message=message, finished_at=timezone.now()
    )


def _finish(run_id: int, kind: str) -> None:
    clear_progress(progress_key(kind, run_id))
    stored = ImportRun.objects.filter(pk=run_id).values_list("stored_name", flat=True).first()
    if stored:
        delete_upload(stored)


def run_import(task: Task, run_id: int, kind: str, apply: Applier) -> str:
    """Apply run `run_id` once and return its final status (see the module docstring)."""
    run = ImportRun.objects.filter(pk=run_id, kind=kind).first()
    if run is None:
        logger.warning("Import run %s (%s) not found; nothing to do", run_id, kind)
        return "missing"
    if run.is_finished:
        logger.info("Import run %s is already %s; nothing to do", run_id, run.status)
        return run.status
    # Committed at once, so the run page shows the run started.
    ImportRun.objects.filter(
        pk=run_id, status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING]
    ).update(status=ImportRun.Status.RUNNING, started_at=timezone.now())
    logger.info("Import run %s (%s) started, attempt %s", run_id, kind, task.request.retries + 1)
    try:
        with transaction.atomic():
            # The lock makes a second delivery wait here, then see the run done.
            run = ImportRun.objects.select_for_update().get(pk=run_id)
            if run.is_finished:
                return run.status
            content = load_upload(run.stored_name)
            if content is None:
                raise ImportFailed(
                    f"Nothing was imported: the uploaded file {run.filename} is no longer "
                    "stored. Upload it again."
                )
            reporter = ProgressReporter(run)
            outcome = apply(run, content, reporter)
            run.status = ImportRun.Status.DONE
            run.created_count = outcome.created
            run.updated_count = outcome.updated
            run.summary = outcome.summary[:500]
            run.processed_rows = run.total_rows = reporter.total
            run.finished_at = timezone.now()
            run.save()
    except ImportFailed as failure:
        logger.info("Import run %s failed: %s", run_id, failure)
        _mark_failed(run_id, str(failure))
    except IntegrityError:
        # Someone wrote a clashing row (a UPN or an email) after the check.
        logger.warning("Import run %s clashed with a concurrent write", run_id)
        _mark_failed(
            run_id,
            "Nothing was imported: records changed while the import ran. "
            "Upload the file again to check it against the current records.",
        )
    except OperationalError as error:
        # An eager run (the demo) has no broker to retry through, so it fails at once.
        if task.request.retries < MAX_RETRIES and not task.request.is_eager:
            logger.warning("Import run %s hit a database error, retrying: %s", run_id, error)
            raise task.retry(exc=error, countdown=2**task.request.retries) from error
        logger.error("Import run %s failed after %s retries: %s", run_id, MAX_RETRIES, error)
        _mark_failed(run_id, "Nothing was imported: the database was unavailable. Try again.")
    except Exception:
        # The run row is the record users see, so any other error still ends it.
        logger.exception("Import run %s failed with an unexpected error", run_id)
        _mark_failed(
            run_id, "Nothing was imported: the import failed unexpectedly. Try again later."
        )
    else:
        logger.info("Import run %s done", run_id)
    _finish(run_id, kind)
    return ImportRun.objects.values_list("status", flat=True).get(pk=run_id)


def _apply_pupils(import_date: datetime.date) -> Applier:
    def apply(run: ImportRun, content: bytes, progress: ProgressCallback) -> RunOutcome:
        user = run.requested_by
        academies = importable_academies(user)
        academy = academies.filter(pk=run.academy_id).first() if run.academy_id else None
        if academy is None:
            raise ImportFailed(
                f"Nothing was imported: {user.get_username()} may no longer import pupils "
                "into this academy."
            )
        try:
            result = pupil_import_apply(
                academy=academy,
                content=content,
                filename=run.filename,
                user=user,
                import_date=import_date,
                progress=progress,
            )
        except ImportInvalid as invalid:
            raise ImportFailed(
                describe_invalid(invalid.plan.file_error, invalid.plan.errors)
            ) from invalid
        return RunOutcome(
            created=result.created, updated=result.updated, summary=describe_result(result)
        )

    return apply


@shared_task(**TASK_OPTIONS)
def apply_pupil_import(self: Task, run_id: int, import_date: str) -> str:
    """Apply pupil import run `run_id` as of `import_date` (ISO), the confirm day."""
    day = datetime.date.fromisoformat(import_date)
    return run_import(self, run_id, ImportRun.Kind.PUPILS, _apply_pupils(day))
