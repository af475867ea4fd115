"""Live measures of appraisal objectives, computed from progress and attendance data.

A measure is never typed in: its value is read from the same selectors the
progress and attendance pages use, so an objective shows the figure those
pages show for the same group of pupils.

- Pupils on or above TMG for a year group or an academy is the "All subjects"
  percentage of the progress summary (progress.summaries.point_figures). It
  counts the pupils with a grade, each on or above only when every grade is
  on or above its TMG.
- For the appraisee's classes and for a subject, the pages show counts only
  (the class page and the year group heatmap). Their percentage is the pupils
  on or above TMG divided by the pupils whose grade was compared with a TMG
  (above, on, below or well below), summed over the classes or qualifications.
- Attendance and persistent absence are attendance.selectors.group_figures_for
  over attendance.selectors.default_range, as the group attendance pages show.

measure_values reads each kind of measure in a fixed number of queries,
whatever the number of objectives, except where noted at the reads below.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q

from academies.models import Academy, TutorGroup, YearGroup
from attendance.selectors import default_range, group_figures_for
from attendance.statistics import GroupFigures, one_decimal
from progress.grades import Status, entry_status
from progress.models import (
    AssessmentPoint,
    ClassMembership,
    GradeEntry,
    Subject,
    TargetGrade,
    TeachingGroup,
)
from progress.selectors import membership_day
from progress.summaries import (
    Heatmap,
    PointFigures,
    Tally,
    heatmap,
    latest_points,
    point_figures,
)
from staff.models import StaffMember

from .models import Appraisal, Measure, MeasureScope, Objective

NO_DATA = "No data yet"
NO_FINAL_RESULTS = "No final results yet"

TMG_MEASURES = (Measure.TMG_LATEST, Measure.TMG_FINAL)
ATTENDANCE_MEASURES = (Measure.ATTENDANCE, Measure.PERSISTENT_ABSENCE)
TMG_SCOPES = (
    MeasureScope.OWN_CLASSES,
    MeasureScope.SUBJECT,
    MeasureScope.YEAR_GROUP,
    MeasureScope.ACADEMY,
)
ATTENDANCE_SCOPES = (MeasureScope.TUTOR_GROUP, MeasureScope.YEAR_GROUP, MeasureScope.ACADEMY)
SCOPES_OF: dict[str, tuple[str, ...]] = {
    Measure.TMG_LATEST: TMG_SCOPES,
    Measure.TMG_FINAL: TMG_SCOPES,
    Measure.ATTENDANCE: ATTENDANCE_SCOPES,
    Measure.PERSISTENT_ABSENCE: ATTENDANCE_SCOPES,
}

# The scope fields each scope needs. Every other scope field must be empty.
SCOPE_FIELDS: dict[str, tuple[str, ...]] = {
    MeasureScope.OWN_CLASSES: (),
    MeasureScope.SUBJECT: ("measure_subject", "measure_academy"),
    MeasureScope.TUTOR_GROUP: ("measure_tutor_group",),
    MeasureScope.YEAR_GROUP: ("measure_year_group",),
    MeasureScope.ACADEMY: ("measure_academy",),
}
FIELD_NOUNS = {
    "measure_academy": "academy",
    "measure_subject": "subject",
    "measure_year_group": "year group",
    "measure_tutor_group": "tutor group",
}


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


MEASURE_NAMES: dict[str, str] = {
    Measure.TMG_LATEST: "pupils on or above TMG at the latest assessment point",
    Measure.TMG_FINAL: "pupils on or above TMG in final results",
    Measure.ATTENDANCE: "attendance rate",
    Measure.PERSISTENT_ABSENCE: "persistent absence rate",
}
SCOPE_CHOICES_TEXT: dict[tuple[str, ...], str] = {
    TMG_SCOPES: "choose the appraisee's classes, a subject, a year group or an academy",
    ATTENDANCE_SCOPES: "choose a tutor group, year group or academy",
}
TARGET_RULE = "give a percentage from 0 to 100 with at most one decimal place"

COMPARED = (Status.ABOVE, Status.ON, Status.BELOW, Status.WELL_BELOW)
ON_OR_ABOVE = (Status.ABOVE, Status.ON)


@dataclass(frozen=True)
class MeasureValue:
    """The live value of an objective's measure, with its target and what it rests on."""

    value: float | None
    display: str
    target: float | None
    meets_target: bool | None
    higher_is_better: bool
    scope_label: str
    basis: str
    note: str


