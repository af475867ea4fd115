"""The PDF documents of report runs: the governance report, the intervention
report and a year group's letters to parents.

`build_document` reads the figures of a run's kind as of the run's "as of"
date, renders them with the foundation's WeasyPrint renderer and returns
the PDF. The Celery task stores the file. Nothing here reads today's date,
so a run retried tomorrow still reports the day it was requested for.
"""

import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.db.models import Count, Q

from academies.models import AcademicYear, Academy, Term, YearGroup
from academies.selectors import academic_year_on, academy_figures
from behaviour.analysis import SUSPENSION_KINDS
from behaviour.models import Suspension, SuspensionSession
from progress.models import Intervention, ParentContact
from progress.parents import (
    BelowSubject,
    Letter,
    build_letters,
    can_print_year_group_letters,
    letters_record,
    responsible_contacts,
    staff_member_of,
    standings_for,
    year_group_standings,
)
from progress.summaries import areas_of
from pupils.models import Enrolment, active_on
from trust.charts import Chart, line_chart
from trust.pdf import render_document, write_document

from .access import sees_pupils
from .attention import (
    BELOW_TMG_ENGLISH,
    BELOW_TMG_MATHS,
    PERSISTENT_ABSENCE,
    REASON_LABELS,
    REPEATED_NEGATIVE,
    REPEATED_NEGATIVE_BEHAVIOUR,
    REPEATED_NEGATIVE_DAYS,
    AttentionRow,
    needing_attention,
)
from .breakdowns import TrendPoint, monthly_trend, monthly_trends_by_academy
from .figures import SUPPRESS_BELOW, FigureRow, Figures, academy_table
from .models import Measure, ReportRun
from .national import NationalComparison, PhaseComparison, comparisons_by_academy, trust_comparison
from .targets import PER_100_MEASURES, TargetBook, target_book

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]

# Letters rendered per WeasyPrint pass. Each chunk is laid out on its own and
# reports progress, and the chunks' pages are joined into one PDF at the end.
LETTER_CHUNK_PUPILS = 25
NOT_SHOWN = "not shown"
FEWER_THAN = f"fewer than {SUPPRESS_BELOW}"
NO_VALUE = "–"


class ReportFailed(Exception):
    """A user-facing reason the report cannot be produced."""


@dataclass
class Document:
    content: bytes
    filename: str
    pages: int


def build_document(run: ReportRun, progress: Progress) -> Document:
    """Build the PDF that `run` requests, calling `progress(percent, step)` as it goes.

    Raise ReportFailed with a sentence for the requester when there is
    nothing to report.
    """
    builders: dict[str, Callable[[ReportRun, Progress], Document]] = {
        ReportRun.Kind.GOVERNANCE: governance_document,
        ReportRun.Kind.INTERVENTION: intervention_document,
        ReportRun.Kind.PARENT_LETTERS: letters_document,
    }
    builder = builders.get(run.kind)
    if builder is None:
        allowed = ", ".join(ReportRun.Kind.values)
        raise ReportFailed(f"Report kind '{run.kind}' is not valid; use one of {allowed}.")
    return builder(run, progress)


# Rendering and shared helpers ------------------------------------------------------------


def _render(template_name: str, context: dict[str, Any], filename: str) -> Document:
    document = render_document(template_name, context)
    return Document(content=write_document(document), filename=filename, pages=len(document.pages))


