"""Reads for the class pages, the grade grid and a pupil's progress page.

Each page reads the pupils, their TMGs and their grade entries in a fixed
number of queries and works out statuses in Python. So the query count does
not grow with the size of a class.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from academies.models import AcademicYear
from pupils.models import Enrolment, Pupil, active_on
from pupils.selectors import register_order
from staff.models import StaffMember
from trust import clock

from .grades import (
    STATUS_LABELS,
    STATUS_SYMBOLS,
    Status,
    average_points,
    entry_points,
    entry_status,
    grade_for_points,
)
from .models import (
    AssessmentPoint,
    ClassMembership,
    Grade,
    GradeEntry,
    GradeScale,
    Qualification,
    TargetGrade,
    TeachingGroup,
)


@dataclass(frozen=True)
class StatusView:
    """A status as shown: word, symbol and the CSS class that colours it."""

    value: str
    label: str
    symbol: str

    @property
    def css(self) -> str:
        return "status-" + self.value.replace("_", "-")


def status_view(status: str) -> StatusView:
    return StatusView(value=status, label=STATUS_LABELS[status], symbol=STATUS_SYMBOLS[status])


@dataclass(frozen=True)
class Change:
    """The change in points between two entries, in whole grades of the scale."""

    grades: Decimal
    unit: str

    @property
    def direction(self) -> str:
        if self.grades > 0:
            return "up"
        if self.grades < 0:
            return "down"
        return "same"

    @property
    def symbol(self) -> str:
        return {"up": "↑", "down": "↓", "same": "→"}[self.direction]

    @property
    def text(self) -> str:
        if self.direction == "same":
            return "no change"
        size = abs(self.grades).quantize(Decimal("0.01")).normalize()
        amount = f"{size:f}"
        unit = self.unit if size == 1 else self.unit + "s"
        return f"{self.direction} {amount} {unit}"


def change_between(
    earlier: GradeEntry | None, later: GradeEntry | None, scale: GradeScale
) -> Change | None:
    """Return the change from `earlier` to `later`, or None when either is not a result."""
    before = entry_points(earlier)
    after = entry_points(later)
    if before is None or after is None:
        return None
    unit = "point" if scale.numeric else "grade"
    return Change(grades=(after - before) / scale.step, unit=unit)


def entry_label(entry: GradeEntry | None) -> str:
    """Return an entry as typed: the grade's label or the number, or "" for no entry."""
    if entry is None:
        return ""
    if entry.grade_id is not None and entry.grade is not None:
        return entry.grade.label
    if entry.value is not None:
        return f"{entry.value.normalize():f}"
    return ""


def tmg_label(tmg: TargetGrade | None) -> str:
    if tmg is None:
        return ""
    if tmg.grade_id is not None and tmg.grade is not None:
        return tmg.grade.label
    if tmg.value is not None:
        return f"{tmg.value.normalize():f}"
    return ""


def membership_day(group: TeachingGroup, today: datetime.date | None = None) -> datetime.date:
    """Return the day whose class list a page shows: today, or the nearest day
    of the class's academic year for a past or future class."""
    day = today or clock.today()
    year = group.academic_year
    return min(max(day, year.start_date), year.end_date)


def class_points(group: TeachingGroup) -> list[AssessmentPoint]:
    """Return the assessment points of the class's year group and year, earliest first."""
    return list(
        AssessmentPoint.objects.filter(
            academy_id=group.academy_id,
            academic_year_id=group.academic_year_id,
            year_group_id=group.year_group_id,
        ).order_by("date", "pk")
    )


def latest_point(points: Sequence[AssessmentPoint], today: datetime.date) -> AssessmentPoint | None:
    """Return the last point dated up to `today`, else the first one to come."""
    past = [p for p in points if p.date <= today]
    if past:
        return past[-1]
    return points[0] if points else None


