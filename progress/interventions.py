"""Interventions for pupils below their Target Minimum Grade (TMG): the
underperformance list, opening, editing and reviewing interventions, each
pupil's impact, and what works by intervention kind.

A pupil is underperforming when, at the latest assessment point of their
year group, they are below or well below TMG in English or maths, or in two
or more subjects. A subject with no TMG or no grade is never counted.
"""

import datetime
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404

from academies.models import AcademicYear, Academy, YearGroup
from academies.selectors import visible_year_groups
from pupils.models import Enrolment, Pupil, active_on
from pupils.selectors import (
    on_roll_in,
    prepare_rows,
    pupils_with_list_fields,
    register_order,
    visible_pupils,
)
from staff.models import StaffMember
from trust import audit, clock
from trust.access import scope_for
from trust.models import AuditEvent

from .access import visible_teaching_groups
from .grades import (
    Status,
    entry_points,
    entry_status,
    parse_grade,
    round_points,
    scale_grades,
    status_between,
)
from .models import (
    AssessmentPoint,
    GradeEntry,
    GradeScale,
    Intervention,
    InterventionPupil,
    Qualification,
    TargetGrade,
)
from .selectors import StatusView, entry_label, latest_point, status_view, tmg_label

CORE_ELEMENTS = frozenset(
    {
        Qualification.Element.ENGLISH_LANGUAGE,
        Qualification.Element.ENGLISH_LITERATURE,
        Qualification.Element.MATHS,
    }
)
# Subjects counted as English or maths when a qualification has no
# Attainment 8 element, such as A level mathematics.
CORE_SUBJECT_CODES = frozenset({"english", "maths"})
BELOW_STATUSES = frozenset({Status.BELOW, Status.WELL_BELOW})
ON_OR_ABOVE = frozenset({Status.ON, Status.ABOVE})
OPEN_STATUSES = (Intervention.Status.PLANNED, Intervention.Status.ACTIVE)
# Minimum pupils behind a kind's figures in the across-academies table, for a
# reader who does not see every pupil. Smaller groups are hidden.
SMALL_GROUP = 5
MAX_TITLE = 120
MAX_OUTCOME = 4000
MAX_NOTES = 4000


def _day(value: datetime.date) -> str:
    return value.strftime("%d/%m/%Y")


def is_core(qualification: Qualification) -> bool:
    """Return whether `qualification` counts as English or maths on the list."""
    return (
        qualification.element in CORE_ELEMENTS or qualification.subject.code in CORE_SUBJECT_CODES
    )


def is_overdue(intervention: Intervention, today: datetime.date) -> bool:
    """Return whether the review of an intervention still open is past its date."""
    return intervention.status in OPEN_STATUSES and intervention.review_date < today


# Scope ------------------------------------------------------------------------------------


def underperformance_year_groups(user: Any) -> QuerySet[YearGroup]:
    """Return the year groups whose underperformance list `user` may open: those
    whose pupils they see, and those of the classes they teach."""
    taught = visible_teaching_groups(user).values("year_group_id")
    return YearGroup.objects.select_related("academy__trust").filter(
        Q(pk__in=visible_year_groups(user).values("pk")) | Q(pk__in=taught)
    )


def _heads_year_links(scope: Any, today: datetime.date) -> Q:
    """Filter for interventions with a pupil on roll today in the scope's year groups."""
    if not scope.year_group_ids:
        return Q(pk__in=[])
    enrolled = Enrolment.objects.filter(
        active_on(today), year_group_id__in=scope.year_group_ids, pupil_id=OuterRef("pupil_id")
    )
    links = InterventionPupil.objects.filter(Exists(enrolled), intervention_id=OuterRef("pk"))
    return Q(Exists(links))


def listed_interventions(user: Any) -> QuerySet[Intervention]:
    """Return the interventions on the user's list: their own and, for leaders
    and heads of year, those of the pupils in their scope."""
    scope = scope_for(user)
    interventions = Intervention.objects.select_related("owner", "qualification", "academy")
    if scope.all_pupils:
        return interventions.all()
    condition = Q(academy_id__in=scope.pupil_academy_ids) | _heads_year_links(scope, clock.today())
    if scope.staff_id is not None:
        condition |= Q(owner_id=scope.staff_id)
    return interventions.filter(condition)