def _dmy(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def _academic_year(as_of: datetime.date) -> AcademicYear:
    year = academic_year_on(as_of)
    if year is None:
        raise ReportFailed(
            f"No academic year contains {_dmy(as_of)}, so there are no figures to report. "
            "Add the academic year first."
        )
    return year


def _require_pupils(academies: Sequence[Academy], as_of: datetime.date, label: str) -> None:
    on_roll = Enrolment.objects.filter(active_on(as_of), academy__in=list(academies)).exists()
    if not on_roll:
        raise ReportFailed(
            f"No pupil is on roll in {label} on {_dmy(as_of)}, so there is nothing to report."
        )


def _is_small(count: int | None) -> bool:
    return count is not None and 0 < count < SUPPRESS_BELOW


def _number(value: float | int | Decimal | None, unit: str = "") -> str:
    if value is None:
        return NO_VALUE
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{float(value):,.1f}{unit}"


@dataclass
class CountCell:
    """One count of a table that trustees read, with the pupils it rests on."""

    count: int
    pupils: int
    suppressed: bool = False

    @property
    def text(self) -> str:
        if not self.suppressed:
            return f"{self.count:,}"
        return FEWER_THAN if _is_small(self.pupils) else NOT_SHOWN


def protect_column(cells: Sequence[CountCell]) -> None:
    """Suppress each count resting on 1 to 4 pupils, and a second one where a
    single hidden count could be worked out from the total, as
    reports.figures.protect_rows does for the dashboard's measures."""
    for cell in cells:
        cell.suppressed = _is_small(cell.pupils)
    hidden = [cell for cell in cells if cell.suppressed]
    if len(hidden) != 1:
        return
    shown = [cell for cell in cells if not cell.suppressed and cell.pupils]
    if shown:
        min(shown, key=lambda cell: cell.pupils).suppressed = True


# Governance report -----------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureColumn:
    measure: str
    label: str

    @property
    def unit(self) -> str:
        return "" if self.measure in PER_100_MEASURES else "%"


def _columns(*measures: Measure) -> list[MeasureColumn]:
    return [MeasureColumn(measure=m.value, label=m.label) for m in measures]


# The dashboard's measures, in the tables of the governance report.
DOMAIN_TABLES: list[tuple[str, list[MeasureColumn]]] = [
    (
        "Attendance",
        _columns(Measure.ATTENDANCE, Measure.PERSISTENT_ABSENCE, Measure.SEVERE_ABSENCE),
    ),
    ("Behaviour", _columns(Measure.NEGATIVE_PER_100, Measure.SUSPENSION_RATE)),
    (
        "Progress against target minimum grades",
        _columns(Measure.TMG_ENGLISH, Measure.TMG_MATHS, Measure.TMG_ALL),
    ),
    ("Staff", _columns(Measure.STAFF_ABSENCE, Measure.APPRAISAL_COMPLETION)),
]


@dataclass
class MeasureCell:
    """A figure with its target, as one academy's or the trust's row shows it."""

    text: str
    target: str
    verdict: str


def _measure_cell(
    figures: Figures, column: MeasureColumn, book: TargetBook, academy_id: int | None
) -> MeasureCell:
    measure = column.measure
    value = figures.value(measure)
    text = NOT_SHOWN if measure in figures.suppressed else _number(value, column.unit)
    goal = book.target(measure, academy_id)
    meets = book.meets(measure, value, academy_id)
    verdict = ""
    if meets is not None:
        verdict = "met" if meets else "not met"
    return MeasureCell(text=text, target=_number(goal, column.unit), verdict=verdict)


@dataclass
class DomainRow:
    label: str
    on_roll: str
    cells: list[MeasureCell]
    is_total: bool = False


@dataclass
class DomainTable:
    title: str
    columns: list[MeasureColumn]
    rows: list[DomainRow]


def _domain_tables(
    rows: Sequence[FigureRow], total: FigureRow, book: TargetBook
) -> list[DomainTable]:
    tables = []
    for title, columns in DOMAIN_TABLES:
        table_rows = []
        for row, academy_id, is_total in [
            *((r, r.academy.pk if r.academy else None, False) for r in rows),
            (total, None, True),
        ]:
            table_rows.append(
                DomainRow(
                    label=row.label,
                    on_roll=_number(row.figures.on_roll),
                    cells=[_measure_cell(row.figures, c, book, academy_id) for c in columns],
                    is_total=is_total,
                )
            )
        tables.append(DomainTable(title=title, columns=columns, rows=table_rows))
    return tables


@dataclass
class EnglandRow:
    """An academy's (or the trust's) DfE cohort figures beside England's."""

    label: str
    england: str
    enrolments: str
    cells: list[tuple[str, str]]
    is_total: bool = False


ENGLAND_MEASURES = (
    ("attendance_rate", "Attendance rate"),
    ("persistent_absence_rate", "Persistent absence rate"),
    ("severe_absence_rate", "Severe absence rate"),
)


def _england_label(national: NationalComparison | None) -> str:
    if national is None:
        return "No national figure for this phase"
    return f"{national.phase_label}, {national.heading}"


def _england_row(
    comparison: PhaseComparison, label: str, pupils: CountCell, is_total: bool = False
) -> EnglandRow:
    national = comparison.national
    cells = []
    for attribute, _ in ENGLAND_MEASURES:
        own = NOT_SHOWN if pupils.suppressed else _number(getattr(comparison, attribute), "%")
        england = _number(getattr(national, attribute) if national else None, "%")
        cells.append((own, england))
    return EnglandRow(
        label=label,
        england=_england_label(national),
        enrolments=pupils.text,
        cells=cells,
        is_total=is_total,
    )


def _england_rows(
    academies: Sequence[Academy],
    comparisons: dict[int, list[PhaseComparison]],
    as_of: datetime.date,
    total_label: str,
) -> list[EnglandRow]:
    """Return each academy's cohort figures (each phase's, for an all-through
    academy) beside England's, and the trust's beside all schools."""
    parts: list[tuple[str, PhaseComparison | None]] = []
    for academy in academies:
        own = comparisons.get(academy.pk, [])
        if not own:
            parts.append((academy.name, None))
        for comparison in own:
            label = academy.name if len(own) == 1 else f"{academy.name}: {comparison.label}"
            parts.append((label, comparison))

    # The cohort sizes add up to the trust's, so hiding one alone is not enough.
    pupils = [
        CountCell(count=part.figures.enrolments, pupils=part.figures.enrolments)
        for _, part in parts
        if part is not None
    ]
    protect_column(pupils)

    shown = iter(pupils)
    rows = []
    for label, part in parts:
        if part is None:
            rows.append(
                EnglandRow(
                    label=label,
                    england=_england_label(None),
                    enrolments=NO_VALUE,
                    cells=[(NO_VALUE, NO_VALUE)] * len(ENGLAND_MEASURES),
                )
            )
        else:
            rows.append(_england_row(part, label, next(shown)))

    trust = trust_comparison(academies, as_of)
    enrolments = trust.figures.enrolments
    total = CountCell(count=enrolments, pupils=enrolments, suppressed=_is_small(enrolments))
    rows.append(_england_row(trust, total_label, total, is_total=True))
    return rows


@dataclass
class SuspensionEnglandRow:
    label: str
    rate: str
    england: list[str]


def _no_suspension_rate(nationals: Sequence[NationalComparison | None]) -> str:
    if any(national is not None for national in nationals):
        return "No national suspension rate recorded for this phase"
    return "No national figure for this phase"


def _suspension_england(
    rows: Sequence[FigureRow], comparisons: dict[int, list[PhaseComparison]]
) -> list[SuspensionEnglandRow]:
    found = []
    for row in rows:
        if row.academy is None:
            continue
        nationals = [c.national for c in comparisons.get(row.academy.pk, [])]
        england = [
            f"{n.phase_label}, {n.heading}: {_number(n.suspension_rate)}"
            for n in nationals
            if n is not None and n.suspension_rate is not None
        ]
        found.append(
            SuspensionEnglandRow(
                label=row.label,
                rate=(
                    NOT_SHOWN
                    if Measure.SUSPENSION_RATE in row.figures.suppressed
                    else _number(row.figures.value(Measure.SUSPENSION_RATE))
                ),
                england=england or [_no_suspension_rate(nationals)],
            )
        )
    return found


@dataclass
class SuspensionRow:
    label: str
    suspensions: CountCell
    lunchtime: CountCell
    pupils_suspended: CountCell
    days: str
    exclusions: CountCell
    is_total: bool = False


def _suspension_rows(
    academies: Sequence[Academy], start: datetime.date, end: datetime.date, total_label: str
) -> list[SuspensionRow]:
    """Count suspensions and permanent exclusions in force that start in the
    window, per academy, with each count's pupils for suppression."""
    ids = [a.pk for a in academies]
    in_force = Suspension.objects.filter(
        status=Suspension.Status.ACTIVE, start_date__range=(start, end), academy_id__in=ids
    )
    kinds = {
        "suspensions": Q(kind=Suspension.Kind.SUSPENSION),
        "lunchtime": Q(kind=Suspension.Kind.LUNCHTIME),
        "suspended": Q(kind__in=SUSPENSION_KINDS),
        "exclusions": Q(kind=Suspension.Kind.PERMANENT),
    }
    aggregates: dict[str, Any] = {}
    for name, condition in kinds.items():
        aggregates[f"{name}_count"] = Count("pk", filter=condition)
        aggregates[f"{name}_pupils"] = Count("pupil_id", distinct=True, filter=condition)
    counts: dict[int, dict[str, Any]] = {
        row["academy_id"]: dict(row)
        for row in in_force.values("academy_id").annotate(**aggregates).order_by()
    }
    days = dict(
        SuspensionSession.objects.filter(
            suspension__kind__in=SUSPENSION_KINDS,
            suspension__status=Suspension.Status.ACTIVE,
            date__range=(start, end),
            academy_id__in=ids,
        )
        .values_list("academy_id")
        .annotate(sessions=Count("pk"))
        .order_by()
    )
    totals = {
        name: in_force.aggregate(
            count=Count("pk", filter=condition),
            pupils=Count("pupil_id", distinct=True, filter=condition),
        )
        for name, condition in kinds.items()
    }

    def cell(row: dict[str, Any] | None, name: str) -> CountCell:
        if row is None:
            return CountCell(count=0, pupils=0)
        return CountCell(count=row[f"{name}_count"], pupils=row[f"{name}_pupils"])

    rows = [
        SuspensionRow(
            label=academy.name,
            suspensions=cell(counts.get(academy.pk), "suspensions"),
            lunchtime=cell(counts.get(academy.pk), "lunchtime"),
            pupils_suspended=cell(counts.get(academy.pk), "suspended"),
            days=_number(Decimal(days.get(academy.pk, 0)) / 2),
            exclusions=cell(counts.get(academy.pk), "exclusions"),
        )
        for academy in academies
    ]
    for name in ("suspensions", "lunchtime", "pupils_suspended", "exclusions"):
        protect_column([getattr(row, name) for row in rows])
    # A suspended pupil's school days are hidden with their suspensions.
    for row in rows:
        if row.pupils_suspended.suppressed:
            row.days = NOT_SHOWN

    def total_cell(name: str) -> CountCell:
        cell = CountCell(count=totals[name]["count"], pupils=totals[name]["pupils"])
        cell.suppressed = _is_small(cell.pupils)
        return cell

    total = SuspensionRow(
        label=total_label,
        suspensions=total_cell("suspensions"),
        lunchtime=total_cell("lunchtime"),
        pupils_suspended=total_cell("suspended"),
        days=_number(Decimal(sum(days.values())) / 2),
        exclusions=total_cell("exclusions"),
        is_total=True,
    )
    if total.pupils_suspended.suppressed:
        total.days = NOT_SHOWN
    return [*rows, total]


@dataclass
class SendRow:
    label: str
    on_roll: str
    sen_support: CountCell
    sen_support_percent: str
    ehc_plan: CountCell
    ehc_plan_percent: str
    is_total: bool = False


def _percent_of(cell: CountCell, on_roll: int) -> str:
    if cell.suppressed:
        return NOT_SHOWN
    return _number(round(100 * cell.count / on_roll, 1) if on_roll else None, "%")


def _send_rows(
    academies: Sequence[Academy], as_of: datetime.date, total_label: str
) -> list[SendRow]:
    """Pupils on roll with SEN support and with an EHC plan, per academy.

    SEN status is the pupil's current one, as the census records it.
    """
    figures = academy_figures(academies, as_of)
    support = [CountCell(count=f.sen_support, pupils=f.sen_support) for f in figures]
    plans = [CountCell(count=f.ehc_plan, pupils=f.ehc_plan) for f in figures]
    protect_column(support)
    protect_column(plans)
    rows = [
        SendRow(
            label=f.academy.name,
            on_roll=_number(f.on_roll),
            sen_support=support[i],
            sen_support_percent=_percent_of(support[i], f.on_roll),
            ehc_plan=plans[i],
            ehc_plan_percent=_percent_of(plans[i], f.on_roll),
        )
        for i, f in enumerate(figures)
    ]
    on_roll = sum(f.on_roll for f in figures)
    total_support = CountCell(count=sum(c.count for c in support), pupils=0)
    total_support.pupils = total_support.count
    total_support.suppressed = _is_small(total_support.count)
    total_plans = CountCell(count=sum(c.count for c in plans), pupils=0)
    total_plans.pupils = total_plans.count
    total_plans.suppressed = _is_small(total_plans.count)
    rows.append(
        SendRow(
            label=total_label,
            on_roll=_number(on_roll),
            sen_support=total_support,
            sen_support_percent=_percent_of(total_support, on_roll),
            ehc_plan=total_plans,
            ehc_plan_percent=_percent_of(total_plans, on_roll),
            is_total=True,
        )
    )
    return rows


@dataclass
class StaffRow:
    label: str
    staff: str
    lost: str
    contracted: str
    rate: MeasureCell
    appraisals: str
    stages: list[str]
    is_total: bool = False


def _staff_rows(rows: Sequence[FigureRow], total: FigureRow, book: TargetBook) -> list[StaffRow]:
    absence = MeasureColumn(Measure.STAFF_ABSENCE, Measure.STAFF_ABSENCE.label)
    found = []
    for row, is_total in [*((r, False) for r in rows), (total, True)]:
        cell = row.figures.staff_absence
        appraisal = row.figures.appraisal
        stages = []
        if appraisal is not None:
            for stage in appraisal.stages:
                done = f"{stage.done:,} of {stage.total:,}"
                if stage.percent is not None:
                    done += f" ({stage.percent}%)"
                if stage.overdue:
                    done += f", {stage.overdue:,} overdue"
                stages.append(done)
        academy_id = row.academy.pk if row.academy is not None else None
        found.append(
            StaffRow(
                label=row.label,
                staff=_number(cell.staff_count if cell else None),
                lost=_number(cell.lost if cell else None),
                contracted=_number(cell.contracted if cell else None),
                rate=_measure_cell(row.figures, absence, book, academy_id),
                appraisals=_number(appraisal.total if appraisal else None),
                stages=stages,
                is_total=is_total,
            )
        )
    return found


def _stage_labels(rows: Sequence[FigureRow], total: FigureRow) -> list[str]:
    for row in [total, *rows]:
        if row.figures.appraisal is not None:
            return [stage.label for stage in row.figures.appraisal.stages]
    return []


@dataclass
class TrendTable:
    months: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass
class TrendChart:
    """A chart of the trust's months with the data behind it as printed:
    "not shown" for a hidden month, a dash for a month with no data."""

    chart: Chart
    rows: list[tuple[str, str]]


def _trend_chart(
    title: str,
    y_title: str,
    labels: list[str],
    values: Sequence[float | int | None],
    hidden: Sequence[bool],
    unit: str = "",
) -> TrendChart:
    shown = [None if small else value for value, small in zip(values, hidden, strict=True)]
    chart = line_chart(
        title=title,
        labels=labels,
        # A None point is drawn as a gap and summarised as "no value", though
        # the Number type of trust.charts leaves None out.
        series={"The trust": cast(list[float | int], shown)},
        y_title=y_title,
        x_title="Month",
    )
    rows = [
        (label, NOT_SHOWN if small else _number(value, unit))
        for label, value, small in zip(labels, values, hidden, strict=True)
    ]
    return TrendChart(chart=chart, rows=rows)


def _trend_charts(points: Sequence[TrendPoint]) -> list[TrendChart]:
    """Line charts of the trust's months. A month resting on 1 to 4 pupils,
    incidents or suspensions has no point, so no child can be picked out."""
    labels = [point.label for point in points]
    return [
        _trend_chart(
            "Attendance rate by month",
            "Attendance rate (%)",
            labels,
            [point.attendance_rate for point in points],
            [_is_small(point.on_roll) for point in points],
            "%",
        ),
        _trend_chart(
            "Negative incidents per 100 pupils by month",
            "Incidents per 100 pupils",
            labels,
            [point.negative_per_100 for point in points],
            [_is_small(p.negative_incidents) or _is_small(p.on_roll) for p in points],
        ),
        _trend_chart(
            "Suspensions by month",
            "Suspensions",
            labels,
            [point.suspensions for point in points],
            [_is_small(point.suspensions) for point in points],
        ),
    ]


def _attendance_by_month(academies: Sequence[Academy], as_of: datetime.date) -> TrendTable:
    """Return each academy's attendance rate by month. A month of 1 to 4 pupils
    on roll is hidden, with a second academy's where one alone would be."""
    trends = monthly_trends_by_academy([a.pk for a in academies], as_of)
    months = [point.label for point in trends[academies[0].pk]] if academies else []
    rolls = [
        [CountCell(count=p.on_roll, pupils=p.on_roll) for p in trends[a.pk]] for a in academies
    ]
    for index in range(len(months)):
        protect_column([cells[index] for cells in rolls])
    rows = []
    for academy, cells in zip(academies, rolls, strict=True):
        texts = [
            NOT_SHOWN if cell.suppressed else _number(point.attendance_rate, "%")
            for point, cell in zip(trends[academy.pk], cells, strict=True)
        ]
        rows.append((academy.name, texts))
    return TrendTable(months=months, rows=rows)


def _governance_academies(run: ReportRun) -> list[Academy]:
    as_of = run.as_of
    academies = Academy.objects.select_related("trust").filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=as_of), joined_trust_on__lte=as_of
    )
    if run.academy_id is not None:
        academies = academies.filter(pk=run.academy_id)
    chosen = list(academies.order_by("name", "pk"))
    if not chosen:
        raise ReportFailed(
            f"No academy was open in the trust on {_dmy(as_of)}, so there is nothing to report."
        )
    _require_pupils(chosen, as_of, chosen[0].name if run.academy_id else "any academy")
    return chosen