# Validation ---------------------------------------------------------------------------


def _add(errors: dict[str, list[str]], field_name: str, message: str) -> None:
    errors.setdefault(field_name, []).append(message)


def _target_errors(target_value: Any) -> list[str]:
    try:
        number = Decimal(str(target_value).strip())
    except InvalidOperation:
        return [f"Target '{target_value}' is not a number; {TARGET_RULE}."]
    if not number.is_finite() or number < 0 or number > 100:
        return [f"Target {target_value} is outside 0 to 100; {TARGET_RULE}."]
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -1:
        return [f"Target {target_value} has more than one decimal place; {TARGET_RULE}."]
    return []


def _academy_of(field_name: str, value: Any) -> int | None:
    if field_name == "measure_academy":
        return value.pk
    if field_name in ("measure_year_group", "measure_tutor_group"):
        return value.academy_id
    return None


def _place_errors(appraisee: StaffMember, scope_values: dict[str, Any]) -> dict[str, list[str]]:
    """Check that the chosen academy, year group and tutor group are in the
    appraisee's academy. Central team staff (no academy) may choose any."""
    errors: dict[str, list[str]] = {}
    if appraisee.academy_id is None:
        return errors
    home = appraisee.academy
    assert home is not None
    for field_name, value in scope_values.items():
        if value is None:
            continue
        academy_id = _academy_of(field_name, value)
        if academy_id is None or academy_id == appraisee.academy_id:
            continue
        noun = FIELD_NOUNS[field_name]
        _add(
            errors,
            field_name,
            f"{noun.capitalize()} '{value}' is not in {home.name}, the appraisee's academy; "
            f"choose {_a(noun)} of {home.name}.",
        )
    return errors


def measure_errors(
    appraisee: StaffMember,
    *,
    measure: str,
    measure_scope: str,
    measure_academy: Academy | None,
    measure_subject: Subject | None,
    measure_year_group: YearGroup | None,
    measure_tutor_group: TutorGroup | None,
    target_value: Any,
) -> dict[str, list[str]]:
    """Return the errors of an objective's measure fields, keyed by field name.

    An empty result means the fields are valid. Each message names the field,
    the value given and what is allowed.
    """
    errors: dict[str, list[str]] = {}
    scope_values: dict[str, Any] = {
        "measure_academy": measure_academy,
        "measure_subject": measure_subject,
        "measure_year_group": measure_year_group,
        "measure_tutor_group": measure_tutor_group,
    }
    target_missing = target_value is None or str(target_value).strip() == ""

    if not measure:
        if measure_scope:
            _add(
                errors,
                "measure_scope",
                f"Scope '{measure_scope}' needs a measure; choose a measure or clear the scope.",
            )
        for field_name, value in scope_values.items():
            if value is not None:
                noun = FIELD_NOUNS[field_name]
                _add(
                    errors,
                    field_name,
                    f"{noun.capitalize()} '{value}' needs a measure; "
                    f"choose a measure or clear the {noun}.",
                )
        if not target_missing:
            _add(
                errors,
                "target_value",
                f"Target {target_value} needs a measure; choose a measure or clear the target.",
            )
        return errors

    if measure not in SCOPES_OF:
        allowed = ", ".join(Measure.values)
        _add(errors, "measure", f"Measure '{measure}' is not one of: {allowed}.")
        return errors

    allowed_scopes = SCOPES_OF[measure]
    name = MEASURE_NAMES[measure]
    choices = SCOPE_CHOICES_TEXT[allowed_scopes]
    if not measure_scope:
        _add(errors, "measure_scope", f"Scope is missing for {name}; {choices}.")
    elif measure_scope not in allowed_scopes:
        _add(
            errors,
            "measure_scope",
            f"Scope '{measure_scope}' is not available for {name}; {choices}.",
        )
    else:
        needed = SCOPE_FIELDS[measure_scope]
        for field_name, value in scope_values.items():
            noun = FIELD_NOUNS[field_name]
            if field_name in needed and value is None:
                _add(
                    errors,
                    field_name,
                    f"{noun.capitalize()} is missing; scope '{measure_scope}' needs {_a(noun)}.",
                )
            elif field_name not in needed and value is not None:
                _add(
                    errors,
                    field_name,
                    f"{noun.capitalize()} '{value}' is not used with scope '{measure_scope}'; "
                    f"clear the {noun}.",
                )
        if not errors:
            errors.update(_place_errors(appraisee, scope_values))

    if target_missing:
        _add(errors, "target_value", f"Target is missing for {name}; {TARGET_RULE}.")
    else:
        for message in _target_errors(target_value):
            _add(errors, "target_value", message)
    return errors


