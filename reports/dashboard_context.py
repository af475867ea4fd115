"""The tables of the trust, academy and year group dashboards, for the page
and for its CSV and XLSX exports alike.

Each table is built once from the selectors of reports/ (figures,
breakdowns, attention, targets, national) as rows of cells. A cell keeps
the number, whether it is hidden, its target and England's figure, so the
template writes words beside the numbers and the export writes the same
values, never more than the page shows.
"""

import datetime
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.urls import NoReverseMatch, reverse

from academies.models import Academy, YearGroup
from academies.selectors import academic_year_on
from attendance.selectors import band
from trust.charts import Chart, Number, bar_chart, line_chart

from .figures import SUPPRESS_BELOW, FigureRow, Figures, FigureTable
from .models import Measure

HIDDEN = "Hidden"
# The key Figures.suppressed uses for a pupil count of 1 to 4 (reports.breakdowns.ON_ROLL).
ON_ROLL = "on_roll"
HIDDEN_EXPLANATION = (
    f"A dash marks a figure hidden because it rests on fewer than {SUPPRESS_BELOW} pupils, "
    "so that no child can be identified from it."
)


@dataclass(frozen=True)
class Column:
    """One measure column of a figures table."""

    measure: str
    header: str
    unit: str = "%"
    places: int = 1
    # Staff measures belong to academies and the trust, not to year groups.
    staff: bool = False


COLUMNS: tuple[Column, ...] = (
    Column(Measure.ATTENDANCE, "Attendance"),
    Column(Measure.PERSISTENT_ABSENCE, "Persistent absence"),
    Column(Measure.SEVERE_ABSENCE, "Severe absence"),
    Column(Measure.NEGATIVE_PER_100, "Negative incidents per 100 pupils", unit=""),
    Column(Measure.SUSPENSION_RATE, "Suspensions per 100 pupils", unit="", places=2),
    Column(Measure.TMG_ENGLISH, "On or above TMG: English"),
    Column(Measure.TMG_MATHS, "On or above TMG: mathematics"),
    Column(Measure.TMG_ALL, "On or above TMG: all subjects"),
    Column(Measure.STAFF_ABSENCE, "Staff absence", staff=True),
    Column(Measure.APPRAISAL_COMPLETION, "Appraisal objectives agreed", staff=True),
)
PUPIL_COLUMNS = tuple(column for column in COLUMNS if not column.staff)


def format_figure(value: float | None, unit: str, places: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:.{places}f}{unit}"


# Cells and rows ----------------------------------------------------------------


@dataclass
class Cell:
    """One measure of one row, with its target and England's figure where they apply."""

    column: Column
    value: float | None
    suppressed: bool = False
    target: float | None = None
    meets: bool | None = None
    national: float | None = None
    national_label: str = ""

    @property
    def text(self) -> str:
        return format_figure(self.value, self.column.unit, self.column.places)

    @property
    def band_word(self) -> str:
        if self.column.measure != Measure.ATTENDANCE or self.value is None:
            return ""
        return band(self.value)[1]

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        shown = format_figure(self.target, self.column.unit, self.column.places)
        if self.meets is None:
            return f"Target {shown}"
        return f"Target {shown}: {'met' if self.meets else 'not met'}"

    @property
    def national_text(self) -> str:
        if self.national is None:
            return ""
        shown = format_figure(self.national, self.column.unit, self.column.places)
        return f"{self.national_label}: {shown}"

    @property
    def export_value(self) -> object:
        return HIDDEN if self.suppressed else self.value


@dataclass
class Row:
    """A table row: an academy, a year group, a pupil group or the total."""

    label: str
    figures: Figures
    cells: list[Cell]
    url: str = ""
    is_total: bool = False
    academy: Academy | None = None

    @property
    def on_roll_hidden(self) -> bool:
        # Breakdowns hide a pupil group of 1 to 4 pupils on roll as well.
        return ON_ROLL in self.figures.suppressed

    @property
    def suspensions_hidden(self) -> bool:
        return Measure.SUSPENSION_RATE in self.figures.suppressed

    @property
    def suspensions(self) -> int | None:
        return None if self.suspensions_hidden else self.figures.suspensions

    @property
    def cells_by_measure(self) -> dict[str, Cell]:
        return {cell.column.measure: cell for cell in self.cells}