def latest_points(groups: Sequence[TeachingGroup]) -> dict[int, AssessmentPoint | None]:
    """Return each class's latest assessment point, read in one query."""
    if not groups:
        return {}
    keys = {(g.academy_id, g.academic_year_id, g.year_group_id) for g in groups}
    condition = Q(pk__in=[])
    for academy_id, year_id, year_group_id in keys:
        condition |= Q(academy_id=academy_id, academic_year_id=year_id, year_group_id=year_group_id)
    by_key: dict[tuple[int, int, int], list[AssessmentPoint]] = {}
    for point in AssessmentPoint.objects.filter(condition).order_by("date", "pk"):
        key = (point.academy_id, point.academic_year_id, point.year_group_id)
        by_key.setdefault(key, []).append(point)
    today = clock.today()
    return {
        g.pk: latest_point(
            by_key.get((g.academy_id, g.academic_year_id, g.year_group_id), []), today
        )
        for g in groups
    }


def class_pupils(group: TeachingGroup, day: datetime.date) -> list[Pupil]:
    """Return the pupils in the class on `day`, in register order."""
    members = ClassMembership.objects.filter(active_on(day), group=group, pupil_id=OuterRef("pk"))
    return list(register_order(Pupil.objects.filter(Exists(members))))


def tmgs_for(
    pupil_ids: Iterable[int], academic_year_id: int, qualification_ids: Iterable[int]
) -> dict[tuple[int, int], TargetGrade]:
    """Return TMGs keyed (pupil id, qualification id) for one academic year."""
    return {
        (t.pupil_id, t.qualification_id): t
        for t in TargetGrade.objects.filter(
            pupil_id__in=list(pupil_ids),
            academic_year_id=academic_year_id,
            qualification_id__in=list(qualification_ids),
        ).select_related("grade")
    }


def tmgs_by_year(
    pupil_ids: Iterable[int], qualification_id: int, academic_year_ids: Iterable[int]
) -> dict[tuple[int, int], TargetGrade]:
    """Return one qualification's TMGs keyed (pupil id, academic year id), read in one query."""
    return {
        (t.pupil_id, t.academic_year_id): t
        for t in TargetGrade.objects.filter(
            pupil_id__in=list(pupil_ids),
            qualification_id=qualification_id,
            academic_year_id__in=set(academic_year_ids),
        ).select_related("grade")
    }


def entries_before(
    pupil_ids: Iterable[int], qualification_id: int, point: AssessmentPoint
) -> dict[int, GradeEntry]:
    """Return each pupil's latest entry in the qualification at a point dated
    before `point`, from any academic year or year group, keyed by pupil id.

    A point on the same date counts as earlier when its id is lower, the order
    the class's own points are listed in.
    """
    earlier = Q(assessment_point__date__lt=point.date) | Q(
        assessment_point__date=point.date, assessment_point_id__lt=point.pk
    )
    latest_earlier = (
        GradeEntry.objects.filter(earlier, pupil_id=OuterRef("pupil_id"))
        .filter(qualification_id=qualification_id)
        .order_by("-assessment_point__date", "-assessment_point_id")
        .values("pk")[:1]
    )
    found = GradeEntry.objects.filter(
        pupil_id__in=list(pupil_ids),
        qualification_id=qualification_id,
        pk=Subquery(latest_earlier),
    ).select_related("grade", "assessment_point__academic_year", "assessment_point__year_group")
    return {e.pupil_id: e for e in found}


def class_list(
    groups: QuerySet[TeachingGroup],
    *,
    academy_id: int | None = None,
    nc_year: int | None = None,
    subject_id: int | None = None,
    academic_year: AcademicYear | None = None,
) -> QuerySet[TeachingGroup]:
    """Filter visible classes for the class list and count each one's pupils today."""
    if academy_id is not None:
        groups = groups.filter(academy_id=academy_id)
    if nc_year is not None:
        groups = groups.filter(year_group__nc_year=nc_year)
    if subject_id is not None:
        groups = groups.filter(qualification__subject_id=subject_id)
    if academic_year is not None:
        groups = groups.filter(academic_year=academic_year)
    today = clock.today()
    return (
        groups.annotate(
            pupil_count=Count(
                "memberships",
                filter=Q(memberships__start_date__lte=today)
                & (Q(memberships__end_date__isnull=True) | Q(memberships__end_date__gte=today)),
            )
        )
        .prefetch_related(Prefetch("teachers", queryset=StaffMember.objects.order_by("last_name")))
        .order_by("academy__name", "year_group__nc_year", "name", "pk")
    )