def _governance_title(run: ReportRun, year: AcademicYear) -> str:
    """Name the term of a scheduled termly report, whose params carry its term id."""
    term_id = run.params.get("term") if isinstance(run.params, dict) else None
    term = Term.objects.filter(pk=term_id).first() if isinstance(term_id, int) else None
    if term is None:
        return f"Governance report {year.name}"
    return f"Governance report: {term.name} {term.academic_year.name}"


def governance_document(run: ReportRun, progress: Progress) -> Document:
    """Build the trustees' governance report: aggregates only, no pupil names,
    and every figure resting on 1 to 4 pupils suppressed."""
    as_of = run.as_of
    progress(5, "Choosing the academies")
    academies = _governance_academies(run)
    year = _academic_year(as_of)

    progress(10, "Reading attendance, behaviour, progress and staff figures")
    table = academy_table(academies, as_of, suppress=True)
    book = target_book(year, academies)

    progress(30, "Comparing with England")
    comparisons = comparisons_by_academy(academies, as_of)
    england = _england_rows(academies, comparisons, as_of, table.total.label)

    progress(40, "Counting suspensions and exclusions")
    suspensions = _suspension_rows(academies, table.start, table.end, table.total.label)

    progress(50, "Counting pupils with SEND")
    send = _send_rows(academies, as_of, table.total.label)

    progress(55, "Reading the trends")
    trend = monthly_trend([a.pk for a in academies], None, as_of)
    charts = _trend_charts(trend)
    by_month = _attendance_by_month(academies, as_of)

    progress(80, "Laying out the tables")
    context = {
        "document_title": _governance_title(run, year),
        "trust_name": academies[0].trust.name,
        "as_of": as_of,
        "start": table.start,
        "end": table.end,
        "year": year,
        "suppress_below": SUPPRESS_BELOW,
        "tables": _domain_tables(table.rows, table.total, book),
        "england": england,
        "suspension_england": _suspension_england(table.rows, comparisons),
        "suspensions": suspensions,
        "send": send,
        "staff": _staff_rows(table.rows, table.total, book),
        "stage_labels": _stage_labels(table.rows, table.total),
        "charts": charts,
        "by_month": by_month,
        "academy_count": len(academies),
    }
    progress(90, "Rendering the PDF")
    scope = f"academy{run.academy_id}-" if run.academy_id else ""
    document = _render(
        "reports/pdf/governance.html", context, f"governance-report-{scope}{as_of:%Y-%m-%d}.pdf"
    )
    return document


