"""Writes of classes' grades and of assessment points.

grades_save() is the grade grid's write path: it validates every typed grade
of one class at one assessment point, then writes them, in one transaction
and a fixed number of queries whatever the size of the class. Corrections
and removals are written to the audit trail in bulk, because grade entries
are not registered for per-row auditing.
"""

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from academies.models import AcademicYear, Academy, YearGroup
from pupils.models import Enrolment, active_on
from trust import audit
from trust.models import AuditEvent

from .grades import parse_grade
from .models import AssessmentPoint, ClassMembership, Grade, GradeEntry, TeachingGroup
from .selectors import entry_label, membership_day

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GradeInput:
    """A grade as typed in the grid. `seen_version` is the version of the
    pupil's entry when the grid was opened, or None if there was no entry.
    A blank `text` leaves the entry alone unless `remove` is set."""

    pupil_id: int
    text: str
    seen_version: int | None = None
    remove: bool = False


@dataclass(frozen=True)
class GradeConflict:
    """An entry someone else saved after the grid was opened."""

    pupil_id: int
    submitted: str
    current: str
    current_version: int
    changed_by: str
    changed_at: datetime.datetime


@dataclass
class GradesSaveResult:
    created: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    blank: int = 0
    conflicts: list[GradeConflict] = field(default_factory=list)

    @property
    def saved(self) -> int:
        return self.created + self.changed


def _who(user: Any) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def _check_point_fits(group: TeachingGroup, point: AssessmentPoint) -> None:
    fits = (
        point.academy_id == group.academy_id
        and point.academic_year_id == group.academic_year_id
        and point.year_group_id == group.year_group_id
    )
    if not fits:
        raise ValidationError(
            {
                "assessment_point": [
                    f"Assessment point '{point.name}' belongs to another year group or "
                    f"academic year; class {group.name} takes only the assessment points of "
                    f"{group.year_group} in {group.academic_year}."
                ]
            }
        )


def _parse_all(
    group: TeachingGroup,
    point: AssessmentPoint,
    entries: Sequence[GradeInput],
    members: set[int],
    enrolments: dict[int, Enrolment],
) -> tuple[dict[int, Grade | Decimal], dict[str, list[str]]]:
    """Parse every typed grade; return the parsed values and the errors keyed by pupil."""
    scale = group.qualification.scale
    final = point.kind == AssessmentPoint.Kind.FINAL
    parsed: dict[int, Grade | Decimal] = {}
    errors: dict[str, list[str]] = {}

    def add(pupil_id: int, message: str) -> None:
        errors.setdefault(f"pupil_{pupil_id}", []).append(message)

    seen: set[int] = set()
    for entry in entries:
        if entry.pupil_id in seen:
            add(entry.pupil_id, "The pupil appears twice in one save; send one grade per pupil.")
            continue
        seen.add(entry.pupil_id)
        if entry.pupil_id not in members:
            add(
                entry.pupil_id,
                f"Pupil {entry.pupil_id} is not in class {group.name}, so no grade can be "
                "entered for them here.",
            )
            continue
        if not entry.text.strip():
            continue
        try:
            parsed[entry.pupil_id] = parse_grade(scale, entry.text, final=final)
        except ValidationError as error:
            for message in error.message_dict.get("grade", error.messages):
                add(entry.pupil_id, message)
            continue
        if entry.pupil_id not in enrolments:
            add(
                entry.pupil_id,
                f"The pupil was not on roll on {point.date:%d/%m/%Y}, the date of "
                f"'{point.name}', so no grade can be recorded for that assessment point.",
            )
    return parsed, errors


def _same(current: GradeEntry, value: Grade | Decimal) -> bool:
    if isinstance(value, Grade):
        return current.grade_id == value.pk and current.value is None
    return current.grade_id is None and current.value == value


def _set_value(entry: GradeEntry, value: Grade | Decimal) -> None:
    if isinstance(value, Grade):
        entry.grade = value
        entry.value = None
    else:
        entry.grade = None
        entry.value = value


def _typed_label(value: Grade | Decimal) -> str:
    if isinstance(value, Grade):
        return value.label
    return f"{value.normalize():f}"