# Values -------------------------------------------------------------------------------


def _percent_text(value: float) -> str:
    return f"{value:.1f}%"


def _value(
    objective: Objective,
    value: float | None,
    *,
    scope_label: str,
    basis: str,
    note: str,
    empty: str = NO_DATA,
) -> MeasureValue:
    higher_is_better = objective.measure != Measure.PERSISTENT_ABSENCE
    target = float(objective.target_value) if objective.target_value is not None else None
    meets: bool | None = None
    if value is not None and target is not None:
        meets = value >= target if higher_is_better else value <= target
    return MeasureValue(
        value=value,
        display=_percent_text(value) if value is not None else empty,
        target=target,
        meets_target=meets,
        higher_is_better=higher_is_better,
        scope_label=scope_label,
        basis=basis,
        note=note,
    )


def _compared_percent(counts: dict[str, int]) -> float | None:
    """Return the pupils on or above TMG as a percentage of those compared with a TMG."""
    compared = sum(counts.get(s, 0) for s in COMPARED)
    if not compared:
        return None
    return round(100 * sum(counts.get(s, 0) for s in ON_OR_ABOVE) / compared, 1)


def _point_text(point: AssessmentPoint) -> str:
    return f"{point.name} ({point.year_group.name})"


@dataclass
class _Places:
    """The academies, year groups, tutor groups and subjects the objectives name."""

    academies: dict[int, Academy]
    year_groups: dict[int, YearGroup]
    tutor_groups: dict[int, TutorGroup]
    subjects: dict[int, Subject]


def _places(objectives: Sequence[Objective]) -> _Places:
    def ids(attribute: str) -> set[int]:
        return {getattr(o, attribute) for o in objectives if getattr(o, attribute)}

    year_groups = YearGroup.objects.filter(pk__in=ids("measure_year_group_id")).select_related(
        "academy"
    )
    tutor_groups = TutorGroup.objects.filter(pk__in=ids("measure_tutor_group_id")).select_related(
        "academy", "academic_year"
    )
    return _Places(
        academies=Academy.objects.in_bulk(ids("measure_academy_id")),
        year_groups={g.pk: g for g in year_groups},
        tutor_groups={g.pk: g for g in tutor_groups},
        subjects=Subject.objects.in_bulk(ids("measure_subject_id")),
    )


# Assessment points ------------------------------------------------------------------


def _final_points(academy_ids: Iterable[int], today: datetime.date) -> list[AssessmentPoint]:
    """Return, per year group of the academies, its latest final-results point
    dated on or before `today`, from any academic year."""
    points = (
        AssessmentPoint.objects.filter(
            academy_id__in=list(academy_ids), kind=AssessmentPoint.Kind.FINAL, date__lte=today
        )
        .select_related("academy", "year_group", "academic_year")
        .order_by("date", "pk")
    )
    latest: dict[int, AssessmentPoint] = {}
    for point in points:
        latest[point.year_group_id] = point
    return list(latest.values())