# Intervention report ---------------------------------------------------------------------


# The reasons of reports.attention in the order the report lists them.
REASON_ORDER = (BELOW_TMG_ENGLISH, BELOW_TMG_MATHS, PERSISTENT_ABSENCE, REPEATED_NEGATIVE_BEHAVIOUR)


@dataclass
class ReasonPupil:
    """A pupil listed under one reason, with what covers it."""

    name: str
    group: str
    detail: str
    interventions: list[str]
    other_reasons: list[str]

    @property
    def is_gap(self) -> bool:
        return not self.interventions


@dataclass
class ReasonSection:
    key: str
    label: str
    pupils: list[ReasonPupil]
    count: CountCell
    covered: CountCell
    gaps: CountCell


def _intervention_text(intervention: Intervention) -> str:
    return (
        f"{intervention.title} ({intervention.get_kind_display()}, "
        f"review {_dmy(intervention.review_date)})"
    )


# The area of progress.summaries each TMG reason is about.
REASON_AREAS = {BELOW_TMG_ENGLISH: "english", BELOW_TMG_MATHS: "maths"}


def _below_subjects(
    academy: Academy, rows: Sequence[AttentionRow], as_of: datetime.date
) -> dict[int, list[BelowSubject]]:
    """Return the subjects each pupil below TMG in English or maths is below
    in at their latest assessment point, keyed by pupil id."""
    pupil_ids = [
        attention.pupil_id
        for attention in rows
        if any(reason.key in REASON_AREAS for reason in attention.reasons)
    ]
    if not pupil_ids:
        return {}
    enrolments = list(
        Enrolment.objects.filter(active_on(as_of), academy=academy, pupil_id__in=pupil_ids)
        .select_related("pupil")
        .order_by("pupil_id", "-start_date", "-pk")
    )
    latest: dict[int, Enrolment] = {}
    for enrolment in enrolments:
        latest.setdefault(enrolment.pupil_id, enrolment)
    standings = standings_for(list(latest.values()), as_of)
    return {pupil_id: standing.below for pupil_id, standing in standings.items()}


