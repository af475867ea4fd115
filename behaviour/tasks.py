"""Celery tasks of the behaviour app: the daily E marks of suspensions.

A suspension's sessions after the day it is recorded have no register mark
yet. The beat schedule runs queue_suspension_marks early each morning.
That task queues write_suspension_marks with the day's date, so a retry or
a late delivery still writes up to the same day.
"""

import datetime
import logging

from celery import shared_task

from trust import clock

from .suspensions import suspension_marks_write

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def write_suspension_marks(as_of_iso: str) -> int:
    """Write E for every unwritten suspension session on or before `as_of_iso`
    (YYYY-MM-DD, no later than today) and return how many were written."""
    as_of = datetime.date.fromisoformat(as_of_iso)
    written = suspension_marks_write(up_to=as_of)
    logger.info("suspension marks task as_of=%s written=%s", as_of_iso, written)
    return written


@shared_task
def queue_suspension_marks() -> str:
    """Queue write_suspension_marks for today (Europe/London) and return the date."""
    today = clock.today().isoformat()
    write_suspension_marks.delay(today)
    return today