def _latest_year_only(points: list[AssessmentPoint]) -> list[AssessmentPoint]:
    """Keep the points of the latest academic year among `points`, so an
    academy's final results are last summer's and never mixed with older ones."""
    if not points:
        return []
    newest = max(p.academic_year.start_year for p in points)
    return [p for p in points if p.academic_year.start_year == newest]


@dataclass
class _PointSets:
    """The assessment points of each academy: latest this year, and latest final results."""

    latest: dict[int, list[AssessmentPoint]]
    final: dict[int, list[AssessmentPoint]]

    def of(self, measure: str, academy_id: int) -> list[AssessmentPoint]:
        chosen = self.latest if measure == Measure.TMG_LATEST else self.final
        return chosen.get(academy_id, [])


def _point_sets(latest_ids: set[int], final_ids: set[int], today: datetime.date) -> _PointSets:
    latest: dict[int, list[AssessmentPoint]] = {}
    if latest_ids:
        for point in latest_points(latest_ids, today):
            latest.setdefault(point.academy_id, []).append(point)
    final: dict[int, list[AssessmentPoint]] = {}
    if final_ids:
        for point in _final_points(final_ids, today):
            final.setdefault(point.academy_id, []).append(point)
    return _PointSets(latest=latest, final=final)


def _by_year_group(points: list[AssessmentPoint], year_group_id: int) -> AssessmentPoint | None:
    return next((p for p in points if p.year_group_id == year_group_id), None)


# The appraisee's classes ----------------------------------------------------------------


@dataclass
class _ClassCounts:
    """Status counts of one appraisee's classes, summed, and the classes counted."""

    counts: dict[str, int]
    groups: list[TeachingGroup]
    point: AssessmentPoint | None = None


def _teachers_groups(
    staff_ids: set[int], academic_year_filter: Q
) -> dict[int, list[TeachingGroup]]:
    """Return each teacher's classes matching `academic_year_filter`, in two queries."""
    links = TeachingGroup.teachers.through.objects.filter(
        staffmember_id__in=list(staff_ids)
    ).values_list("staffmember_id", "teachinggroup_id")
    pairs = list(links)
    groups = {
        g.pk: g
        for g in TeachingGroup.objects.filter(
            academic_year_filter, pk__in={group_id for _, group_id in pairs}
        ).select_related("academic_year", "year_group", "qualification__scale")
    }
    found: dict[int, list[TeachingGroup]] = {}
    for staff_id, group_id in pairs:
        if group_id in groups:
            found.setdefault(staff_id, []).append(groups[group_id])
    for chosen in found.values():
        chosen.sort(key=lambda g: (g.year_group.nc_year, g.name, g.pk))
    return found


def _class_pupils(groups: Sequence[TeachingGroup], today: datetime.date) -> dict[int, set[int]]:
    """Return the pupils of each class on the day its class page lists
    (progress.selectors.membership_day), in one query."""
    days = {g.pk: membership_day(g, today) for g in groups}
    rows = ClassMembership.objects.filter(group_id__in=list(days)).values_list(
        "group_id", "pupil_id", "start_date", "end_date"
    )
    pupils: dict[int, set[int]] = {g.pk: set() for g in groups}
    for group_id, pupil_id, start, end in rows:
        day = days[group_id]
        if start <= day and (end is None or end >= day):
            pupils[group_id].add(pupil_id)
    return pupils