def _tmg_detail(key: str, below: Sequence[BelowSubject], fallback: str) -> str:
    """Describe the gap between grade and TMG in the subjects of a TMG reason."""
    area = REASON_AREAS.get(key)
    if area is None:
        return fallback
    subjects = [
        f"{subject.qualification.name}: {subject.grade_words} against a TMG of {subject.tmg_words}"
        for subject in below
        if area in areas_of(subject.qualification)
    ]
    return "; ".join(subjects) or fallback or "Below TMG at the latest assessment point"


def _reason_sections(
    rows: Sequence[AttentionRow], below: dict[int, list[BelowSubject]], suppress: bool
) -> list[ReasonSection]:
    sections = []
    for key in REASON_ORDER:
        pupils = []
        for attention in rows:
            reason = next((r for r in attention.reasons if r.key == key), None)
            if reason is None:
                continue
            pupil_row = attention.row
            pupils.append(
                ReasonPupil(
                    name=pupil_row.name,
                    group=(
                        f"{pupil_row.year_group.name}, {pupil_row.tutor_group_name}"
                        if pupil_row.tutor_group_name
                        else pupil_row.year_group.name
                    ),
                    detail=_tmg_detail(key, below.get(attention.pupil_id, []), reason.detail),
                    interventions=[_intervention_text(i) for i in reason.covered_by],
                    other_reasons=[r.label for r in attention.reasons if r.key != key],
                )
            )
        gaps = sum(1 for pupil in pupils if pupil.is_gap)
        count = CountCell(count=len(pupils), pupils=len(pupils))
        covered = CountCell(count=len(pupils) - gaps, pupils=len(pupils) - gaps)
        gap_cell = CountCell(count=gaps, pupils=gaps)
        if suppress:
            count.suppressed = _is_small(count.pupils)
            if count.suppressed:
                covered.suppressed = gap_cell.suppressed = True
            else:
                protect_column([covered, gap_cell])
        sections.append(
            ReasonSection(
                key=key,
                label=REASON_LABELS[key],
                pupils=pupils,
                count=count,
                covered=covered,
                gaps=gap_cell,
            )
        )
    return sections


