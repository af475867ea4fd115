"""The Celery task that applies a confirmed grades import.

It shares the run lifecycle of the pupil and staff imports
(pupils.tasks.run_import). The run row records queued, running and the
result, and progress goes to the cache. The grades are written in one
transaction with the run marked done, so a run writes every row or none.
"""

import datetime
from functools import partial
from typing import Any

from celery import Task, shared_task
from django.db import transaction

from pupils.models import ImportRun
from pupils.services import ProgressCallback, create_import_run, enqueue_run
from pupils.tasks import (
    TASK_OPTIONS,
    Applier,
    ImportFailed,
    RunOutcome,
    describe_invalid,
    run_import,
)

from .imports import ImportInvalid, can_import_grades, grades_import_apply

GRADES_KIND = ImportRun.Kind.GRADES


def _apply_grades(import_date: datetime.date) -> Applier:
    def apply(run: ImportRun, content: bytes, progress: ProgressCallback) -> RunOutcome:
        user = run.requested_by
        if not can_import_grades(user):
            raise ImportFailed(
                f"Nothing was imported: {user.get_username()} may no longer import grades."
            )
        try:
            result = grades_import_apply(
                user=user,
                content=content,
                filename=run.filename,
                import_date=import_date,
                progress=progress,
            )
        except ImportInvalid as invalid:
            raise ImportFailed(
                describe_invalid(invalid.plan.file_error, invalid.plan.errors)
            ) from invalid
        return RunOutcome(created=result.created, updated=result.updated, summary=result.describe())

    return apply


@shared_task(**TASK_OPTIONS)
def apply_grade_import(self: Task, run_id: int, import_date: str) -> str:
    """Apply grades import run `run_id` as of `import_date` (ISO), the confirm day."""
    day = datetime.date.fromisoformat(import_date)
    return run_import(self, run_id, GRADES_KIND, _apply_grades(day))


def queue_grade_import(
    *, user: Any, filename: str, stored_name: str, import_date: datetime.date
) -> ImportRun:
    """Record a confirmed grades import and queue its task once the record commits.

    The task applies `import_date`, the confirm day, even when it runs later.
    """
    with transaction.atomic():
        run = create_import_run(
            kind=GRADES_KIND, user=user, filename=filename, stored_name=stored_name
        )
        transaction.on_commit(
            partial(enqueue_run, apply_grade_import, run, import_date.isoformat())
        )
    return run