@transaction.atomic
def grades_save(
    *,
    actor: Any,
    group: TeachingGroup,
    assessment_point: AssessmentPoint,
    entries: Sequence[GradeInput],
    reason: str = "",
) -> GradesSaveResult:
    """Save the grades typed for one class at one assessment point.

    Every pupil must be in the class on the day the grid shows. A grade is
    parsed on the qualification's scale, and a final result takes whole
    grades only. Raise ValidationError, keyed "pupil_<id>", and write nothing
    if any grade is invalid. An entry changed since the grid was opened (its
    version differs from `seen_version`) is not overwritten but returned as
    a conflict. New entries copy the pupil's enrolment on the assessment date.
    """
    point = assessment_point
    _check_point_fits(group, point)
    pupil_ids = [e.pupil_id for e in entries]
    members = set(
        ClassMembership.objects.filter(
            active_on(membership_day(group)), group=group, pupil_id__in=pupil_ids
        ).values_list("pupil_id", flat=True)
    )
    enrolments = {
        e.pupil_id: e
        for e in Enrolment.objects.filter(active_on(point.date), pupil_id__in=pupil_ids).order_by(
            "start_date", "pk"
        )
    }
    parsed, errors = _parse_all(group, point, entries, members, enrolments)
    if errors:
        raise ValidationError(errors)

    existing = {
        e.pupil_id: e
        for e in GradeEntry.objects.select_for_update(of=("self",))
        .filter(
            pupil_id__in=pupil_ids, qualification_id=group.qualification_id, assessment_point=point
        )
        .select_related("grade", "entered_by", "changed_by")
    }
    now = timezone.now()
    result = GradesSaveResult()
    new: list[GradeEntry] = []
    changed: list[GradeEntry] = []
    removed: list[GradeEntry] = []
    before: dict[int, str] = {}

    for typed in entries:
        current = existing.get(typed.pupil_id)
        value = parsed.get(typed.pupil_id)
        if value is None and not (typed.remove and current is not None):
            result.blank += 1
            continue
        if current is None:
            assert value is not None
            enrolment = enrolments[typed.pupil_id]
            entry = GradeEntry(
                pupil_id=typed.pupil_id,
                qualification_id=group.qualification_id,
                assessment_point=point,
                academy_id=enrolment.academy_id,
                academic_year_id=enrolment.academic_year_id,
                year_group_id=enrolment.year_group_id,
                entered_by=actor,
                entered_at=now,
            )
            _set_value(entry, value)
            new.append(entry)
            continue
        if value is not None and _same(current, value):
            result.unchanged += 1
            continue
        if typed.seen_version != current.version:
            result.conflicts.append(
                GradeConflict(
                    pupil_id=typed.pupil_id,
                    submitted="(remove)" if value is None else _typed_label(value),
                    current=entry_label(current),
                    current_version=current.version,
                    changed_by=_who(current.changed_by or current.entered_by),
                    changed_at=current.changed_at or current.entered_at,
                )
            )
            continue
        before[current.pk] = entry_label(current)
        if value is None:
            removed.append(current)
            continue
        _set_value(current, value)
        current.changed_by = actor
        current.changed_at = now
        current.version += 1
        changed.append(current)

    try:
        with transaction.atomic():
            GradeEntry.objects.bulk_create(new)
    except IntegrityError:
        # Another save created one of these entries after the read above, which
        # a row lock cannot prevent for rows that did not exist yet.
        logger.warning(
            "grades save raced another save group=%s point=%s actor=%s",
            group.pk,
            point.pk,
            getattr(actor, "pk", None),
        )
        raise ValidationError(
            {
                "grid": [
                    "Someone else saved grades for this class at the same moment, so none of "
                    "yours were saved. Reload the grid, check their grades and save again."
                ]
            }
        ) from None
    if changed:
        GradeEntry.objects.bulk_update(
            changed, ["grade", "value", "changed_by", "changed_at", "version"]
        )
    if removed:
        GradeEntry.objects.filter(pk__in=[e.pk for e in removed]).delete()
    if changed or removed:
        with audit.acting_as(actor, reason=reason.strip()):
            _record_corrections(point, changed, removed, before)
    result.created = len(new)
    result.changed = len(changed)
    result.removed = len(removed)
    logger.info(
        "grades saved group=%s point=%s created=%s changed=%s removed=%s conflicts=%s actor=%s",
        group.pk,
        point.pk,
        result.created,
        result.changed,
        result.removed,
        len(result.conflicts),
        getattr(actor, "pk", None),
    )
    return result