@dataclass
class YearGroupCounts:
    label: str
    cells: list[CountCell]
    is_total: bool = False


def _year_group_counts(
    rows: Sequence[AttentionRow], year_groups: Sequence[YearGroup], total_label: str
) -> list[YearGroupCounts]:
    """Count the pupils of each reason per year group, for readers who see no names."""
    found = []
    for year_group in year_groups:
        cells = []
        for key in REASON_ORDER:
            count = sum(
                1
                for attention in rows
                if attention.row.year_group.pk == year_group.pk
                and any(r.key == key for r in attention.reasons)
            )
            cells.append(CountCell(count=count, pupils=count))
        found.append(YearGroupCounts(label=year_group.name, cells=cells))
    for index in range(len(REASON_ORDER)):
        protect_column([row.cells[index] for row in found])
    totals = []
    for key in REASON_ORDER:
        count = sum(1 for attention in rows if any(r.key == key for r in attention.reasons))
        totals.append(CountCell(count=count, pupils=count, suppressed=_is_small(count)))
    found.append(YearGroupCounts(label=total_label, cells=totals, is_total=True))
    return found


def _intervention_scope(run: ReportRun) -> tuple[Academy, YearGroup | None]:
    year_group = None
    if run.year_group_id is not None:
        year_group = (
            YearGroup.objects.select_related("academy").filter(pk=run.year_group_id).first()
        )
        if year_group is None:
            raise ReportFailed(
                f"Year group {run.year_group_id} was not found; choose one of the academy's "
                "year groups."
            )
    academy = run.academy
    if academy is None and year_group is not None:
        academy = year_group.academy
    if academy is None:
        raise ReportFailed(
            "Choose an academy or a year group: the intervention report covers one of them."
        )
    if year_group is not None and year_group.academy_id != academy.pk:
        raise ReportFailed(
            f"{year_group.name} (year group {year_group.pk}) is not a year group of "
            f"{academy.name}; choose one of that academy's year groups."
        )
    return academy, year_group