def _class_counts(
    groups: Sequence[TeachingGroup],
    today: datetime.date,
    points: dict[int, AssessmentPoint] | None = None,
) -> dict[int, dict[str, int]]:
    """Count each class's pupils by status against their TMG of the class's year.

    Without `points` a pupil's status is that of their latest grade in the
    class's qualification, as progress.selectors.class_view works it out.
    With `points` it is that of their grade at the class's point, as
    progress.selectors.grid_view does. The reads take four queries in all.
    """
    if not groups:
        return {}
    pupils = _class_pupils(groups, today)
    pupil_ids = set().union(*pupils.values())
    qualification_ids = {g.qualification_id for g in groups}
    entries = GradeEntry.objects.filter(
        pupil_id__in=list(pupil_ids), qualification_id__in=list(qualification_ids)
    )
    if points is not None:
        entries = entries.filter(assessment_point_id__in={p.pk for p in points.values()})
    entries = entries.select_related("grade").prefetch_related("grade__equivalents")
    # Later entries overwrite earlier ones, so each key ends on the latest.
    latest: dict[tuple[int, int], GradeEntry] = {}
    at_point: dict[tuple[int, int, int], GradeEntry] = {}
    for graded in entries.order_by("assessment_point__date", "assessment_point_id"):
        latest[(graded.pupil_id, graded.qualification_id)] = graded
        at_point[(graded.pupil_id, graded.qualification_id, graded.assessment_point_id)] = graded
    tmgs = {
        (t.pupil_id, t.qualification_id, t.academic_year_id): t
        for t in TargetGrade.objects.filter(
            pupil_id__in=list(pupil_ids),
            qualification_id__in=list(qualification_ids),
            academic_year_id__in={g.academic_year_id for g in groups},
        ).select_related("grade")
    }
    result: dict[int, dict[str, int]] = {}
    for group in groups:
        counts = {status.value: 0 for status in Status}
        point = points.get(group.pk) if points is not None else None
        for pupil_id in pupils[group.pk]:
            entry: GradeEntry | None
            if points is None:
                entry = latest.get((pupil_id, group.qualification_id))
            elif point is None:
                entry = None
            else:
                entry = at_point.get((pupil_id, group.qualification_id, point.pk))
            tmg = tmgs.get((pupil_id, group.qualification_id, group.academic_year_id))
            counts[entry_status(entry, tmg, group.qualification.scale)] += 1
        result[group.pk] = counts
    return result


def _sum_counts(items: Iterable[dict[str, int]]) -> dict[str, int]:
    total = {status.value: 0 for status in Status}
    for counts in items:
        for key, number in counts.items():
            total[key] += number
    return total


def _own_classes_latest(staff_ids: set[int], today: datetime.date) -> dict[int, _ClassCounts]:
    this_year = Q(academic_year__start_date__lte=today, academic_year__end_date__gte=today)
    by_staff = _teachers_groups(staff_ids, this_year)
    groups = [g for chosen in by_staff.values() for g in chosen]
    counts = _class_counts(list({g.pk: g for g in groups}.values()), today)
    return {
        staff_id: _ClassCounts(counts=_sum_counts(counts[g.pk] for g in chosen), groups=chosen)
        for staff_id, chosen in by_staff.items()
    }


def _class_final_points(
    groups: Sequence[TeachingGroup], today: datetime.date
) -> dict[int, AssessmentPoint]:
    """Return each class's latest final-results point dated on or before `today`."""
    if not groups:
        return {}
    condition = Q(pk__in=[])
    for g in groups:
        condition |= Q(
            academy_id=g.academy_id,
            academic_year_id=g.academic_year_id,
            year_group_id=g.year_group_id,
        )
    points = (
        AssessmentPoint.objects.filter(condition, kind=AssessmentPoint.Kind.FINAL, date__lte=today)
        .select_related("academic_year", "year_group")
        .order_by("date", "pk")
    )
    by_key: dict[tuple[int, int, int], AssessmentPoint] = {}
    for point in points:
        by_key[(point.academy_id, point.academic_year_id, point.year_group_id)] = point
    found: dict[int, AssessmentPoint] = {}
    for g in groups:
        final = by_key.get((g.academy_id, g.academic_year_id, g.year_group_id))
        if final is not None:
            found[g.pk] = final
    return found