# The class page --------------------------------------------------------------------------


@dataclass
class ClassRow:
    pupil: Pupil
    tmg: TargetGrade | None
    latest: GradeEntry | None
    status: StatusView
    change: Change | None

    @property
    def tmg_label(self) -> str:
        return tmg_label(self.tmg)

    @property
    def latest_label(self) -> str:
        return entry_label(self.latest)


@dataclass
class ClassView:
    group: TeachingGroup
    day: datetime.date
    points: list[AssessmentPoint]
    rows: list[ClassRow] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for row in self.rows if row.status.value in statuses)

    @property
    def below_count(self) -> int:
        return self.count(Status.BELOW, Status.WELL_BELOW)

    @property
    def on_or_above_count(self) -> int:
        return self.count(Status.ON, Status.ABOVE)

    @property
    def no_tmg_count(self) -> int:
        return sum(1 for row in self.rows if row.tmg is None)


def class_view(group: TeachingGroup) -> ClassView:
    """Return the class's pupils with their TMG, latest grade in the class's
    qualification, its status and the change since the grade before it."""
    day = membership_day(group)
    view = ClassView(group=group, day=day, points=class_points(group))
    pupils = class_pupils(group, day)
    ids = [p.pk for p in pupils]
    scale = group.qualification.scale
    tmgs = tmgs_for(ids, group.academic_year_id, [group.qualification_id])
    history: dict[int, list[GradeEntry]] = {}
    entries = (
        GradeEntry.objects.filter(pupil_id__in=ids, qualification_id=group.qualification_id)
        .select_related("grade", "assessment_point__academic_year")
        .order_by("assessment_point__date", "assessment_point_id")
    )
    for entry in entries:
        history.setdefault(entry.pupil_id, []).append(entry)
    for pupil in pupils:
        own = history.get(pupil.pk, [])
        latest = own[-1] if own else None
        earlier = own[-2] if len(own) > 1 else None
        # NOTE: a latest grade from an earlier academic year is measured against
        # this year's TMG, the one the TMG column shows.
        tmg = tmgs.get((pupil.pk, group.qualification_id))
        view.rows.append(
            ClassRow(
                pupil=pupil,
                tmg=tmg,
                latest=latest,
                status=status_view(entry_status(latest, tmg, scale)),
                change=change_between(earlier, latest, scale),
            )
        )
    return view


# The grade grid --------------------------------------------------------------------------


@dataclass
class GridRow:
    pupil: Pupil
    entry: GradeEntry | None
    tmg: TargetGrade | None
    previous: GradeEntry | None
    previous_status: StatusView
    status: StatusView
    change: Change | None
    # The TMG of the previous entry's own academic year, which its status is measured against.
    previous_tmg: TargetGrade | None = None

    @property
    def tmg_label(self) -> str:
        return tmg_label(self.tmg)

    @property
    def entry_label(self) -> str:
        return entry_label(self.entry)

    @property
    def previous_label(self) -> str:
        return entry_label(self.previous)