def _shows_names(run: ReportRun, academy: Academy, year_group: YearGroup | None) -> bool:
    """Return whether the report may name pupils.

    A scheduled run is read by the academy's staff who see its pupils
    (reports.access.visible_runs), so it names them. A requested run names
    them only when its requester may see them, and a run whose requester's
    account was deleted names no pupil.
    """
    user = run.requested_by
    if user is None:
        return run.scheduled
    year_group_id = year_group.pk if year_group is not None else None
    return sees_pupils(user, academy_id=academy.pk, year_group_id=year_group_id)


def intervention_document(run: ReportRun, progress: Progress) -> Document:
    """Build the intervention report of an academy or one of its year groups.

    Pupils below TMG in English or maths, persistent absentees and pupils
    with repeated negative behaviour, each with the interventions in place
    and the gaps. Readers who may not see the pupils get counts only.
    """
    as_of = run.as_of
    progress(5, "Checking the academy and year group")
    academy, year_group = _intervention_scope(run)
    label = f"{year_group.name}, {academy.name}" if year_group else academy.name
    if year_group is not None:
        on_roll = Enrolment.objects.filter(active_on(as_of), year_group=year_group).exists()
        if not on_roll:
            raise ReportFailed(
                f"No pupil is on roll in {label} on {_dmy(as_of)}, so there is nothing to report."
            )
    else:
        _require_pupils([academy], as_of, academy.name)
    names = _shows_names(run, academy, year_group)

    progress(15, "Reading attendance, behaviour, progress and interventions")
    rows = needing_attention(academy, year_group, as_of)

    progress(60, "Grouping the pupils by reason")
    below = _below_subjects(academy, rows, as_of) if names else {}
    sections = _reason_sections(rows, below, suppress=not names)
    by_year_group: list[YearGroupCounts] = []
    if not names and year_group is None:
        year_groups = list(YearGroup.objects.filter(academy=academy).order_by("nc_year"))
        by_year_group = _year_group_counts(rows, year_groups, academy.name)

    progress(75, "Laying out the tables")
    context = {
        "document_title": f"Intervention report: {label}",
        "trust_name": academy.trust.name,
        "label": label,
        "as_of": as_of,
        "names": names,
        "sections": sections,
        "pupil_count": len(rows),
        "pupil_count_text": (f"{len(rows):,}" if names or not _is_small(len(rows)) else FEWER_THAN),
        "gap_count": sum(1 for row in rows if row.gaps),
        "by_year_group": by_year_group,
        "reason_labels": [REASON_LABELS[key] for key in REASON_ORDER],
        "suppress_below": SUPPRESS_BELOW,
        "repeated_negative": REPEATED_NEGATIVE,
        "repeated_negative_days": REPEATED_NEGATIVE_DAYS,
    }
    progress(90, "Rendering the PDF")
    scope = f"year-group{year_group.pk}" if year_group else f"academy{academy.pk}"
    suffix = "" if names else "-counts"
    return _render(
        "reports/pdf/intervention.html",
        context,
        f"intervention-report-{scope}-{as_of:%Y-%m-%d}{suffix}.pdf",
    )