def _own_classes_final(staff_ids: set[int], today: datetime.date) -> dict[int, _ClassCounts]:
    """Count each teacher's classes of this or last academic year at their final
    results, keeping the classes of the latest academic year with results."""
    recent = Q(academic_year__end_date__gte=today - datetime.timedelta(days=366)) & Q(
        academic_year__start_date__lte=today
    )
    by_staff = _teachers_groups(staff_ids, recent)
    groups = list({g.pk: g for chosen in by_staff.values() for g in chosen}.values())
    points = _class_final_points(groups, today)
    counts = _class_counts([g for g in groups if g.pk in points], today, points)
    result = {}
    for staff_id, chosen in by_staff.items():
        with_results = [g for g in chosen if g.pk in points]
        if not with_results:
            continue
        newest = max(points[g.pk].academic_year.start_year for g in with_results)
        kept = [g for g in with_results if points[g.pk].academic_year.start_year == newest]
        result[staff_id] = _ClassCounts(
            counts=_sum_counts(counts[g.pk] for g in kept),
            groups=kept,
            point=max((points[g.pk] for g in kept), key=lambda p: (p.date, p.pk)),
        )
    return result


# Objectives of one kind ------------------------------------------------------------------

CLASS_NOTE = (
    "Pupils on or above TMG out of those whose grade was compared with a TMG "
    "(above, on, below or well below), summed over the classes; pupils without "
    "a grade or a TMG are left out."
)
SUBJECT_NOTE = (
    "Pupils on or above TMG out of those whose grade was compared with a TMG, "
    "summed over the subject's qualifications in each year group's heatmap."
)
SUMMARY_NOTE = (
    "The progress summary's all-subjects figure: a pupil with a grade counts as "
    "on or above only when every grade is on or above its TMG."
)
ATTENDANCE_NOTE = "Sessions attended out of possible sessions, as the attendance pages show."
PERSISTENT_ABSENCE_NOTE = (
    "Lower is better: pupils who missed 10% or more of their possible sessions, "
    "out of pupils with a possible session."
)


def _empty_text(measure: str) -> str:
    return NO_FINAL_RESULTS if measure == Measure.TMG_FINAL else NO_DATA


def _class_basis(measure: str, found: _ClassCounts) -> str:
    names = ", ".join(g.name for g in found.groups)
    if measure == Measure.TMG_FINAL and found.point is not None:
        return f"Final results: {found.point.academic_year.name} ({names})"
    return f"Latest grades in the appraisee's classes this year: {names}"


def _own_classes_values(
    objectives: Sequence[Objective], measure: str, today: datetime.date
) -> dict[int, MeasureValue]:
    appraisees = dict(
        Appraisal.objects.filter(pk__in={o.appraisal_id for o in objectives}).values_list(
            "pk", "appraisee_id"
        )
    )
    staff_ids = set(appraisees.values())
    if measure == Measure.TMG_LATEST:
        by_staff = _own_classes_latest(staff_ids, today)
    else:
        by_staff = _own_classes_final(staff_ids, today)
    values = {}
    for objective in objectives:
        found = by_staff.get(appraisees[objective.appraisal_id])
        percent = _compared_percent(found.counts) if found else None
        basis = "No classes with grades" if found is None else _class_basis(measure, found)
        values[objective.pk] = _value(
            objective,
            percent,
            scope_label="The appraisee's classes",
            basis=basis,
            note=CLASS_NOTE,
            empty=_empty_text(measure),
        )
    return values


def _points_basis(measure: str, points: list[AssessmentPoint]) -> str:
    if not points:
        return "No assessment points yet"
    listed = ", ".join(_point_text(p) for p in sorted(points, key=lambda p: p.year_group.nc_year))
    if measure == Measure.TMG_FINAL:
        return f"Final results: {listed}"
    if len(points) == 1:
        return f"Latest assessment point: {listed}"
    return f"Latest assessment points: {listed}"