@dataclass
class FiguresTable:
    """A figures table as shown on a dashboard and exported."""

    key: str
    caption: str
    first_header: str
    columns: Sequence[Column]
    rows: list[Row]
    total: Row | None = None

    @property
    def all_rows(self) -> list[Row]:
        return self.rows + ([self.total] if self.total else [])

    @property
    def any_hidden(self) -> bool:
        return any(
            row.on_roll_hidden or cell.suppressed for row in self.all_rows for cell in row.cells
        )

    @property
    def any_target(self) -> bool:
        return any(cell.target is not None for row in self.all_rows for cell in row.cells)

    def export(self) -> tuple[list[str], list[list[object]]]:
        headers = [self.first_header, "Pupils on roll", "Suspensions"]
        for column in self.columns:
            unit = " (%)" if column.unit == "%" else ""
            headers += [f"{column.header}{unit}", f"{column.header}: target", "Target met"]
        rows: list[list[object]] = []
        for row in self.all_rows:
            values: list[object] = [
                row.label,
                HIDDEN if row.on_roll_hidden else row.figures.on_roll,
                HIDDEN if row.suspensions_hidden else row.figures.suspensions,
            ]
            for cell in row.cells:
                values += [cell.export_value, cell.target, cell.meets]
            rows.append(values)
        return headers, rows


# Targets and England's figures -------------------------------------------------


class Targets:
    """The target book of the academic year containing `today`, or none."""

    def __init__(self, academies: Sequence[Academy], today: datetime.date) -> None:
        from .targets import target_book

        year = academic_year_on(today)
        self.book: Any = target_book(year, list(academies)) if year is not None else None

    def for_cell(self, measure: str, value: float | None, academy_id: int | None) -> tuple:
        if self.book is None:
            return None, None
        target = self.book.target(measure, academy_id=academy_id)
        if target is None:
            return None, None
        meets = None if value is None else self.book.meets(measure, value, academy_id=academy_id)
        return float(target), meets


# The measures England publishes that a cohort's PhaseComparison carries too.
NATIONAL_MEASURES = {
    Measure.ATTENDANCE: "attendance_rate",
    Measure.PERSISTENT_ABSENCE: "persistent_absence_rate",
    Measure.SEVERE_ABSENCE: "severe_absence_rate",
}


@dataclass
class ComparisonRow:
    """One measure of a cohort against England's published figure."""

    header: str
    measure: str
    cohort: float | None
    national: float | None
    suppressed: bool = False

    @property
    def cohort_text(self) -> str:
        return format_figure(self.cohort, "%")

    @property
    def national_text(self) -> str:
        return format_figure(self.national, "%")

    @property
    def difference_text(self) -> str:
        if self.cohort is None or self.national is None:
            return ""
        difference = round(self.cohort - self.national, 1)
        if difference == 0:
            return "The same as England"
        direction = "above" if difference > 0 else "below"
        return f"{abs(difference):.1f} percentage points {direction} England"


@dataclass
class Comparison:
    """A group's cohort (pupils aged 5 to 15 on 31 August) against one England row."""

    label: str
    heading: str
    national_label: str
    national_source: str
    enrolments: int
    rows: list[ComparisonRow]

    def export_rows(self) -> list[list[object]]:
        return [
            [
                self.label,
                row.header,
                HIDDEN if row.suppressed else row.cohort,
                row.national,
                self.national_label,
            ]
            for row in self.rows
        ]


COMPARISON_HEADERS = [
    "Group",
    "Measure",
    "Pupils aged 5 to 15 (%)",
    "England (%)",
    "England's figures",
]


def comparison_from(item: Any, suppress: bool) -> Comparison | None:
    """Turn a reports.national.PhaseComparison into rows for the page, or None
    where England publishes no row for its phase."""
    national = item.national
    if national is None:
        return None
    # The cohort is a group of pupils like any other, so a small one is hidden.
    hidden = suppress and item.figures.enrolments < SUPPRESS_BELOW
    rows = []
    for measure, attribute in NATIONAL_MEASURES.items():
        england = getattr(national, attribute)
        column = next(c for c in COLUMNS if c.measure == measure)
        cohort = None if hidden else getattr(item, attribute)
        rows.append(
            ComparisonRow(
                column.header,
                measure,
                cohort,
                float(england) if england is not None else None,
                hidden,
            )
        )
    return Comparison(
        label=item.label,
        heading=f"{item.label} against England",
        national_label=national.heading,
        national_source=f"{national.phase_label}, {national.period}",
        enrolments=item.figures.enrolments,
        rows=rows,
    )


def comparisons(items: Sequence[Any], suppress: bool) -> list[Comparison]:
    return [c for item in items if (c := comparison_from(item, suppress)) is not None]


