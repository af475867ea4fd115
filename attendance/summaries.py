"""Per-pupil attendance summaries, rebuilt from the marks.

Every write of marks calls rebuild() in the same transaction for the
pupils and weeks it touched. Rebuilding (rather than adding deltas) keeps
the summaries equal to a recount of the marks whatever sequence of saves,
corrections and imports came before, at a cost of one read of at most a
year of marks per pupil touched.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet

from .codes import Category
from .models import AttendanceMark, PupilWeekSummary, PupilYearSummary
from .statistics import Counts

COUNT_EXPRESSIONS = {
    "present": Count("pk", filter=Q(category=Category.PRESENT)),
    "approved_activity": Count("pk", filter=Q(category=Category.APPROVED_ACTIVITY)),
    "authorised": Count("pk", filter=Q(category=Category.AUTHORISED)),
    "unauthorised": Count("pk", filter=Q(category=Category.UNAUTHORISED)),
    "not_counted": Count("pk", filter=Q(category=Category.NOT_COUNTED)),
    "late_before_close": Count("pk", filter=Q(code="L")),
    "late_after_close": Count("pk", filter=Q(code="U")),
}
COUNT_FIELDS = tuple(COUNT_EXPRESSIONS)
BATCH_SIZE = 5000


def counts_of(row: object) -> Counts:
    """Return the Counts held by a summary row or an annotated values() dict."""
    if isinstance(row, dict):
        return Counts(**{name: row.get(name) or 0 for name in COUNT_FIELDS})
    return Counts(**{name: getattr(row, name) or 0 for name in COUNT_FIELDS})


def rebuild(
    *,
    pupil_ids: Iterable[int],
    weeks: Iterable[datetime.date],
    academic_year_ids: Iterable[int],
) -> None:
    """Recount the week and year summaries of `pupil_ids` from their marks.

    Six queries whatever the number of pupils: a delete, a grouped count and
    a bulk insert for each of the two summary tables.
    """
    pupils = sorted(set(pupil_ids))
    week_list = sorted(set(weeks))
    years = sorted(set(academic_year_ids))
    if not pupils:
        return

    PupilWeekSummary.objects.filter(pupil_id__in=pupils, week_start__in=week_list).delete()
    week_rows = (
        AttendanceMark.objects.filter(pupil_id__in=pupils, week_start__in=week_list)
        .values("pupil_id", "academy_id", "academic_year_id", "year_group_id", "week_start")
        .annotate(**COUNT_EXPRESSIONS)
        .order_by()
    )
    PupilWeekSummary.objects.bulk_create(
        [PupilWeekSummary(**row) for row in week_rows], batch_size=BATCH_SIZE
    )

    PupilYearSummary.objects.filter(pupil_id__in=pupils, academic_year_id__in=years).delete()
    year_rows = (
        AttendanceMark.objects.filter(pupil_id__in=pupils, academic_year_id__in=years)
        .values("pupil_id", "academy_id", "academic_year_id")
        .annotate(**COUNT_EXPRESSIONS)
        .order_by()
    )
    PupilYearSummary.objects.bulk_create(
        [PupilYearSummary(**row) for row in year_rows], batch_size=BATCH_SIZE
    )


def rebuild_academies(academy_ids: Iterable[int], academic_year_ids: Iterable[int]) -> None:
    """Recount every summary of the given academies and years, for bulk loads."""
    academies = sorted(set(academy_ids))
    years = sorted(set(academic_year_ids))
    marks = AttendanceMark.objects.filter(academy_id__in=academies, academic_year_id__in=years)

    PupilWeekSummary.objects.filter(academy_id__in=academies, academic_year_id__in=years).delete()
    week_rows = (
        marks.values("pupil_id", "academy_id", "academic_year_id", "year_group_id", "week_start")
        .annotate(**COUNT_EXPRESSIONS)
        .order_by()
    )
    _insert_in_batches(PupilWeekSummary, week_rows)

    PupilYearSummary.objects.filter(academy_id__in=academies, academic_year_id__in=years).delete()
    year_rows = (
        marks.values("pupil_id", "academy_id", "academic_year_id")
        .annotate(**COUNT_EXPRESSIONS)
        .order_by()
    )
    _insert_in_batches(PupilYearSummary, year_rows)


def _insert_in_batches(model: Any, rows: QuerySet[Any, Any]) -> None:
    # bulk_create turns its input into a list, so a whole trust's rows are
    # streamed and inserted a batch at a time to bound memory.
    batch = []
    for row in rows.iterator(chunk_size=BATCH_SIZE):
        batch.append(model(**row))
        if len(batch) >= BATCH_SIZE:
            model.objects.bulk_create(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)