def _summary_values(
    objectives: Sequence[Objective],
    places: _Places,
    point_sets: _PointSets,
    figures: dict[int, PointFigures],
) -> dict[int, MeasureValue]:
    """Return the values of year group and academy objectives from the summary tallies.

    NOTE: a figure resting on fewer than 5 pupils is shown, whereas the
    progress summary hides it from viewers who see counts only.
    """
    values = {}
    for objective in objectives:
        if objective.measure_scope == MeasureScope.YEAR_GROUP:
            year_group = places.year_groups[objective.measure_year_group_id]  # type: ignore[index]
            points = point_sets.of(objective.measure, year_group.academy_id)
            point = _by_year_group(points, year_group.pk)
            chosen = [point] if point else []
            label = str(year_group)
        else:
            academy = places.academies[objective.measure_academy_id]  # type: ignore[index]
            chosen = point_sets.of(objective.measure, academy.pk)
            if objective.measure == Measure.TMG_FINAL:
                chosen = _latest_year_only(chosen)
            label = academy.name
        tally = sum((figures[p.pk].areas["all"] for p in chosen), Tally())
        values[objective.pk] = _value(
            objective,
            tally.percent,
            scope_label=label,
            basis=_points_basis(objective.measure, chosen),
            note=SUMMARY_NOTE,
            empty=_empty_text(objective.measure),
        )
    return values


def _subject_values(
    objectives: Sequence[Objective], places: _Places, point_sets: _PointSets
) -> dict[int, MeasureValue]:
    """Return the values of subject objectives from the heatmaps of the academy's year groups.

    NOTE: each heatmap takes its own queries, so the cost grows with the
    number of distinct academies (and their year groups) among the objectives,
    not with the number of objectives.
    """
    maps: dict[int, Heatmap] = {}
    values = {}
    for objective in objectives:
        academy = places.academies[objective.measure_academy_id]  # type: ignore[index]
        subject = places.subjects[objective.measure_subject_id]  # type: ignore[index]
        points = point_sets.of(objective.measure, academy.pk)
        if objective.measure == Measure.TMG_FINAL:
            points = _latest_year_only(points)
        rows = []
        # The basis lists only the points where the subject is taught or graded.
        used = []
        for point in points:
            if point.pk not in maps:
                maps[point.pk] = heatmap(point.year_group, point)
            found = [r for r in maps[point.pk].rows if r.qualification.subject_id == subject.pk]
            if found:
                rows += found
                used.append(point)
        if used:
            basis = _points_basis(objective.measure, used)
        else:
            basis = f"No {subject.name} classes or grades at the assessment points"
        values[objective.pk] = _value(
            objective,
            _compared_percent(_sum_counts(r.counts for r in rows)),
            scope_label=f"{subject.name}, {academy.name}",
            basis=basis,
            note=SUBJECT_NOTE,
            empty=_empty_text(objective.measure),
        )
    return values


def _tmg_values(
    objectives: Sequence[Objective], places: _Places, today: datetime.date
) -> dict[int, MeasureValue]:
    values: dict[int, MeasureValue] = {}
    for measure in TMG_MEASURES:
        chosen = [
            o
            for o in objectives
            if o.measure == measure and o.measure_scope == MeasureScope.OWN_CLASSES
        ]
        if chosen:
            values.update(_own_classes_values(chosen, measure, today))

    grouped = [o for o in objectives if o.measure_scope != MeasureScope.OWN_CLASSES]
    if not grouped:
        return values
    academy_ids: dict[str, set[int]] = {m: set() for m in TMG_MEASURES}
    for objective in grouped:
        if objective.measure_scope == MeasureScope.YEAR_GROUP:
            year_group = places.year_groups[objective.measure_year_group_id]  # type: ignore[index]
            academy_ids[objective.measure].add(year_group.academy_id)
        else:
            academy_ids[objective.measure].add(objective.measure_academy_id)  # type: ignore[arg-type]
    point_sets = _point_sets(academy_ids[Measure.TMG_LATEST], academy_ids[Measure.TMG_FINAL], today)

    summary = [o for o in grouped if o.measure_scope != MeasureScope.SUBJECT]
    if summary:
        every_point = {
            p.pk: p
            for chosen in (*point_sets.latest.values(), *point_sets.final.values())
            for p in chosen
        }
        figures = {f.point.pk: f for f in point_figures(list(every_point.values()), today)}
        values.update(_summary_values(summary, places, point_sets, figures))

    subject = [o for o in grouped if o.measure_scope == MeasureScope.SUBJECT]
    if subject:
        values.update(_subject_values(subject, places, point_sets))
    return values