def readable_interventions(user: Any) -> QuerySet[Intervention]:
    """Return the interventions whose page `user` may open: those on their list
    and those with a pupil they see, such as a pupil in a class they teach."""
    scope = scope_for(user)
    if scope.all_pupils:
        return listed_interventions(user)
    listed = listed_interventions(user).values("pk")
    seen = InterventionPupil.objects.filter(
        intervention_id=OuterRef("pk"), pupil__in=visible_pupils(user)
    )
    return Intervention.objects.select_related("owner", "qualification", "academy").filter(
        Q(pk__in=listed) | Q(Exists(seen))
    )


def can_manage(user: Any, intervention: Intervention) -> bool:
    """Return whether `user` may edit and review `intervention`: its owner, the
    person who opened it, and leaders and heads of year over its pupils."""
    scope = scope_for(user)
    if scope.all_pupils or intervention.academy_id in scope.pupil_academy_ids:
        return True
    if scope.staff_id is not None and intervention.owner_id == scope.staff_id:
        return True
    if intervention.created_by_id is not None and intervention.created_by_id == user.pk:
        return True
    return (
        Intervention.objects.filter(pk=intervention.pk)
        .filter(_heads_year_links(scope, clock.today()))
        .exists()
    )


def pupils_in_scope(user: Any, pupil_ids: Iterable[int]) -> list[Pupil]:
    """Return the pupils with `pupil_ids` in register order, or raise Http404
    when any of them is outside the user's scope, so nothing is written."""
    requested = set(pupil_ids)
    pupils = list(register_order(visible_pupils(user).filter(pk__in=requested)))
    if len(pupils) != len(requested):
        raise Http404("No pupil with that id is in your scope.")
    return pupils


def overdue_reviews(user: Any) -> list[Intervention]:
    """Return the open interventions `user` owns whose review date has passed."""
    scope = scope_for(user)
    if scope.staff_id is None:
        return []
    return list(
        Intervention.objects.filter(
            owner_id=scope.staff_id,
            status__in=OPEN_STATUSES,
            review_date__lt=clock.today(),
        )
        .select_related("qualification")
        .order_by("review_date", "pk")
    )