# Parents' letters ------------------------------------------------------------------------


def _letters_year_group(run: ReportRun) -> YearGroup:
    if run.year_group_id is None:
        raise ReportFailed("Choose a year group: parents' letters are printed for one year group.")
    year_group = YearGroup.objects.select_related("academy").filter(pk=run.year_group_id).first()
    if year_group is None:
        raise ReportFailed(
            f"Year group {run.year_group_id} was not found; choose one of the academy's "
            "year groups."
        )
    if run.academy_id is not None and year_group.academy_id != run.academy_id:
        academy = run.academy.name if run.academy else f"academy {run.academy_id}"
        raise ReportFailed(f"{year_group.name} of {year_group.academy.name} is not in {academy}.")
    return year_group


def _unrecorded(letters: Sequence[Letter], since: datetime.datetime) -> list[Letter]:
    """Drop the letters this run has already logged, so a retried run logs each once.

    A letter counts as logged when its pupil has a letter contact for the
    same recipient created since the run was queued.
    """
    logged = set(
        ParentContact.objects.filter(
            method=ParentContact.Method.LETTER,
            created_at__gte=since,
            pupil_id__in=[letter.pupil.pk for letter in letters],
        ).values_list("pupil_id", "contact_id")
    )
    return [
        letter for letter in letters if (letter.pupil.pk, letter.recipient.contact_id) not in logged
    ]


def letters_document(run: ReportRun, progress: Progress) -> Document:
    """Build one PDF of the progress letters of a year group's pupils below
    TMG, one letter a page, and log each letter as a contact with parents
    as the web view of a year group's letters does."""
    as_of = run.as_of
    year_group = _letters_year_group(run)
    user = run.requested_by
    if user is None or not can_print_year_group_letters(user, year_group):
        raise ReportFailed(
            f"Only the heads of {year_group.name}, the academy's leaders and trust leaders "
            "print its letters to parents."
        )
    sender = staff_member_of(user)
    if sender is None:
        raise ReportFailed(
            "Only staff with a staff record can send letters to parents, because each letter "
            "is logged against a member of staff."
        )
    signer_name = user.get_full_name() or user.get_username()
    label = f"{year_group.name}, {year_group.academy.name}"

    progress(10, "Choosing the pupils below TMG")
    on_roll = Enrolment.objects.filter(active_on(as_of), year_group=year_group).exists()
    if not on_roll:
        raise ReportFailed(f"No pupil is on roll in {label} on {_dmy(as_of)}.")
    standings = year_group_standings(year_group, as_of)
    if not standings:
        raise ReportFailed(
            f"No pupil in {label} is below TMG in English or maths, or in two or more "
            "subjects, at their latest assessment point."
        )
    recipients = responsible_contacts([s.pupil for s in standings])

    # One call for the whole year group, because build_letters leaves a
    # withheld address off only when its letters share a file.
    progress(15, "Writing the letters")
    letters = build_letters(
        standings, recipients, signer=sender, signer_name=signer_name, today=as_of
    )
    if not letters:
        raise ReportFailed(
            f"None of the pupils below TMG in {label} has a contact with parental responsibility."
        )

    documents = []
    chunks = range(0, len(standings), LETTER_CHUNK_PUPILS)
    title = f"Progress letters: {label}"
    for number, first in enumerate(chunks, start=1):
        chunk = {s.pupil.pk for s in standings[first : first + LETTER_CHUNK_PUPILS]}
        chunk_letters = [letter for letter in letters if letter.pupil.pk in chunk]
        if chunk_letters:
            context = {"document_title": title, "letters": chunk_letters, "printed_by": signer_name}
            documents.append(render_document("pdf/progress_letter.html", context))
        done = min(first + LETTER_CHUNK_PUPILS, len(standings))
        progress(
            15 + 70 * number // len(chunks),
            f"Letters for pupils {first + 1} to {done} of {len(standings)}",
        )

    progress(90, "Rendering the PDF")
    pages = [page for document in documents for page in document.pages]
    content = write_document(documents[0].copy(pages))
    # NOTE: the letters are logged before the task stores the file, as the web
    # view logs them before sending it. A run whose file then fails to save
    # leaves them logged, and a retry of the run does not log them again.
    new = _unrecorded(letters, run.created_at)
    letters_record(actor=user, staff=sender, letters=new)
    logger.info(
        "Year group progress letters built run=%s year_group=%s letters=%s logged=%s",
        run.pk,
        year_group.pk,
        len(letters),
        len(new),
    )
    filename = f"progress-letters-year{year_group.nc_year}-{year_group.pk}-{as_of:%Y-%m-%d}.pdf"
    return Document(content=content, filename=filename, pages=len(pages))
