"""Today's date and the current time in Europe/London.

Every "today" in the application comes from here, so a test that freezes
time with time-machine moves the whole application, including a live
server thread. Celery tasks take their date as an argument instead.
"""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

LONDON = ZoneInfo("Europe/London")


def now() -> datetime.datetime:
    """Return the current time as an aware datetime in Europe/London."""
    return timezone.now().astimezone(LONDON)


def today() -> datetime.date:
    """Return today's date in Europe/London (not UTC: 23:30 UTC in summer is tomorrow)."""
    return now().date()


def academic_year_start(on: datetime.date) -> int:
    """Return the calendar year in which the academic year containing `on` starts.

    English academic years run from 1 September to 31 August.
    """
    return on.year if on.month >= 9 else on.year - 1
