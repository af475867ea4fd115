"""Celery task that applies a confirmed staff import (see pupils.tasks for the lifecycle)."""

from celery import Task, shared_task

from academies.selectors import visible_academies
from pupils.models import ImportRun
from pupils.services import ProgressCallback
from pupils.tasks import TASK_OPTIONS, ImportFailed, RunOutcome, describe_invalid, run_import

from .imports import can_import_staff
from .services import StaffImportInvalid, describe_staff_result, staff_import_apply


def _apply_staff(run: ImportRun, content: bytes, progress: ProgressCallback) -> RunOutcome:
    user = run.requested_by
    if not can_import_staff(user):
        raise ImportFailed(
            f"Nothing was imported: {user.get_username()} may no longer import staff."
        )
    try:
        result = staff_import_apply(
            content=content,
            filename=run.filename,
            user=user,
            academies=visible_academies(user),
            progress=progress,
        )
    except StaffImportInvalid as invalid:
        raise ImportFailed(
            describe_invalid(invalid.plan.file_error, invalid.plan.errors)
        ) from invalid
    return RunOutcome(
        created=result.created, updated=result.updated, summary=describe_staff_result(result)
    )


@shared_task(**TASK_OPTIONS)
def apply_staff_import(self: Task, run_id: int) -> str:
    """Apply staff import run `run_id`."""
    return run_import(self, run_id, ImportRun.Kind.STAFF, _apply_staff)