def _attendance_target(
    objective: Objective, places: _Places
) -> tuple[Academy | YearGroup | TutorGroup, str]:
    scope = objective.measure_scope
    if scope == MeasureScope.TUTOR_GROUP:
        group = places.tutor_groups[objective.measure_tutor_group_id]  # type: ignore[index]
        return group, f"Tutor group {group.name} ({group.academic_year}), {group.academy.name}"
    if scope == MeasureScope.YEAR_GROUP:
        year_group = places.year_groups[objective.measure_year_group_id]  # type: ignore[index]
        return year_group, str(year_group)
    academy = places.academies[objective.measure_academy_id]  # type: ignore[index]
    return academy, academy.name


def _attendance_values(
    objectives: Sequence[Objective], places: _Places, today: datetime.date
) -> dict[int, MeasureValue]:
    """Return attendance and persistent absence values, one read per distinct group.

    NOTE: group_figures_for takes one query per group, so the cost grows with
    the number of distinct groups, never with objectives sharing a group.
    """
    start, end = default_range(today)
    basis = f"Attendance {start:%d/%m/%Y} to {end:%d/%m/%Y}"
    cache: dict[tuple[type, int], GroupFigures] = {}
    values = {}
    for objective in objectives:
        target, label = _attendance_target(objective, places)
        key = (type(target), target.pk)
        if key not in cache:
            cache[key] = group_figures_for(target, start, end)
        figures = cache[key]
        if objective.measure == Measure.ATTENDANCE:
            value = one_decimal(figures.counts.attendance_rate)
            note = ATTENDANCE_NOTE
        else:
            value = one_decimal(figures.persistent_absence_rate)
            note = PERSISTENT_ABSENCE_NOTE
        values[objective.pk] = _value(objective, value, scope_label=label, basis=basis, note=note)
    return values


def measure_values(
    objectives: Sequence[Objective], today: datetime.date
) -> dict[int, MeasureValue]:
    """Compute the live value of each objective that has a measure, keyed by objective id.

    An objective of an earlier cycle is measured as of the last day of its
    academic year, so last year's record shows last year's classes and
    figures rather than this year's. Objectives without a measure, or whose
    scope fields are incomplete, are left out of the result.
    """
    measured = [o for o in objectives if o.measure and _complete(o)]
    if not measured:
        return {}
    year_ends = dict(
        Objective.objects.filter(pk__in=[o.pk for o in measured]).values_list(
            "pk", "appraisal__cycle__academic_year__end_date"
        )
    )
    by_day: dict[datetime.date, list[Objective]] = {}
    for objective in measured:
        end = year_ends.get(objective.pk)
        day = min(today, end) if end is not None else today
        by_day.setdefault(day, []).append(objective)
    values: dict[int, MeasureValue] = {}
    for day, group in by_day.items():
        values.update(_values_on(group, day))
    return values


def _values_on(measured: list[Objective], today: datetime.date) -> dict[int, MeasureValue]:
    places = _places(measured)
    values: dict[int, MeasureValue] = {}
    tmg = [o for o in measured if o.measure in TMG_MEASURES]
    if tmg:
        values.update(_tmg_values(tmg, places, today))
    attendance = [o for o in measured if o.measure in ATTENDANCE_MEASURES]
    if attendance:
        values.update(_attendance_values(attendance, places, today))
    return values


def _complete(objective: Objective) -> bool:
    """Return whether the objective's scope is allowed for its measure and has its fields."""
    scope = objective.measure_scope
    if scope not in SCOPES_OF.get(objective.measure, ()):
        return False
    return all(getattr(objective, f"{name}_id") for name in SCOPE_FIELDS[scope])