def academy_comparisons(
    table: "FiguresTable", by_academy: dict[int, list[Any]], suppress: bool
) -> list[Comparison]:
    """Compare each academy of `table` with England, phase by phase, and write
    England's figure beside the cells of an academy with a single phase."""
    result = []
    for row in table.rows:
        if row.academy is None:
            continue
        items = comparisons(by_academy.get(row.academy.pk, []), suppress)
        for item in items:
            item.label = f"{row.academy.name}: {item.label}"
        if len(items) == 1:
            national_cells([row], items[0])
        result += items
    return result


def national_cells(rows: list[Row], comparison: Comparison | None) -> None:
    """Write England's figure beside the matching cells of `rows`."""
    if comparison is None:
        return
    by_measure = {row.measure: row for row in comparison.rows}
    for row in rows:
        for cell in row.cells:
            england = by_measure.get(cell.column.measure)
            if england is not None:
                cell.national = england.national
                cell.national_label = comparison.national_label


# Building tables ---------------------------------------------------------------


def build_row(
    source: FigureRow,
    columns: Sequence[Column],
    targets: Targets | None,
    *,
    academy_id: int | None,
    url: str = "",
    is_total: bool = False,
) -> Row:
    cells = []
    for column in columns:
        value = source.figures.value(column.measure)
        suppressed = column.measure in source.figures.suppressed
        target, meets = (None, None)
        if targets is not None:
            target, meets = targets.for_cell(column.measure, value, academy_id)
        cells.append(Cell(column, value, suppressed, target, meets))
    return Row(
        source.label, source.figures, cells, url=url, is_total=is_total, academy=source.academy
    )


def academy_url(academy: Academy) -> str:
    return f"{reverse('academy-dashboard')}?academy={academy.pk}"


def year_group_url(year_group: YearGroup) -> str:
    return reverse("year-group-dashboard", args=[year_group.pk])


def academies_figures_table(table: FigureTable, targets: Targets) -> FiguresTable:
    rows = [
        build_row(
            row,
            COLUMNS,
            targets,
            academy_id=row.academy.pk if row.academy else None,
            url=academy_url(row.academy) if row.academy else "",
        )
        for row in table.rows
    ]
    total = build_row(table.total, COLUMNS, targets, academy_id=None, is_total=True)
    total.label = "Trust total"
    return FiguresTable("academies", "Figures by academy", "Academy", COLUMNS, rows, total)


def academy_summary_table(
    academy: Academy, table: FigureTable, targets: Targets, comparison: Comparison | None
) -> FiguresTable:
    """Build the academy's own figures from the total row of its year group table."""
    total = build_row(table.total, COLUMNS, targets, academy_id=academy.pk, is_total=True)
    total.label = academy.name
    national_cells([total], comparison)
    return FiguresTable("figures", f"Figures for {academy.name}", "Academy", COLUMNS, [], total)


def year_groups_figures_table(
    academy: Academy, table: FigureTable, targets: Targets, allowed: set[int] | None
) -> FiguresTable:
    """Rows per year group; only those in `allowed` (None for all) link onwards."""
    rows = []
    for source in table.rows:
        group = source.year_group
        link = group is not None and (allowed is None or group.pk in allowed)
        url = year_group_url(group) if link and group is not None else ""
        rows.append(build_row(source, PUPIL_COLUMNS, targets, academy_id=academy.pk, url=url))
    total = build_row(table.total, PUPIL_COLUMNS, targets, academy_id=academy.pk, is_total=True)
    total.label = f"{academy.name} total"
    return FiguresTable(
        "year-groups", "Figures by year group", "Year group", PUPIL_COLUMNS, rows, total
    )


def breakdown_table(rows: list[FigureRow], caption: str) -> FiguresTable:
    built = [build_row(row, PUPIL_COLUMNS, None, academy_id=None) for row in rows]
    return FiguresTable("breakdown", caption, "Pupil group", PUPIL_COLUMNS, built)


# Trends ------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRow:
    """One month of a trend as shown: values are None where they are hidden."""

    label: str
    attendance_rate: float | None
    negative_per_100: float | None
    suspensions: int | None


@dataclass
class Trend:
    """Monthly points of the year so far, as two charts and one exported table."""

    title: str
    rows: list[TrendRow]
    hidden: bool = False
    charts: list[Chart] = field(default_factory=list)

    def export(self) -> tuple[list[str], list[list[object]]]:
        headers = ["Month", "Attendance (%)", "Negative incidents per 100 pupils", "Suspensions"]
        rows: list[list[object]] = [
            [r.label, r.attendance_rate, r.negative_per_100, r.suspensions] for r in self.rows
        ]
        return headers, rows