@dataclass
class GridView:
    group: TeachingGroup
    point: AssessmentPoint
    day: datetime.date
    rows: list[GridRow] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.point.kind == AssessmentPoint.Kind.FINAL

    @property
    def entered(self) -> int:
        return sum(1 for row in self.rows if row.entry is not None)

    @property
    def previous_points(self) -> list[AssessmentPoint]:
        """The assessment points the rows' previous grades come from, earliest first."""
        found = {
            row.previous.assessment_point_id: row.previous.assessment_point
            for row in self.rows
            if row.previous
        }
        return sorted(found.values(), key=lambda p: (p.date, p.pk))

    @property
    def shared_previous_point(self) -> AssessmentPoint | None:
        """The one point all previous grades come from, or None when they differ or are missing."""
        points = self.previous_points
        return points[0] if len(points) == 1 else None

    @property
    def previous_from_other_year(self) -> bool:
        """Whether any previous grade was given in an academic year other than the class's."""
        year_id = self.group.academic_year_id
        return any(p.academic_year_id != year_id for p in self.previous_points)


def grid_view(group: TeachingGroup, point: AssessmentPoint) -> GridView:
    """Return the grid of one class at one assessment point: every pupil in the
    class with their entry, TMG, previous grade in the qualification and its status.

    The previous grade may come from an earlier academic year, so its status is
    measured against the TMG of that entry's own academic year.
    """
    day = membership_day(group)
    view = GridView(group=group, point=point, day=day)
    pupils = class_pupils(group, day)
    ids = [p.pk for p in pupils]
    scale = group.qualification.scale
    current = {
        e.pupil_id: e
        for e in GradeEntry.objects.filter(
            pupil_id__in=ids, qualification_id=group.qualification_id, assessment_point=point
        ).select_related("grade")
    }
    earlier = entries_before(ids, group.qualification_id, point)
    years = {group.academic_year_id} | {e.academic_year_id for e in earlier.values()}
    tmgs = tmgs_by_year(ids, group.qualification_id, years)
    for pupil in pupils:
        entry = current.get(pupil.pk)
        before = earlier.get(pupil.pk)
        tmg = tmgs.get((pupil.pk, group.academic_year_id))
        before_tmg = tmgs.get((pupil.pk, before.academic_year_id)) if before else None
        view.rows.append(
            GridRow(
                pupil=pupil,
                entry=entry,
                tmg=tmg,
                previous=before,
                previous_status=status_view(entry_status(before, before_tmg, scale)),
                status=status_view(entry_status(entry, tmg, scale)),
                change=change_between(before, entry, scale),
                previous_tmg=before_tmg,
            )
        )
    return view


# A pupil's progress ------------------------------------------------------------------------


@dataclass
class ProgressCell:
    point: AssessmentPoint
    entry: GradeEntry | None
    status: StatusView

    @property
    def label(self) -> str:
        return entry_label(self.entry)


@dataclass
class ProgressRow:
    qualification: Qualification
    tmg: TargetGrade | None
    cells: list[ProgressCell]
    change: Change | None

    @property
    def tmg_label(self) -> str:
        return tmg_label(self.tmg)

    @property
    def latest(self) -> ProgressCell | None:
        filled = [c for c in self.cells if c.entry is not None]
        return filled[-1] if filled else None

    @property
    def average(self) -> Decimal | None:
        """The mean points of the grades entered this year, gaps and absences left out."""
        return average_points(cell.entry for cell in self.cells)

    @property
    def average_grade(self) -> Grade | None:
        """The whole grade the average rounds to, from the same two-decimal rounding."""
        average = self.average
        scale = self.qualification.scale
        if average is None or scale.numeric:
            return None
        try:
            return grade_for_points(scale, average)
        except ValueError:
            return None


@dataclass
class ProgressYear:
    academic_year: AcademicYear
    points: list[AssessmentPoint]
    rows: list[ProgressRow]


def _pupil_points(pupil: Pupil, entries: list[GradeEntry]) -> list[AssessmentPoint]:
    """Return the points of the pupil's year groups up to today and those holding their grades."""
    today = clock.today()
    enrolled = Q(pk__in=[])
    for enrolment in Enrolment.objects.filter(pupil=pupil):
        enrolled |= Q(
            academy_id=enrolment.academy_id,
            academic_year_id=enrolment.academic_year_id,
            year_group_id=enrolment.year_group_id,
            date__gte=enrolment.start_date,
            date__lte=min(enrolment.end_date or today, today),
        )
    with_entries = Q(pk__in={e.assessment_point_id for e in entries})
    return list(
        AssessmentPoint.objects.filter(enrolled | with_entries)
        .select_related("academic_year")
        .order_by("date", "pk")
    )