def ordered_for_list(interventions: QuerySet[Intervention]) -> QuerySet[Intervention]:
    """Order interventions overdue reviews first, then open ones by review date,
    then reviewed and stopped ones."""
    today = clock.today()
    return interventions.annotate(
        list_rank=Case(
            When(status__in=OPEN_STATUSES, review_date__lt=today, then=Value(0)),
            When(status__in=OPEN_STATUSES, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    ).order_by("list_rank", "review_date", "pk")


# The underperformance list ----------------------------------------------------------------


@dataclass
class BelowSubject:
    qualification: Qualification
    grade: str
    tmg: str
    status: StatusView


@dataclass
class InPlace:
    """An open intervention shown beside a pupil on the list."""

    intervention: Intervention
    overdue: bool


@dataclass
class UnderperformanceRow:
    pupil: Pupil
    subjects: list[BelowSubject]
    core: bool
    in_place: list[InPlace] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        reasons = []
        if self.core:
            reasons.append("below TMG in English or maths")
        if len({s.qualification.subject_id for s in self.subjects}) >= 2:
            reasons.append("below TMG in two or more subjects")
        return reasons


@dataclass
class Underperformance:
    year_group: YearGroup
    academic_year: AcademicYear | None
    point: AssessmentPoint | None
    pupils_checked: int = 0
    rows: list[UnderperformanceRow] = field(default_factory=list)


def current_academic_year(trust_id: int, day: datetime.date) -> AcademicYear | None:
    return AcademicYear.objects.filter(
        trust_id=trust_id, start_date__lte=day, end_date__gte=day
    ).first()


def underperformance(user: Any, year_group: YearGroup) -> Underperformance:
    """Return the pupils of `year_group` in the user's scope who are below TMG in
    English or maths, or in two or more subjects, at the year group's latest
    assessment point this academic year, with the interventions in place.

    The pupils, their grades, TMGs and interventions are read once each, so
    the query count does not grow with the number of pupils.
    """
    today = clock.today()
    academic_year = current_academic_year(year_group.academy.trust_id, today)
    result = Underperformance(year_group=year_group, academic_year=academic_year, point=None)
    if academic_year is None:
        return result
    points = list(
        AssessmentPoint.objects.filter(year_group=year_group, academic_year=academic_year).order_by(
            "date", "pk"
        )
    )
    result.point = latest_point(points, today)
    if result.point is None:
        return result

    pupils = visible_pupils(user, today).filter(on_roll_in("year_group_id", [year_group.pk], today))
    rows = prepare_rows(user, register_order(pupils_with_list_fields(pupils, today)))
    result.pupils_checked = len(rows)
    ids = [p.pk for p in rows]
    entries = (
        GradeEntry.objects.filter(assessment_point=result.point, pupil_id__in=ids)
        .select_related("grade", "qualification__subject", "qualification__scale")
        .prefetch_related("grade__equivalents")
    )
    tmgs = {
        (t.pupil_id, t.qualification_id): t
        for t in TargetGrade.objects.filter(
            pupil_id__in=ids, academic_year=academic_year
        ).select_related("grade")
    }
    below: dict[int, list[BelowSubject]] = {}
    for entry in entries:
        tmg = tmgs.get((entry.pupil_id, entry.qualification_id))
        status = entry_status(entry, tmg, entry.qualification.scale)
        if status in BELOW_STATUSES:
            below.setdefault(entry.pupil_id, []).append(
                BelowSubject(
                    qualification=entry.qualification,
                    grade=entry_label(entry),
                    tmg=tmg_label(tmg),
                    status=status_view(status),
                )
            )
    for pupil in rows:
        subjects = sorted(
            below.get(pupil.pk, []),
            key=lambda s: (s.qualification.subject.name, s.qualification.name),
        )
        core = any(is_core(s.qualification) for s in subjects)
        if core or len({s.qualification.subject_id for s in subjects}) >= 2:
            result.rows.append(UnderperformanceRow(pupil=pupil, subjects=subjects, core=core))

    listed = {row.pupil.pk: row for row in result.rows}
    links = (
        InterventionPupil.objects.filter(
            pupil_id__in=list(listed), intervention__status__in=OPEN_STATUSES
        )
        .select_related("intervention__owner", "intervention__qualification")
        .order_by("intervention__review_date", "intervention_id")
    )
    for link in links:
        listed[link.pupil_id].in_place.append(
            InPlace(intervention=link.intervention, overdue=is_overdue(link.intervention, today))
        )
    return result


UNDERPERFORMANCE_HEADERS = [
    "Surname",
    "Forename",
    "UPN",
    "Tutor group",
    "Why listed",
    "Subjects below TMG",
    "Interventions in place",
]


def underperformance_export_rows(view: Underperformance) -> list[list[object]]:
    """Return the list as rows under UNDERPERFORMANCE_HEADERS, statuses in words."""
    rows: list[list[object]] = []
    for row in view.rows:
        subjects = "; ".join(
            f"{s.qualification.name}: {s.grade} against TMG {s.tmg} ({s.status.label})"
            for s in row.subjects
        )
        if row.in_place:
            in_place = "; ".join(
                f"{item.intervention.title} ({item.intervention.get_kind_display()}), "
                f"owner {item.intervention.owner}, review "
                f"{_day(item.intervention.review_date)}" + (", overdue" if item.overdue else "")
                for item in row.in_place
            )
        else:
            in_place = "No intervention in place"
        rows.append(
            [
                row.pupil.surname,
                row.pupil.forename,
                row.pupil.upn,
                getattr(row.pupil, "current_tutor_group_name", "") or "",
                "; ".join(row.reasons),
                subjects,
                in_place,
            ]
        )
    return rows


# Opening, editing and reviewing -----------------------------------------------------------


def _points_of(grade_or_value: Any) -> Decimal | None:
    if isinstance(grade_or_value, Decimal):
        return round_points(grade_or_value)
    if grade_or_value is None or not grade_or_value.is_result or grade_or_value.points is None:
        return None
    return round_points(grade_or_value.points)


def _tmg_points(target: TargetGrade) -> Decimal | None:
    if target.grade_id is not None:
        return _points_of(target.grade)
    return round_points(target.value) if target.value is not None else None


def captured_points(
    pupil_ids: Sequence[int],
    qualification: Qualification,
    academic_year_id: int,
    *,
    after: datetime.date | None,
    until: datetime.date,
) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """Return each pupil's latest grade points in `qualification` at an
    assessment point dated up to `until` (and after `after`, when given),
    with their TMG points for the academic year. Missing values are None."""
    entries = GradeEntry.objects.filter(
        pupil_id__in=list(pupil_ids),
        qualification=qualification,
        assessment_point__date__lte=until,
    )
    if after is not None:
        entries = entries.filter(assessment_point__date__gt=after)
    latest: dict[int, GradeEntry] = {}
    for entry in entries.select_related("grade").order_by(
        "assessment_point__date", "assessment_point_id"
    ):
        latest[entry.pupil_id] = entry
    targets = {
        t.pupil_id: _tmg_points(t)
        for t in TargetGrade.objects.filter(
            pupil_id__in=list(pupil_ids),
            qualification=qualification,
            academic_year_id=academic_year_id,
        ).select_related("grade")
    }
    return {pid: (entry_points(latest.get(pid)), targets.get(pid)) for pid in pupil_ids}


def pupils_academy(pupil_ids: Sequence[int], day: datetime.date) -> tuple[Academy | None, str]:
    """Return the one academy the pupils are on roll at on `day`, or an error message."""
    enrolments = list(
        Enrolment.objects.filter(active_on(day), pupil_id__in=list(pupil_ids)).select_related(
            "academy__trust"
        )
    )
    by_pupil = {e.pupil_id: e.academy for e in enrolments}
    missing = [pid for pid in pupil_ids if pid not in by_pupil]
    if missing:
        return None, (
            f"{len(missing)} of the pupils chosen {'is' if len(missing) == 1 else 'are'} not "
            f"on roll on {_day(day)}; choose pupils on roll at one academy."
        )
    academies = {a.pk: a for a in by_pupil.values()}
    if len(academies) > 1:
        names = ", ".join(sorted(a.name for a in academies.values()))
        return None, (
            f"The pupils chosen are at {len(academies)} academies ({names}); "
            "an intervention belongs to one academy, so open one for each."
        )
    return next(iter(academies.values())), ""


def owner_choices(academy: Academy) -> QuerySet[StaffMember]:
    """Return the staff of `academy` who may own an intervention: those not yet left."""
    today = clock.today()
    return StaffMember.objects.filter(
        Q(left_on__isnull=True) | Q(left_on__gte=today), academy=academy
    ).order_by("last_name", "first_name", "pk")


def qualification_choices(academy: Academy) -> QuerySet[Qualification]:
    return (
        Qualification.objects.filter(subject__trust_id=academy.trust_id, retired=False)
        .select_related("subject", "scale")
        .order_by("subject__name", "name")
    )


def _check_fields(
    errors: dict[str, list[str]],
    *,
    academy: Academy | None,
    kind: str,
    title: str,
    owner_id: int | None,
    start_date: datetime.date | None,
    review_date: datetime.date | None,
    notes: str,
) -> StaffMember | None:
    """Add the errors of the fields shared by opening and editing; return the owner."""
    if kind not in Intervention.Kind.values:
        allowed = ", ".join(str(label) for label in Intervention.Kind.labels)
        errors.setdefault("kind", []).append(
            f"Kind '{kind}' is not an intervention kind; allowed: {allowed}."
        )
    if not title:
        errors.setdefault("title", []).append("Title is blank; give the intervention a title.")
    elif len(title) > MAX_TITLE:
        errors.setdefault("title", []).append(
            f"Title has {len(title)} characters; at most {MAX_TITLE}."
        )
    if len(notes) > MAX_NOTES:
        errors.setdefault("notes", []).append(
            f"Notes have {len(notes)} characters; at most {MAX_NOTES}."
        )
    if start_date is None:
        errors.setdefault("start_date", []).append("Start date is missing; enter it as dd/mm/yyyy.")
    if review_date is None:
        errors.setdefault("review_date", []).append(
            "Review date is missing; enter it as dd/mm/yyyy."
        )
    if start_date and review_date and review_date < start_date:
        errors.setdefault("review_date", []).append(
            f"Review date {_day(review_date)} is before the start date {_day(start_date)}; "
            "the review must be on or after the start."
        )
    owner = None
    if academy is not None:
        owner = owner_choices(academy).filter(pk=owner_id).first() if owner_id else None
        if owner is None:
            errors.setdefault("owner", []).append(
                f"Owner {owner_id or '(none)'} is not a member of staff at {academy.name}; "
                "choose one from the list."
            )
    return owner


@transaction.atomic
def intervention_create(
    *,
    actor: Any,
    pupil_ids: Sequence[int],
    kind: str,
    title: str,
    qualification_id: int | None,
    owner_id: int | None,
    start_date: datetime.date | None,
    review_date: datetime.date | None,
    status: str = Intervention.Status.ACTIVE,
    notes: str = "",
) -> Intervention:
    """Open an intervention for one or more pupils of one academy.

    With a qualification, each pupil's latest grade in it up to the start
    date and their TMG are captured as the start points (left empty where
    there is none). Raises ValidationError naming the field and value;
    nothing is written then. The caller checks the pupils are in scope.
    """
    errors: dict[str, list[str]] = {}
    title = " ".join((title or "").split())
    notes = (notes or "").strip()
    ids = list(dict.fromkeys(pupil_ids))
    academy: Academy | None = None
    if not ids:
        errors["pupils"] = ["No pupil was chosen; tick at least one pupil."]
    else:
        academy, problem = pupils_academy(ids, clock.today())
        if problem:
            errors["pupils"] = [problem]
    allowed_statuses = {Intervention.Status.PLANNED, Intervention.Status.ACTIVE}
    if status not in allowed_statuses:
        errors["status"] = [
            f"Status '{status}' is not allowed when opening an intervention; "
            "allowed: Planned, In place."
        ]
    owner = _check_fields(
        errors,
        academy=academy,
        kind=kind,
        title=title,
        owner_id=owner_id,
        start_date=start_date,
        review_date=review_date,
        notes=notes,
    )
    qualification = None
    if qualification_id is not None and academy is not None:
        qualification = qualification_choices(academy).filter(pk=qualification_id).first()
        if qualification is None:
            errors["qualification"] = [
                f"Qualification {qualification_id} is not one the trust offers; "
                "choose one from the list or none."
            ]
    academic_year = None
    if academy is not None and start_date is not None:
        academic_year = current_academic_year(academy.trust_id, start_date)
        if academic_year is None:
            errors.setdefault("start_date", []).append(
                f"Start date {_day(start_date)} is in no academic year of the trust; "
                "choose a date inside one."
            )
    if errors:
        raise ValidationError(errors)
    # The checks above rule these out; the asserts tell the type checker.
    assert academy is not None
    assert academic_year is not None
    assert owner is not None
    assert start_date is not None
    assert review_date is not None

    captured: dict[int, tuple[Decimal | None, Decimal | None]] = {}
    if qualification is not None:
        captured = captured_points(
            ids, qualification, academic_year.pk, after=None, until=start_date
        )
    with audit.acting_as(actor, "Intervention opened"):
        intervention = Intervention.objects.create(
            academy=academy,
            academic_year=academic_year,
            kind=kind,
            title=title,
            qualification=qualification,
            owner=owner,
            start_date=start_date,
            review_date=review_date,
            status=status,
            notes=notes,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for pupil_id in ids:
            start_points, tmg_points = captured.get(pupil_id, (None, None))
            InterventionPupil.objects.create(
                intervention=intervention,
                pupil_id=pupil_id,
                start_points=start_points,
                tmg_points=tmg_points,
            )
    return intervention


class InterventionConflict(Exception):
    """The intervention changed after the form was opened, so the change was not saved."""


def _locked(intervention_id: int, seen_version: int | None) -> Intervention:
    intervention = (
        Intervention.objects.select_for_update(of=("self",))
        .select_related("academy", "qualification__scale")
        .get(pk=intervention_id)
    )
    if seen_version is not None and intervention.version != seen_version:
        raise InterventionConflict(
            f"This intervention was changed by someone else since you opened it "
            f"(version {seen_version}, now {intervention.version}); reload and try again."
        )
    return intervention


@transaction.atomic
def intervention_update(
    *,
    actor: Any,
    intervention_id: int,
    seen_version: int | None,
    kind: str,
    title: str,
    owner_id: int | None,
    start_date: datetime.date | None,
    review_date: datetime.date | None,
    status: str,
    notes: str = "",
    reason: str = "",
) -> Intervention:
    """Change an intervention's details. The audit trail keeps every earlier value.

    The qualification and the captured start grades stay as opened. The
    status may be planned, in place or stopped; a review sets "reviewed".
    """
    intervention = _locked(intervention_id, seen_version)
    errors: dict[str, list[str]] = {}
    title = " ".join((title or "").split())
    notes = (notes or "").strip()
    allowed = {Intervention.Status.PLANNED, Intervention.Status.ACTIVE, Intervention.Status.STOPPED}
    if intervention.status == Intervention.Status.REVIEWED:
        allowed.add(Intervention.Status.REVIEWED)
    if status not in allowed:
        errors["status"] = [
            f"Status '{status}' cannot be set here; allowed: Planned, In place, Stopped. "
            "Record a review to mark it reviewed."
        ]
    owner = _check_fields(
        errors,
        academy=intervention.academy,
        kind=kind,
        title=title,
        owner_id=owner_id,
        start_date=start_date,
        review_date=review_date,
        notes=notes,
    )
    if intervention.reviewed_on and start_date and start_date > intervention.reviewed_on:
        errors.setdefault("start_date", []).append(
            f"Start date {_day(start_date)} is after the review on "
            f"{_day(intervention.reviewed_on)}; it must be on or before it."
        )
    if errors:
        raise ValidationError(errors)
    assert owner is not None
    assert start_date is not None
    assert review_date is not None
    intervention.kind = kind
    intervention.title = title
    intervention.owner = owner
    intervention.start_date = start_date
    intervention.review_date = review_date
    intervention.status = status
    intervention.notes = notes
    intervention.version += 1
    with audit.acting_as(actor, reason or "Intervention changed"):
        intervention.save()
    return intervention


def typed_review_points(
    intervention: Intervention, links: Sequence[InterventionPupil], typed_grades: Mapping[int, str]
) -> tuple[dict[int, Decimal | None], dict[str, list[str]]]:
    """Read the grades typed at review on the qualification's scale.

    Returns the points by pupil id, and errors keyed "grade_<pupil id>"
    naming the pupil and the value. Blank grades are left out of both.
    """
    qualification = intervention.qualification
    review_points: dict[int, Decimal | None] = {}
    errors: dict[str, list[str]] = {}
    for link in links:
        text = (typed_grades.get(link.pupil_id) or "").strip()
        if not text:
            continue
        key = f"grade_{link.pupil_id}"
        if qualification is None:
            errors[key] = [
                f"Grade '{text}' for {link.pupil.display_name} cannot be recorded: "
                "the intervention has no qualification, so leave it blank."
            ]
            continue
        try:
            parsed = parse_grade(qualification.scale, text)
        except ValidationError as error:
            problems = error.message_dict.get("grade", error.messages)
            errors[key] = [f"{link.pupil.display_name}: {problem}" for problem in problems]
            continue
        review_points[link.pupil_id] = _points_of(parsed)
    return review_points, errors


@transaction.atomic
def intervention_review(
    *,
    actor: Any,
    intervention_id: int,
    seen_version: int | None,
    reviewed_on: datetime.date | None,
    outcome: str,
    typed_grades: Mapping[int, str],
) -> Intervention:
    """Record an intervention's review: the outcome, and each pupil's grade at review.

    A grade typed for a pupil is read on the qualification's scale. Without
    one, the pupil's latest grade at an assessment point after the start
    date and up to the review date is captured, or left empty. Raises
    ValidationError naming the field and value; nothing is written then.
    """
    intervention = _locked(intervention_id, seen_version)
    links = list(intervention.pupil_links.select_related("pupil").order_by("pk"))
    errors: dict[str, list[str]] = {}
    outcome = (outcome or "").strip()
    today = clock.today()
    if reviewed_on is None:
        errors["reviewed_on"] = ["Review date is missing; enter it as dd/mm/yyyy."]
    elif reviewed_on < intervention.start_date:
        errors["reviewed_on"] = [
            f"Review date {_day(reviewed_on)} is before the start date "
            f"{_day(intervention.start_date)}; the review must be on or after the start."
        ]
    elif reviewed_on > today:
        errors["reviewed_on"] = [
            f"Review date {_day(reviewed_on)} is in the future; a review is recorded on "
            f"or before today, {_day(today)}."
        ]
    if not outcome:
        errors["outcome"] = ["Outcome is blank; say what happened and what comes next."]
    elif len(outcome) > MAX_OUTCOME:
        errors["outcome"] = [f"Outcome has {len(outcome)} characters; at most {MAX_OUTCOME}."]

    qualification = intervention.qualification
    review_points, grade_errors = typed_review_points(intervention, links, typed_grades)
    errors.update(grade_errors)
    if errors:
        raise ValidationError(errors)
    assert reviewed_on is not None

    missing = [link.pupil_id for link in links if link.pupil_id not in review_points]
    if qualification is not None and missing:
        captured = captured_points(
            missing,
            qualification,
            intervention.academic_year_id,
            after=intervention.start_date,
            until=reviewed_on,
        )
        review_points.update({pid: points for pid, (points, _) in captured.items()})
    with audit.acting_as(actor, "Intervention reviewed"):
        for link in links:
            points = review_points.get(link.pupil_id)
            if link.review_points != points:
                link.review_points = points
                link.save(update_fields=["review_points"])
        intervention.status = Intervention.Status.REVIEWED
        intervention.reviewed_on = reviewed_on
        intervention.outcome = outcome
        intervention.version += 1
        intervention.save()
    return intervention


# Impact -----------------------------------------------------------------------------------


@dataclass
class PupilImpact:
    """One pupil's grade change over an intervention, in whole grades of the scale."""

    link: InterventionPupil
    scale: GradeScale | None

    @property
    def step(self) -> Decimal | None:
        return self.scale.step if self.scale is not None else None

    @property
    def start_label(self) -> str:
        return points_label(self.scale, self.link.start_points)

    @property
    def tmg_label(self) -> str:
        return points_label(self.scale, self.link.tmg_points)

    @property
    def review_label(self) -> str:
        return points_label(self.scale, self.link.review_points)

    @property
    def start_status(self) -> Status:
        return _status(self.link.start_points, self.link.tmg_points, self.step)

    @property
    def review_status(self) -> Status:
        return _status(self.link.review_points, self.link.tmg_points, self.step)

    @property
    def change(self) -> Decimal | None:
        start, review = self.link.start_points, self.link.review_points
        if start is None or review is None or not self.step:
            return None
        return round_points((review - start) / self.step)

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return "Not known: a grade at the start or at review is missing"
        if change == 0:
            return "No change"
        size = f"{abs(change).normalize():f}"
        unit = "grade" if abs(change) == 1 else "grades"
        return f"{'Up' if change > 0 else 'Down'} {size} {unit}"

    @property
    def back_on_tmg(self) -> bool | None:
        """Whether the pupil is on or above TMG at review; None when not known."""
        status = self.review_status
        if status in ON_OR_ABOVE:
            return True
        if status in BELOW_STATUSES:
            return False
        return None

    @property
    def start_view(self) -> StatusView:
        return status_view(self.start_status)

    @property
    def review_view(self) -> StatusView:
        return status_view(self.review_status)


def _status(points: Decimal | None, tmg: Decimal | None, step: Decimal | None) -> Status:
    if step is None:
        return Status.NOT_COMPARABLE if points is not None else Status.NO_GRADE
    return status_between(points, tmg, step)


def pupil_impacts(
    intervention: Intervention, pupils: Iterable[int] | None = None
) -> list[PupilImpact]:
    """Return the impact rows of the intervention's pupils (those in `pupils`, when given)."""
    scale = intervention.qualification.scale if intervention.qualification else None
    links = intervention.pupil_links.select_related("pupil").order_by(
        "pupil__legal_surname", "pupil__legal_forename", "pk"
    )
    if pupils is not None:
        links = links.filter(pupil_id__in=list(pupils))
    return [PupilImpact(link=link, scale=scale) for link in links]


def points_label(scale: GradeScale | None, points: Decimal | None) -> str:
    """Return points as the grade of `scale` worth exactly that, else as the number."""
    if points is None:
        return ""
    if scale is not None and not scale.numeric:
        for grade in scale_grades(scale):
            if (
                grade.is_result
                and grade.points is not None
                and round_points(grade.points) == points
            ):
                return grade.label
    return f"{points.normalize():f}"


@dataclass
class HistoryRow:
    at: datetime.datetime
    actor: str
    action: str
    changes: list[tuple[str, Any, Any]]
    reason: str


def _history_value(name: str, value: Any, staff_names: Mapping[int, str]) -> str:
    """Return an audited value as the page shows it: names, labels and dd/mm/yyyy dates."""
    if value is None or value == "":
        return "–"
    if name == "owner_id":
        return staff_names.get(value, f"Staff {value}")
    if name == "kind":
        return str(dict(Intervention.Kind.choices).get(value, value))
    if name == "status":
        return str(dict(Intervention.Status.choices).get(value, value))
    if name in {"start_date", "review_date", "reviewed_on"}:
        try:
            return _day(datetime.date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


# Fields the history leaves out: ids, the version counter and fixed facts.
HISTORY_HIDDEN = {"id", "version", "created_by_id", "created_at", "academy_id", "academic_year_id"}


def intervention_history(intervention: Intervention) -> list[HistoryRow]:
    """Return the audit trail of the intervention itself, newest first."""
    events = list(
        AuditEvent.objects.filter(
            model="progress.Intervention", object_id=str(intervention.pk)
        ).select_related("actor")
    )
    owner_ids = {
        value
        for event in events
        for name, values in event.changes.items()
        if name == "owner_id" and isinstance(values, list)
        for value in values
        if isinstance(value, int)
    }
    staff_names = {s.pk: s.full_name for s in StaffMember.objects.filter(pk__in=owner_ids)}
    labels = {f.attname: str(f.verbose_name) for f in Intervention._meta.concrete_fields}
    rows = []
    for event in events:
        actor = "System"
        if event.actor is not None:
            actor = event.actor.get_full_name() or event.actor.username
        changes = [
            (
                labels.get(name, name).capitalize(),
                _history_value(name, values[0], staff_names),
                _history_value(name, values[1], staff_names),
            )
            for name, values in sorted(event.changes.items())
            if name not in HISTORY_HIDDEN and isinstance(values, list) and len(values) == 2
        ]
        rows.append(
            HistoryRow(
                at=event.at,
                actor=actor,
                action=event.get_action_display(),
                changes=changes,
                reason=event.reason,
            )
        )
    return rows


# What works -------------------------------------------------------------------------------


@dataclass
class KindImpact:
    """The reviewed pupils of one intervention kind and how they moved."""

    kind: str
    label: str
    pupils: int = 0
    started_below: int = 0
    back_on: int = 0
    changes: list[Decimal] = field(default_factory=list)
    suppressed: bool = False

    @property
    def median_change(self) -> Decimal | None:
        if not self.changes:
            return None
        return round_points(statistics.median(self.changes))

    @property
    def back_on_percent(self) -> float | None:
        if not self.started_below:
            return None
        return round(100 * self.back_on / self.started_below, 1)


def reviewed_links(academy_ids: Iterable[int] | None = None) -> QuerySet[InterventionPupil]:
    """Return the pupils of reviewed interventions in a qualification with a
    grade at the start and at review, of the academies given (all when None)."""
    links = InterventionPupil.objects.filter(
        intervention__status=Intervention.Status.REVIEWED,
        intervention__qualification__isnull=False,
        start_points__isnull=False,
        review_points__isnull=False,
    )
    if academy_ids is not None:
        links = links.filter(intervention__academy_id__in=list(academy_ids))
    return links


def what_works(
    links: QuerySet[InterventionPupil], *, suppress_small: bool
) -> dict[int | None, list[KindImpact]]:
    """Return the impact by kind per academy id, and across all of `links` under None.

    A pupil counts once per intervention. "Started below" is below or well
    below TMG at the start; "back on" is those of them on or above TMG at
    review. The change is in whole grades of the qualification's scale.
    With `suppress_small`, a kind of the across-academies table with fewer
    than SMALL_GROUP pupils has its figures hidden.
    """
    rows = links.values_list(
        "intervention__academy_id",
        "intervention__kind",
        "start_points",
        "tmg_points",
        "review_points",
        "intervention__qualification__scale__step",
    )
    tables: dict[int | None, dict[str, KindImpact]] = {}
    labels = dict(Intervention.Kind.choices)
    for academy_id, kind, start, tmg, review, step in rows:
        if start is None or review is None or not step:
            continue
        for key in (academy_id, None):
            impact = tables.setdefault(key, {}).setdefault(
                kind, KindImpact(kind=kind, label=str(labels.get(kind, kind)))
            )
            impact.pupils += 1
            impact.changes.append((review - start) / step)
            if status_between(start, tmg, step) in BELOW_STATUSES:
                impact.started_below += 1
                if status_between(review, tmg, step) in ON_OR_ABOVE:
                    impact.back_on += 1
    order = {value: index for index, value in enumerate(Intervention.Kind.values)}
    result: dict[int | None, list[KindImpact]] = {}
    for key, by_kind in tables.items():
        impacts = sorted(by_kind.values(), key=lambda i: order.get(i.kind, len(order)))
        if key is None and suppress_small:
            for impact in impacts:
                impact.suppressed = impact.pupils < SMALL_GROUP
        result[key] = impacts
    return result