def _series(values: list[float | None]) -> list[Number]:
    # The chart helper draws None as a gap, so a hidden month leaves a hole in the line.
    return cast(list[Number], values)


def build_trend(points: list[Any], where: str, *, suppress: bool) -> Trend:
    """Chart `points` (reports.breakdowns.TrendPoint); with `suppress`, a month
    resting on fewer than SUPPRESS_BELOW pupils on roll shows no figures."""
    rows = []
    hidden = False
    for point in points:
        if suppress and point.on_roll < SUPPRESS_BELOW:
            hidden = hidden or point.on_roll > 0
            rows.append(TrendRow(point.label, None, None, None))
            continue
        rows.append(
            TrendRow(point.label, point.attendance_rate, point.negative_per_100, point.suspensions)
        )
    labels = [r.label for r in rows]
    attendance = line_chart(
        title=f"Attendance rate by month, {where}",
        labels=labels,
        series={"Attendance (%)": _series([r.attendance_rate for r in rows])},
        y_title="Attendance (%)",
        x_title="Month",
    )
    negative = line_chart(
        title=f"Negative incidents per 100 pupils by month, {where}",
        labels=labels,
        series={"Negative incidents per 100 pupils": _series([r.negative_per_100 for r in rows])},
        y_title="Negative incidents per 100 pupils",
        x_title="Month",
    )
    return Trend(f"Trend this academic year, {where}", rows, hidden, [attendance, negative])


def attendance_bar_chart(table: FiguresTable, title: str, x_title: str) -> Chart:
    labels = []
    values: list[float | None] = []
    for row in table.rows:
        cell = row.cells_by_measure[Measure.ATTENDANCE]
        labels.append(row.label)
        values.append(cell.value)
    return bar_chart(
        title=title,
        labels=labels,
        series={"Attendance (%)": _series(values)},
        y_title="Attendance (%)",
        x_title=x_title,
    )


# Pupils ------------------------------------------------------------------------


def pupil_url_name() -> str:
    """Return the URL name of the page about one pupil: the overview where it exists."""
    try:
        reverse("pupil-overview", args=[1])
    except NoReverseMatch:
        return "pupils:profile"
    return "pupil-overview"


def pupil_name(pupil: Any) -> str:
    """Return the preferred forename and surname in the order lists sort them."""
    return f"{pupil.surname}, {pupil.forename}"


def reason_text(reason: Any) -> str:
    """Return a reason (reports.attention.Reason) with its detail, for the page."""
    return f"{reason.label}: {reason.detail}" if reason.detail else reason.label


@dataclass
class AttentionSummary:
    """Pupils needing attention: names for those who see pupils, else counts by reason."""

    rows: list[Any]
    sees_pupils: bool
    url_name: str

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def count_sentence(self) -> str:
        if self.count == 0:
            return "No pupil needs attention now."
        if self.count == 1 and self.sees_pupils:
            return "1 pupil needs attention now."
        number = self._count(self.count)
        return f"{number[0].upper()}{number[1:]} pupils need attention now."

    def _count(self, count: int) -> str:
        if not self.sees_pupils and 0 < count < SUPPRESS_BELOW:
            return f"fewer than {SUPPRESS_BELOW}"
        return str(count)

    @property
    def reason_counts(self) -> list[tuple[str, str]]:
        counter: Counter[str] = Counter()
        for row in self.rows:
            for reason in row.reasons:
                counter[reason.label] += 1
        return [(reason, self._count(count)) for reason, count in sorted(counter.items())]

    @property
    def named(self) -> list[dict[str, Any]]:
        if not self.sees_pupils:
            return []
        return [
            {
                "name": pupil_name(row.pupil),
                "url": reverse(self.url_name, args=[row.pupil.pk]),
                "reasons": [reason_text(r) for r in row.reasons],
                "gaps": [g.label for g in row.gaps],
            }
            for row in self.rows
        ]

    def export(self) -> tuple[list[str], list[list[object]]]:
        if self.sees_pupils:
            headers = ["Pupil", "Reasons", "Gaps"]
            rows: list[list[object]] = [
                [item["name"], "; ".join(item["reasons"]), "; ".join(item["gaps"])]
                for item in self.named
            ]
            return headers, rows
        return ["Reason", "Pupils"], [[reason, count] for reason, count in self.reason_counts]


ExportBuilder = Callable[[], tuple[list[str], list[list[object]]]]


