"""Date filters of the behaviour pages, typed as dd/mm/yyyy.

Every page reads dates with attendance.views.parse_day, which also accepts
yyyy-mm-dd so that links made before the pages used dd/mm/yyyy still work.
"""

import datetime

from django.http import HttpRequest

from attendance.views import parse_day
from trust.params import InvalidParameter


def date_parameter(request: HttpRequest, name: str) -> datetime.date | None:
    """Read the optional date query parameter `name`, or None when it is empty."""
    raw = request.GET.get(name, "").strip()
    return parse_day(name, raw) if raw else None


def check_date_range(start: datetime.date, end: datetime.date) -> None:
    """Raise InvalidParameter on "from" when `start` is after `end`."""
    if start > end:
        raise InvalidParameter(
            "from",
            f"{start:%d/%m/%Y}",
            f"dates must be written dd/mm/yyyy, with “from” on or before “to” ({end:%d/%m/%Y})",
        )