def _qualifications_by_year(
    pupil: Pupil, entries: list[GradeEntry], tmgs: dict[tuple[int, int], TargetGrade]
) -> dict[int, dict[int, Qualification]]:
    """Return the qualifications each academic year's table lists: those with a
    grade, a TMG or a class of the pupil that year."""
    found: dict[int, dict[int, Qualification]] = {}
    for graded in entries:
        year_id = graded.assessment_point.academic_year_id
        found.setdefault(year_id, {})[graded.qualification_id] = graded.qualification
    for (year_id, qualification_id), target in tmgs.items():
        found.setdefault(year_id, {})[qualification_id] = target.qualification
    classes = ClassMembership.objects.filter(pupil=pupil).select_related(
        "group__qualification__subject", "group__qualification__scale"
    )
    for membership in classes:
        group = membership.group
        found.setdefault(group.academic_year_id, {})[group.qualification_id] = group.qualification
    return found


def _read_scale_grades(scales: Iterable[GradeScale]) -> None:
    """Read the grades of every scale in one query and cache them on each
    scale object, so rounding averages costs no query per subject."""
    scales = list(scales)
    by_scale: dict[int, list[Grade]] = {}
    for grade in Grade.objects.filter(scale_id__in={s.pk for s in scales}):
        by_scale.setdefault(grade.scale_id, []).append(grade)
    for scale in scales:
        grades = by_scale.get(scale.pk, [])
        scale._progress_grades = sorted(grades, key=lambda g: (g.position, g.pk or 0))  # type: ignore[attr-defined]


def pupil_progress(pupil: Pupil) -> list[ProgressYear]:
    """Return the pupil's grades by academic year (latest first): one row per
    qualification, one column per assessment point, missing grades as gaps."""
    entries = list(
        GradeEntry.objects.filter(pupil=pupil).select_related(
            "grade", "qualification__subject", "qualification__scale", "assessment_point"
        )
    )
    points = _pupil_points(pupil, entries)
    tmgs = {
        (t.academic_year_id, t.qualification_id): t
        for t in TargetGrade.objects.filter(pupil=pupil).select_related(
            "grade", "qualification__subject", "qualification__scale"
        )
    }
    qualifications = _qualifications_by_year(pupil, entries, tmgs)
    by_cell = {(e.qualification_id, e.assessment_point_id): e for e in entries}
    years: dict[int, AcademicYear] = {p.academic_year_id: p.academic_year for p in points}
    missing_years = set(qualifications) - set(years)
    if missing_years:
        years.update({y.pk: y for y in AcademicYear.objects.filter(pk__in=missing_years)})

    _read_scale_grades(q.scale for chosen in qualifications.values() for q in chosen.values())
    result = []
    for year in sorted(years.values(), key=lambda y: y.start_year, reverse=True):
        year_points = [p for p in points if p.academic_year_id == year.pk]
        rows = []
        chosen = qualifications.get(year.pk, {}).values()
        for qualification in sorted(chosen, key=lambda q: (q.subject.name, q.name)):
            tmg = tmgs.get((year.pk, qualification.pk))
            scale = qualification.scale
            cells = []
            for point in year_points:
                entry = by_cell.get((qualification.pk, point.pk))
                cells.append(
                    ProgressCell(
                        point=point,
                        entry=entry,
                        status=status_view(entry_status(entry, tmg, scale)),
                    )
                )
            filled = [c.entry for c in cells if c.entry is not None]
            change = change_between(filled[-2], filled[-1], scale) if len(filled) > 1 else None
            rows.append(
                ProgressRow(qualification=qualification, tmg=tmg, cells=cells, change=change)
            )
        result.append(ProgressYear(academic_year=year, points=year_points, rows=rows))
    return result