def year_group_summary_table(
    year_group: YearGroup, source: FigureRow | None, targets: Targets
) -> FiguresTable:
    """The year group's own figures, one total row; empty figures when it has no row."""
    row = source or FigureRow(label=year_group.name, figures=Figures(), year_group=year_group)
    total = build_row(row, PUPIL_COLUMNS, targets, academy_id=year_group.academy_id, is_total=True)
    total.label = year_group.name
    caption = f"Figures for {year_group.name}"
    return FiguresTable("figures", caption, "Year group", PUPIL_COLUMNS, [], total)


# The pupils behind a year group ------------------------------------------------


@dataclass(frozen=True)
class PupilColumn:
    """A column of the pupil table: how to read its value from a
    reports.attention.PupilRow, and how it sorts."""

    key: str
    header: str
    read: Callable[[Any], Any]
    # Sort so that the pupils who most need a look come first.
    descending: bool = False
    unit: str = ""


def _tmg(area: str) -> Callable[[Any], str]:
    return lambda row: row.tmg_label(area)


PUPIL_TABLE_COLUMNS: tuple[PupilColumn, ...] = (
    PupilColumn("attendance", "Attendance", lambda row: row.attendance_rate, unit="%"),
    PupilColumn(
        "negative", "Negative incidents", lambda row: row.negative_incidents, descending=True
    ),
    PupilColumn("suspensions", "Suspensions", lambda row: row.suspensions, descending=True),
    PupilColumn("english", "TMG English", _tmg("english")),
    PupilColumn("maths", "TMG mathematics", _tmg("maths")),
    PupilColumn("all", "TMG all subjects", _tmg("all")),
    PupilColumn(
        "interventions",
        "Open interventions",
        lambda row: len(row.interventions),
        descending=True,
    ),
)
SORTS: dict[str, str] = {
    "name": "Name",
    **{column.key: column.header for column in PUPIL_TABLE_COLUMNS},
}


def sort_parameter(request: Any) -> str:
    """Read ?sort=, one of SORTS; raise InvalidParameter naming the allowed values."""
    from trust.params import InvalidParameter, text_parameter_preview

    raw = request.GET.get("sort", "").strip()
    if not raw:
        return "name"
    if raw not in SORTS:
        raise InvalidParameter(
            "sort", text_parameter_preview(raw), f"it must be one of: {', '.join(SORTS)}"
        )
    return raw


def _display(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return f"{value:.1f}{unit}"
    return str(getattr(value, "label", value))


def _sort_value(value: Any) -> tuple[int, Any]:
    """Order unknown values last, then numbers, then words such as a TMG status."""
    if value is None:
        return (2, 0)
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(getattr(value, "value", value)))


class PupilTable:
    """Every pupil behind a year group's figures, sorted by one column."""

    def __init__(self, rows: list[Any], sort: str, url_name: str) -> None:
        self.sort = sort
        self.url_name = url_name
        self.columns = PUPIL_TABLE_COLUMNS
        self.sorts = SORTS
        by_name = sorted(rows, key=lambda row: pupil_name(row.pupil).casefold())
        if sort != "name":
            column = next(c for c in PUPIL_TABLE_COLUMNS if c.key == sort)

            def key(row: Any) -> tuple[int, Any]:
                rank, value = _sort_value(column.read(row))
                if column.descending and rank == 0:
                    value = -value
                return rank, value

            by_name = sorted(by_name, key=key)
        self.rows = by_name

    @property
    def sort_label(self) -> str:
        return SORTS[self.sort]

    @property
    def items(self) -> list[dict[str, Any]]:
        return [
            {
                "name": pupil_name(row.pupil),
                "url": reverse(self.url_name, args=[row.pupil.pk]),
                "flags": self._flags(row),
                "cells": [_display(c.read(row), c.unit) for c in self.columns],
            }
            for row in self.rows
        ]

    @staticmethod
    def _flags(row: Any) -> list[str]:
        flags = []
        if row.severe_absence:
            flags.append("Severe absence")
        elif row.persistent_absence:
            flags.append("Persistent absence")
        return flags

    def export(self) -> tuple[list[str], list[list[object]]]:
        headers = ["Pupil", "Absence flag"] + [
            f"{c.header} (%)" if c.unit == "%" else c.header for c in self.columns
        ]
        rows: list[list[object]] = []
        for row in self.rows:
            values: list[object] = [pupil_name(row.pupil), "; ".join(self._flags(row))]
            for column in self.columns:
                value = column.read(row)
                values.append(
                    value
                    if value is None or isinstance(value, int | float)
                    else _display(value, column.unit)
                )
            rows.append(values)
        return headers, rows
