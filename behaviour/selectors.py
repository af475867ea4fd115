"""Reads shared by the behaviour pages, API and reports: points totals and
the term and academic year around a date."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from academies.models import AcademicYear, Term

from .models import IncidentPupil


@dataclass(frozen=True)
class PointsTotals:
    """Points over a range. Negative points are summed as a negative number,
    so net = positive + negative."""

    positive: int = 0
    negative: int = 0
    incident_count: int = 0
    positive_count: int = 0
    negative_count: int = 0

    @property
    def net(self) -> int:
        return self.positive + self.negative


def _zero_sum(condition: Q) -> Coalesce:
    return Coalesce(Sum("points", filter=condition), Value(0), output_field=IntegerField())


TOTALS_AGGREGATES = {
    "positive": _zero_sum(Q(points__gt=0)),
    "negative": _zero_sum(Q(points__lt=0)),
    "incident_count": Count("incident_id", distinct=True),
    "positive_count": Count("incident_id", distinct=True, filter=Q(polarity="positive")),
    "negative_count": Count("incident_id", distinct=True, filter=Q(polarity="negative")),
}


def points_totals(
    links: QuerySet[IncidentPupil],
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> PointsTotals:
    """Return the points totals of `links` with dates from `start` to `end`, in one query."""
    if start is not None:
        links = links.filter(date__gte=start)
    if end is not None:
        links = links.filter(date__lte=end)
    return PointsTotals(**links.aggregate(**TOTALS_AGGREGATES))


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime.date
    end: datetime.date


def year_and_term(trust_id: int, day: datetime.date) -> tuple[Period | None, Period | None]:
    """Return the academic year and the term (not half term) containing `day`.

    Between terms, the term is the one that ended last, so a holiday page
    still shows the term just finished.
    """
    year = AcademicYear.objects.filter(
        trust_id=trust_id, start_date__lte=day, end_date__gte=day
    ).first()
    if year is None:
        return None, None
    terms = list(Term.objects.filter(academic_year=year, parent__isnull=True, start_date__lte=day))
    year_period = Period(year.name, year.start_date, year.end_date)
    if not terms:
        return year_period, None
    term = max(terms, key=lambda t: t.start_date)
    return year_period, Period(f"{term.name} {year.name}", term.start_date, term.end_date)