def _record_corrections(
    point: AssessmentPoint,
    changed: list[GradeEntry],
    removed: list[GradeEntry],
    before: dict[int, str],
) -> None:
    events = []
    for entry, action in [(e, AuditEvent.Action.UPDATE) for e in changed] + [
        (e, AuditEvent.Action.DELETE) for e in removed
    ]:
        after = None if action == AuditEvent.Action.DELETE else entry_label(entry)
        events.append(
            AuditEvent(
                actor=audit.current_actor(),
                action=action,
                model=GradeEntry._meta.label,
                object_id=str(entry.pk),
                object_repr=f"Grade at {point.name} ({point.date:%d/%m/%Y})"[:200],
                pupil_ref=entry.pupil_id,
                changes={"grade": [before[entry.pk], after]},
                reason=audit.current_reason()[:300],
            )
        )
    AuditEvent.objects.bulk_create(events)


@transaction.atomic
def assessment_point_create(
    *,
    actor: Any,
    academy_id: int,
    year_group_id: int,
    academic_year_id: int,
    name: str,
    date: datetime.date,
    kind: str,
) -> AssessmentPoint:
    """Create a data drop for one year group of one academy in one academic year.

    Raise ValidationError naming the field when the year group is not the
    academy's, the date falls outside the academic year, the kind is unknown
    or the name is already used for that year group and year.
    """
    errors: dict[str, list[str]] = {}
    academy = Academy.objects.filter(pk=academy_id).first()
    year_group = YearGroup.objects.filter(pk=year_group_id).first()
    academic_year = AcademicYear.objects.filter(pk=academic_year_id).first()
    name = " ".join((name or "").split())
    if academy is None:
        errors["academy"] = [f"Academy {academy_id} was not found."]
    if year_group is None or (academy is not None and year_group.academy_id != academy.pk):
        errors["year_group"] = [f"Year group {year_group_id} is not a year group of this academy."]
    if academic_year is None or (
        academy is not None and academic_year.trust_id != academy.trust_id
    ):
        errors["academic_year"] = [
            f"Academic year {academic_year_id} is not an academic year of this trust."
        ]
    elif not academic_year.start_date <= date <= academic_year.end_date:
        errors["date"] = [
            f"{date:%d/%m/%Y} is outside {academic_year} "
            f"({academic_year.start_date:%d/%m/%Y} to {academic_year.end_date:%d/%m/%Y}); "
            "choose a date inside the academic year."
        ]
    if kind not in AssessmentPoint.Kind.values:
        allowed = ", ".join(str(label) for label in AssessmentPoint.Kind.labels)
        errors["kind"] = [f"Kind '{kind}' is not known; allowed: {allowed}."]
    if not name:
        errors["name"] = ["Name is blank; give the data drop a name, for example 'Autumn 2'."]
    elif len(name) > 60:
        errors["name"] = [f"Name has {len(name)} characters; at most 60 are allowed."]
    elif (
        year_group is not None
        and academic_year is not None
        and AssessmentPoint.objects.filter(
            year_group=year_group, academic_year=academic_year, name__iexact=name
        ).exists()
    ):
        errors["name"] = [
            f"Name '{name}' is already used by an assessment point of {year_group} in "
            f"{academic_year}; choose another name."
        ]
    if errors:
        raise ValidationError(errors)
    assert academy is not None
    assert year_group is not None
    assert academic_year is not None
    with audit.acting_as(actor, reason="Assessment point created"):
        point = AssessmentPoint.objects.create(
            academy=academy,
            academic_year=academic_year,
            year_group=year_group,
            name=name,
            date=date,
            kind=kind,
        )
    logger.info(
        "assessment point created id=%s year_group=%s academic_year=%s actor=%s",
        point.pk,
        year_group.pk,
        academic_year.pk,
        getattr(actor, "pk", None),
    )
    return point
