"""Writes of behaviour incidents, their pupils, actions and follow-ups.

Every page and API endpoint that logs or changes an incident calls these
functions. Each one validates everything first and then writes in one
transaction, so a rejected call stores nothing. Errors are
ValidationError({"field": ["message"]}); a pupil the actor may not log for
raises Http404, so no name leaks.

Keys of errors about one pupil, action or follow-up are indexed like the
input: "pupils.0.points", "actions.1.date", "follow_up.owner_id".
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from academies.models import AcademicYear, Academy
from academies.services import school_days
from pupils.models import Enrolment, Pupil, active_on
from staff.models import StaffMember
from trust import audit, clock
from trust.access import scope_for
from trust.models import AuditEvent

from . import access
from .models import (
    Action,
    BehaviourCategory,
    FollowUp,
    Incident,
    IncidentPupil,
    Location,
    Polarity,
    PupilRole,
    SensitiveKind,
)

# Roles whose points may be 0 whatever the category's range: they took no
# part in the behaviour.
ZERO_POINT_ROLES = {PupilRole.TARGET, PupilRole.WITNESS}
MAX_DETENTION_MINUTES = 240
# An isolation may last the whole school day.
MAX_ISOLATION_MINUTES = 480
REFERRAL_SCHOOL_DAYS = 5
# Fields incident_update accepts besides `pupils`.
UPDATABLE_FIELDS = {
    "occurred_at",
    "category_id",
    "location",
    "lesson",
    "subject",
    "description",
    "reported_by_id",
    "sensitive",
    "sensitive_kind",
}
ACTION_UPDATABLE_FIELDS = {
    "date",
    "duration_minutes",
    "attended",
    "contact_method",
    "contacted_at",
    "outcome",
    "referred_to_id",
    "notes",
}


@dataclass(frozen=True)
class PupilEntry:
    pupil_id: int
    role: str = PupilRole.INVOLVED
    # None: the category's default, or 0 for a target or witness.
    points: int | None = None


@dataclass(frozen=True)
class ActionInput:
    kind: str
    # None: every pupil of the incident except targets and witnesses.
    pupil_id: int | None = None
    date: datetime.date | None = None
    duration_minutes: int | None = None
    attended: bool | None = None
    contact_method: str = ""
    contacted_at: datetime.datetime | None = None
    outcome: str = ""
    # A referral also opens a follow-up owned by this member of staff, due
    # on `date` or else in five school days.
    referred_to_id: int | None = None
    notes: str = ""


@dataclass(frozen=True)
class FollowUpInput:
    owner_id: int
    due_on: datetime.date
    note: str = ""


class _Errors:
    """Validation messages collected by field, raised together at the end."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.messages.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def _shown(day: datetime.date) -> str:
    return f"{day:%d/%m/%Y}"


def _shown_time(moment: datetime.datetime) -> str:
    return f"{moment.astimezone(clock.LONDON):%d/%m/%Y %H:%M}"


def _aware(moment: datetime.datetime) -> datetime.datetime:
    """Return `moment` as an aware datetime, reading a naive one as London time."""
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=clock.LONDON)
    return moment


def _who(user: Any) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def _trust_staff(staff_id: int | None, trust_id: int) -> StaffMember | None:
    """Return the member of staff if they work at an academy of the trust or in its central team."""
    if staff_id is None:
        return None
    return (
        StaffMember.objects.filter(pk=staff_id)
        .filter(Q(academy__trust_id=trust_id) | Q(academy__isnull=True))
        .first()
    )


def _check_occurred_at(occurred_at: datetime.datetime, errors: _Errors) -> None:
    if occurred_at > clock.now():
        errors.add(
            "occurred_at",
            f"Date and time {_shown_time(occurred_at)} are in the future; "
            f"log an incident at or before {_shown_time(clock.now())}.",
        )


def _check_category(
    category_id: int, academy: Academy, day: datetime.date, errors: _Errors
) -> BehaviourCategory | None:
    category = BehaviourCategory.objects.select_related("parent").filter(pk=category_id).first()
    if category is None or category.trust_id != academy.trust_id:
        errors.add(
            "category_id",
            f"Category {category_id} is not a behaviour category of {academy.name}'s trust; "
            "choose one from the list.",
        )
        return None
    if category.academy_id is not None and category.academy_id != academy.pk:
        errors.add(
            "category_id",
            f"Category {category.name} belongs to another academy; choose a trust category "
            f"or one of {academy.name}'s own.",
        )
        return None
    if category.retired(day):
        assert category.retired_on is not None
        errors.add(
            "category_id",
            f"Category {category.name} was retired on {_shown(category.retired_on)}, so it "
            f"cannot be used for {_shown(day)}; choose a current category.",
        )
        return None
    parent = category.parent if category.parent_id else None
    if parent is not None and parent.retired(day):
        assert parent.retired_on is not None
        errors.add(
            "category_id",
            f"Category {category.name} counts as {parent.name}, which was retired on "
            f"{_shown(parent.retired_on)}; choose a current category.",
        )
        return None
    return category


def _check_text(values: dict[str, str], errors: _Errors) -> None:
    limits = {"lesson": 40, "subject": 80}
    for name, limit in limits.items():
        text = values.get(name, "")
        if len(text) > limit:
            errors.add(name, f"{name.title()} has {len(text)} characters; at most {limit}.")
    location = values.get("location", "")
    if location and location not in Location.values:
        errors.add(
            "location",
            f"Location {location!r} is not allowed; use one of {', '.join(Location.values)}.",
        )


def _check_sensitive(sensitive: bool, kind: str, errors: _Errors) -> None:
    if kind and kind not in SensitiveKind.values:
        errors.add(
            "sensitive_kind",
            f"Sensitive kind {kind!r} is not allowed; use one of "
            f"{', '.join(SensitiveKind.values)}.",
        )
    elif kind and not sensitive:
        errors.add(
            "sensitive_kind",
            f"Sensitive kind {SensitiveKind(kind).label!r} is set but the incident is not "
            "marked sensitive; tick sensitive or clear the kind.",
        )


def _default_points(category: BehaviourCategory, role: str) -> int:
    return 0 if role in ZERO_POINT_ROLES else category.default_points


def _points_error(category: BehaviourCategory, role: str, points: int) -> str | None:
    if points == 0 and role in ZERO_POINT_ROLES:
        return None
    if category.min_points <= points <= category.max_points:
        return None
    return (
        f"Points {points} are outside {category.name}'s range of {category.min_points} "
        f"to {category.max_points}."
    )


def _check_pupils(
    actor: Any,
    entries: Sequence[PupilEntry],
    academy: Academy,
    day: datetime.date,
    category: BehaviourCategory | None,
    errors: _Errors,
) -> dict[int, Enrolment]:
    """Check the pupils of an incident and return their enrolments on `day`.

    Raise Http404 if any pupil is outside what `actor` may log for on `day`.
    """
    if not entries:
        errors.add("pupils", "No pupil is selected; choose at least one pupil.")
        return {}
    ids = [entry.pupil_id for entry in entries]
    loggable = set(
        access.loggable_pupils(actor, day).filter(pk__in=ids).values_list("pk", flat=True)
    )
    if set(ids) - loggable:
        raise Http404("No pupil matches the given query.")

    enrolments = {
        e.pupil_id: e
        for e in Enrolment.objects.filter(
            active_on(day), pupil_id__in=ids, academy=academy
        ).order_by("start_date")
    }
    names = {pupil.pk: pupil.display_name for pupil in Pupil.objects.filter(pk__in=ids)}
    seen: set[int] = set()
    for index, entry in enumerate(entries):
        prefix = f"pupils.{index}"
        name = names.get(entry.pupil_id, f"Pupil {entry.pupil_id}")
        if entry.pupil_id in seen:
            errors.add(
                f"{prefix}.pupil_id",
                f"{name} is listed twice; list each pupil once with one role and points.",
            )
        seen.add(entry.pupil_id)
        if entry.pupil_id not in enrolments:
            errors.add(
                f"{prefix}.pupil_id",
                f"{name} is not on roll at {academy.name} on {_shown(day)}; "
                "an incident is logged at the academy where the pupil was on roll that day.",
            )
        if entry.role not in PupilRole.values:
            errors.add(
                f"{prefix}.role",
                f"Role {entry.role!r} for {name} is not allowed; use one of "
                f"{', '.join(PupilRole.values)}.",
            )
            continue
        if category is not None and entry.points is not None:
            problem = _points_error(category, entry.role, entry.points)
            if problem:
                errors.add(f"{prefix}.points", f"{name}: {problem}")
    return enrolments


def _link_fields(incident: Incident, enrolment: Enrolment) -> dict[str, Any]:
    """Return the fields a pupil link copies from its incident and the pupil's enrolment."""
    return {
        "date": incident.date,
        "polarity": incident.polarity,
        "trust_category_id": incident.trust_category_id,
        "academy_id": enrolment.academy_id,
        "academic_year_id": enrolment.academic_year_id,
        "year_group_id": enrolment.year_group_id,
        "tutor_group_id": enrolment.tutor_group_id,
    }


def _academic_year(academy: Academy, day: datetime.date, errors: _Errors) -> AcademicYear | None:
    year = AcademicYear.objects.filter(
        trust_id=academy.trust_id, start_date__lte=day, end_date__gte=day
    ).first()
    if year is None:
        errors.add(
            "occurred_at",
            f"No academic year of the trust contains {_shown(day)}; choose a date in a "
            "recorded academic year.",
        )
    return year


def _due_in_school_days(academy: Academy, start: datetime.date, count: int) -> datetime.date:
    """Return the `count`th school day of `academy` after `start`.

    Weekdays stand in for school days where the calendar has no terms
    recorded that far ahead.
    """
    days = school_days(
        academy, start + datetime.timedelta(days=1), start + datetime.timedelta(days=90)
    )
    if len(days) >= count:
        return days[count - 1]
    day = start
    remaining = count
    while remaining:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return day


# Actions ---------------------------------------------------------------------


def _check_action(
    action: ActionInput,
    prefix: str,
    incident_day: datetime.date,
    occurred_at: datetime.datetime,
    trust_id: int,
    pupil_ids: set[int],
    errors: _Errors,
) -> None:
    """Check one action against the rules of its kind."""
    if action.kind not in Action.Kind.values:
        errors.add(
            f"{prefix}.kind",
            f"Action kind {action.kind!r} is not allowed; use one of "
            f"{', '.join(Action.Kind.values)}.",
        )
        return
    label = Action.Kind(action.kind).label
    if action.pupil_id is not None and action.pupil_id not in pupil_ids:
        errors.add(
            f"{prefix}.pupil_id",
            f"Pupil {action.pupil_id} is not one of the incident's pupils; choose one of them "
            "or leave it empty for all.",
        )
    today = clock.today()
    timed = action.kind in {Action.Kind.DETENTION, Action.Kind.ISOLATION}

    if timed:
        if action.date is None:
            errors.add(
                f"{prefix}.date", f"{label}: the date is missing; enter the day it takes place."
            )
        elif action.date < incident_day:
            errors.add(
                f"{prefix}.date",
                f"{label} date {_shown(action.date)} is before the incident on "
                f"{_shown(incident_day)}; choose that day or later.",
            )
        limit = (
            MAX_DETENTION_MINUTES if action.kind == Action.Kind.DETENTION else MAX_ISOLATION_MINUTES
        )
        if action.duration_minutes is None and action.kind == Action.Kind.DETENTION:
            errors.add(
                f"{prefix}.duration_minutes",
                f"Detention minutes are missing; enter 1 to {MAX_DETENTION_MINUTES}.",
            )
        elif action.duration_minutes is not None and not 1 <= action.duration_minutes <= limit:
            errors.add(
                f"{prefix}.duration_minutes",
                f"{label} minutes {action.duration_minutes} are outside 1 to {limit}.",
            )
        if action.attended is not None and action.date is not None and action.date >= today:
            errors.add(
                f"{prefix}.attended",
                f"Attendance at the {label.lower()} on {_shown(action.date)} can be recorded "
                "once that day has passed.",
            )
    else:
        # A referral's date is the due date of the follow-up it opens.
        untimed: tuple[str, ...] = ("duration_minutes", "attended")
        if action.kind != Action.Kind.REFERRAL:
            untimed = ("date", *untimed)
        for name in untimed:
            if getattr(action, name) is not None:
                errors.add(
                    f"{prefix}.{name}",
                    f"{label} takes no {name.replace('_', ' ')}; leave it empty.",
                )

    if action.kind == Action.Kind.PARENT_CONTACT:
        if not action.contact_method:
            errors.add(
                f"{prefix}.contact_method",
                "How parents were contacted is missing; choose one of "
                f"{', '.join(Action.ContactMethod.values)}.",
            )
        elif action.contact_method not in Action.ContactMethod.values:
            errors.add(
                f"{prefix}.contact_method",
                f"Contact method {action.contact_method!r} is not allowed; use one of "
                f"{', '.join(Action.ContactMethod.values)}.",
            )
        if action.contacted_at is None:
            errors.add(
                f"{prefix}.contacted_at",
                "When parents were contacted is missing; enter the date and time.",
            )
        else:
            contacted_at = _aware(action.contacted_at)
            if contacted_at > clock.now():
                errors.add(
                    f"{prefix}.contacted_at",
                    f"Contacted at {_shown_time(contacted_at)} is in the future; enter a time "
                    f"at or before {_shown_time(clock.now())}.",
                )
            elif contacted_at < occurred_at:
                errors.add(
                    f"{prefix}.contacted_at",
                    f"Contacted at {_shown_time(contacted_at)} is before the incident at "
                    f"{_shown_time(occurred_at)}; enter a later time.",
                )
    else:
        if action.contact_method or action.contacted_at is not None:
            errors.add(
                f"{prefix}.contact_method",
                f"{label} takes no contact method or time; record parent contact as an action "
                "of its own.",
            )

    if action.kind == Action.Kind.REFERRAL:
        if action.referred_to_id is None:
            errors.add(
                f"{prefix}.referred_to_id", "Referred to is missing; choose a member of staff."
            )
        elif _trust_staff(action.referred_to_id, trust_id) is None:
            errors.add(
                f"{prefix}.referred_to_id",
                f"Staff member {action.referred_to_id} is not on the staff of the trust; "
                "choose a member of staff of the trust.",
            )
        if action.date is not None and action.date < today:
            errors.add(
                f"{prefix}.date",
                f"Referral due date {_shown(action.date)} is in the past; choose today or later.",
            )
    elif action.referred_to_id is not None:
        errors.add(f"{prefix}.referred_to_id", f"{label} takes no referral; add a referral action.")


def _action_pupils(action: ActionInput, links: Sequence[IncidentPupil]) -> list[int]:
    if action.pupil_id is not None:
        return [action.pupil_id]
    return [link.pupil_id for link in links if link.role not in ZERO_POINT_ROLES]


def _write_actions(
    actor: Any, incident: Incident, links: Sequence[IncidentPupil], actions: Sequence[ActionInput]
) -> list[Action]:
    written: list[Action] = []
    for action in actions:
        pupil_ids = _action_pupils(action, links)
        for pupil_id in pupil_ids:
            row = Action(
                incident=incident,
                pupil_id=pupil_id,
                kind=action.kind,
                date=action.date if action.kind != Action.Kind.REFERRAL else None,
                duration_minutes=action.duration_minutes,
                attended=action.attended,
                contact_method=action.contact_method,
                contacted_at=_aware(action.contacted_at) if action.contacted_at else None,
                outcome=action.outcome,
                referred_to_id=action.referred_to_id,
                notes=action.notes,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            row.save()
            written.append(row)
        if action.kind == Action.Kind.REFERRAL and pupil_ids:
            assert action.referred_to_id is not None
            due = action.date or _due_in_school_days(
                incident.academy, clock.today(), REFERRAL_SCHOOL_DAYS
            )
            FollowUp.objects.create(
                incident=incident,
                owner_id=action.referred_to_id,
                due_on=due,
                note=(action.notes or f"Referral from incident {incident.pk}")[:500],
            )
    return written


def _check_follow_up(follow_up: FollowUpInput, prefix: str, trust_id: int, errors: _Errors) -> None:
    if _trust_staff(follow_up.owner_id, trust_id) is None:
        errors.add(
            f"{prefix}owner_id",
            f"Staff member {follow_up.owner_id} is not on the staff of the trust; choose a "
            "member of staff of the trust.",
        )
    if follow_up.due_on < clock.today():
        errors.add(
            f"{prefix}due_on",
            f"Due date {_shown(follow_up.due_on)} is in the past; choose today or later.",
        )
    if len(follow_up.note) > 500:
        errors.add(f"{prefix}note", f"The note has {len(follow_up.note)} characters; at most 500.")


# Incidents -------------------------------------------------------------------


@transaction.atomic
def incident_log(
    *,
    actor: Any,
    academy_id: int,
    occurred_at: datetime.datetime,
    category_id: int,
    pupils: Sequence[PupilEntry],
    reported_by_id: int,
    location: str = "",
    lesson: str = "",
    subject: str = "",
    description: str = "",
    sensitive: bool | None = None,
    sensitive_kind: str = "",
    actions: Sequence[ActionInput] = (),
    follow_up: FollowUpInput | None = None,
) -> Incident:
    """Log one incident for one or more pupils, with its actions and follow-up.

    Raise Http404 if a pupil is outside loggable_pupils(actor, day), and
    ValidationError if anything else is invalid; either way nothing is written.
    """
    errors = _Errors()
    academy = Academy.objects.filter(pk=academy_id).first()
    if academy is None:
        raise ValidationError({"academy_id": [f"Academy {academy_id} does not exist."]})
    occurred_at = _aware(occurred_at)
    day = occurred_at.astimezone(clock.LONDON).date()

    category = _check_category(category_id, academy, day, errors)
    enrolments = _check_pupils(actor, pupils, academy, day, category, errors)
    _check_occurred_at(occurred_at, errors)
    year = _academic_year(academy, day, errors)
    if _trust_staff(reported_by_id, academy.trust_id) is None:
        errors.add(
            "reported_by_id",
            f"Staff member {reported_by_id} is not on the staff of the trust; choose who saw "
            "the incident.",
        )
    _check_text({"location": location, "lesson": lesson, "subject": subject}, errors)
    is_sensitive = category.sensitive if sensitive is None and category else bool(sensitive)
    _check_sensitive(is_sensitive, sensitive_kind, errors)
    pupil_ids = {entry.pupil_id for entry in pupils}
    for index, action in enumerate(actions):
        _check_action(
            action, f"actions.{index}", day, occurred_at, academy.trust_id, pupil_ids, errors
        )
    if follow_up is not None:
        _check_follow_up(follow_up, "follow_up.", academy.trust_id, errors)
    errors.raise_if_any()
    assert category is not None and year is not None

    with audit.acting_as(actor):
        incident = Incident.objects.create(
            academy=academy,
            academic_year=year,
            occurred_at=occurred_at,
            date=day,
            category=category,
            trust_category_id=category.trust_category_id,
            polarity=category.polarity,
            location=location,
            lesson=lesson,
            subject=subject,
            description=description,
            reported_by_id=reported_by_id,
            sensitive=is_sensitive,
            sensitive_kind=sensitive_kind if is_sensitive else "",
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        links = [
            IncidentPupil(
                incident=incident,
                pupil_id=entry.pupil_id,
                role=entry.role,
                points=entry.points
                if entry.points is not None
                else _default_points(category, entry.role),
                **_link_fields(incident, enrolments[entry.pupil_id]),
            )
            for entry in pupils
        ]
        IncidentPupil.objects.bulk_create(links)
        audit.record_bulk(links, AuditEvent.Action.CREATE)
        _write_actions(actor, incident, links, actions)
        if follow_up is not None:
            FollowUp.objects.create(
                incident=incident,
                owner_id=follow_up.owner_id,
                due_on=follow_up.due_on,
                note=follow_up.note,
            )
    return incident


@transaction.atomic
def group_points_log(
    *,
    actor: Any,
    pupil_ids: Sequence[int],
    academy_id: int,
    category_id: int,
    points: int | None,
    occurred_at: datetime.datetime,
    reported_by_id: int,
    description: str = "",
) -> Incident:
    """Give the same positive points to a group of pupils as one incident."""
    category = BehaviourCategory.objects.filter(pk=category_id).first()
    if category is not None and category.polarity != Polarity.POSITIVE:
        raise ValidationError(
            {
                "category_id": [
                    f"Category {category.name} is negative; group points use a positive category."
                ]
            }
        )
    return incident_log(
        actor=actor,
        academy_id=academy_id,
        occurred_at=occurred_at,
        category_id=category_id,
        pupils=[PupilEntry(pupil_id=pupil_id, points=points) for pupil_id in pupil_ids],
        reported_by_id=reported_by_id,
        description=description,
    )


def _last_change(incident: Incident) -> str:
    event = (
        AuditEvent.objects.filter(model=Incident._meta.label, object_id=str(incident.pk))
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )
    if event is None:
        return "someone else"
    return f"{_who(event.actor)} at {_shown_time(event.at)}"


@transaction.atomic
def incident_update(
    *, actor: Any, incident: Incident, seen_version: int, reason: str, **fields: Any
) -> Incident:
    """Correct an incident and keep its pupil links in step.

    `fields` may hold any of UPDATABLE_FIELDS and `pupils`, a sequence of
    PupilEntry replacing the pupils the actor may log for (links of pupils
    the actor cannot see are kept). Raise PermissionDenied unless
    access.can_correct allows it, and ValidationError if the incident
    changed since version `seen_version` was read.
    """
    if not access.can_correct(actor, incident):
        raise PermissionDenied("You may not correct this incident.")
    unknown = set(fields) - UPDATABLE_FIELDS - {"pupils"}
    if unknown:
        raise ValidationError(
            {
                name: [
                    f"{name} cannot be changed; change one of "
                    f"{', '.join(sorted(UPDATABLE_FIELDS))}."
                ]
                for name in sorted(unknown)
            }
        )
    incident = Incident.objects.select_for_update().select_related("academy").get(pk=incident.pk)
    errors = _Errors()
    if incident.version != seen_version:
        errors.add(
            "seen_version",
            f"This incident was changed by {_last_change(incident)} since you opened it "
            f"(version {seen_version}, now {incident.version}); reload it and make your "
            "change again.",
        )
        errors.raise_if_any()
    if not reason.strip():
        errors.add("reason", "The reason for the correction is missing; say why it is changed.")

    academy = incident.academy
    occurred_at = _aware(fields.get("occurred_at", incident.occurred_at))
    day = occurred_at.astimezone(clock.LONDON).date()
    if "occurred_at" in fields:
        _check_occurred_at(occurred_at, errors)
    year = _academic_year(academy, day, errors)
    category_id = fields.get("category_id", incident.category_id)
    category = _check_category(category_id, academy, day, errors)
    if (
        "reported_by_id" in fields
        and _trust_staff(fields["reported_by_id"], academy.trust_id) is None
    ):
        errors.add(
            "reported_by_id",
            f"Staff member {fields['reported_by_id']} is not on the staff of the trust; choose "
            "who saw the incident.",
        )
    values = {
        name: fields.get(name, getattr(incident, name))
        for name in ("location", "lesson", "subject")
    }
    _check_text(values, errors)
    sensitive = bool(fields.get("sensitive", incident.sensitive))
    sensitive_kind = fields.get("sensitive_kind", incident.sensitive_kind if sensitive else "")
    _check_sensitive(sensitive, sensitive_kind, errors)

    links = list(incident.pupil_links.select_related("pupil"))
    loggable = set(
        access.loggable_pupils(actor, day)
        .filter(pk__in=[link.pupil_id for link in links])
        .values_list("pk", flat=True)
    )
    # Links of pupils the actor cannot log for stay as they are; they are
    # checked for roll and points but not for scope.
    kept = [
        PupilEntry(link.pupil_id, link.role, link.points)
        for link in links
        if link.pupil_id not in loggable
    ]
    if "pupils" in fields:
        entries = list(fields["pupils"])
    else:
        entries = [
            PupilEntry(link.pupil_id, link.role, link.points)
            for link in links
            if link.pupil_id in loggable
        ]
    enrolments: dict[int, Enrolment] = {}
    if entries:
        enrolments = _check_pupils(actor, entries, academy, day, category, errors)
    elif not kept:
        errors.add("pupils", "No pupil is left; an incident needs at least one pupil.")
    if kept:
        kept_enrolments = {
            e.pupil_id: e
            for e in Enrolment.objects.filter(
                active_on(day), pupil_id__in=[k.pupil_id for k in kept], academy=academy
            ).order_by("start_date")
        }
        for entry in kept:
            if entry.pupil_id not in kept_enrolments:
                errors.add(
                    "occurred_at",
                    f"Another pupil of this incident is not on roll at {academy.name} on "
                    f"{_shown(day)}; choose a date when all its pupils were on roll.",
                )
            elif category is not None and _points_error(category, entry.role, entry.points or 0):
                errors.add(
                    "category_id",
                    f"Another pupil's points ({entry.points}) are outside {category.name}'s "
                    f"range of {category.min_points} to {category.max_points}; ask a leader "
                    "to change them.",
                )
        enrolments.update(kept_enrolments)
    errors.raise_if_any()
    assert category is not None and year is not None

    with audit.acting_as(actor, reason.strip()):
        for name in UPDATABLE_FIELDS & set(fields):
            setattr(incident, name, fields[name])
        incident.occurred_at = occurred_at
        incident.date = day
        incident.academic_year = year
        incident.category = category
        incident.trust_category_id = category.trust_category_id
        incident.polarity = category.polarity
        incident.sensitive = sensitive
        incident.sensitive_kind = sensitive_kind if sensitive else ""
        incident.version = incident.version + 1
        incident.save()

        remaining = {entry.pupil_id: entry for entry in [*entries, *kept]}
        for link in links:
            if link.pupil_id not in remaining:
                link.delete()
                continue
            entry = remaining.pop(link.pupil_id)
            link.role = entry.role
            link.points = (
                entry.points if entry.points is not None else _default_points(category, entry.role)
            )
            for name, value in _link_fields(incident, enrolments[link.pupil_id]).items():
                setattr(link, name, value)
            link.save()
        for entry in remaining.values():
            IncidentPupil.objects.create(
                incident=incident,
                pupil_id=entry.pupil_id,
                role=entry.role,
                points=entry.points
                if entry.points is not None
                else _default_points(category, entry.role),
                **_link_fields(incident, enrolments[entry.pupil_id]),
            )
    return incident


@transaction.atomic
def incident_delete(*, actor: Any, incident: Incident, reason: str) -> None:
    """Delete an incident with its pupil links, actions and follow-ups.

    Raise PermissionDenied unless access.can_delete allows it. The audit
    keeps every deleted row with the reason.
    """
    if not access.can_delete(actor, incident):
        raise PermissionDenied("Only leaders of the incident's academy may delete it.")
    if not reason.strip():
        raise ValidationError(
            {"reason": ["The reason for deleting is missing; say why the incident is deleted."]}
        )
    with audit.acting_as(actor, reason.strip()):
        incident.delete()


def _visible_pupil_ids(actor: Any, incident: Incident) -> set[int]:
    return set(
        access.visible_links(actor).filter(incident=incident).values_list("pupil_id", flat=True)
    )


@transaction.atomic
def action_add(*, actor: Any, incident: Incident, action: ActionInput) -> list[Action]:
    """Add an action for one pupil of the incident, or for all its pupils
    except targets and witnesses. Raise Http404 for a pupil the actor cannot see."""
    visible = _visible_pupil_ids(actor, incident)
    if not visible or (action.pupil_id is not None and action.pupil_id not in visible):
        raise Http404("No pupil matches the given query.")
    links = [link for link in incident.pupil_links.all() if link.pupil_id in visible]
    errors = _Errors()
    _check_action(
        action,
        "action",
        incident.date,
        incident.occurred_at,
        incident.academy.trust_id,
        {link.pupil_id for link in links},
        errors,
    )
    errors.raise_if_any()
    with audit.acting_as(actor):
        return _write_actions(actor, incident, links, [action])


@transaction.atomic
def action_update(*, actor: Any, action: Action, reason: str = "", **fields: Any) -> Action:
    """Change an action, for example to record whether a detention was attended.

    Filling a field that was empty needs no reason; changing a value that
    was already recorded is a correction and does.
    """
    action = (
        Action.objects.select_for_update().select_related("incident__academy").get(pk=action.pk)
    )
    incident = action.incident
    if action.pupil_id not in _visible_pupil_ids(actor, incident):
        raise Http404("No action matches the given query.")
    unknown = set(fields) - ACTION_UPDATABLE_FIELDS
    if unknown:
        raise ValidationError(
            {
                name: [
                    f"{name} cannot be changed; change one of "
                    f"{', '.join(sorted(ACTION_UPDATABLE_FIELDS))}."
                ]
                for name in sorted(unknown)
            }
        )
    changed_values = [
        name
        for name, value in fields.items()
        if getattr(action, name) not in (None, "") and getattr(action, name) != value
    ]
    errors = _Errors()
    if changed_values and not reason.strip():
        errors.add(
            "reason",
            f"The reason is missing; changing {', '.join(changed_values)} already recorded "
            "is a correction, so say why.",
        )
    merged = ActionInput(
        kind=action.kind,
        pupil_id=action.pupil_id,
        date=fields.get("date", action.date),
        duration_minutes=fields.get("duration_minutes", action.duration_minutes),
        attended=fields.get("attended", action.attended),
        contact_method=fields.get("contact_method", action.contact_method),
        contacted_at=fields.get("contacted_at", action.contacted_at),
        outcome=fields.get("outcome", action.outcome),
        referred_to_id=fields.get("referred_to_id", action.referred_to_id),
        notes=fields.get("notes", action.notes),
    )
    single = _Errors()
    _check_action(
        merged,
        "action",
        incident.date,
        incident.occurred_at,
        incident.academy.trust_id,
        {action.pupil_id},
        single,
    )
    for key, messages in single.messages.items():
        # Only the fields being changed can be wrong now; the rest were checked when saved.
        name = key.split(".", 1)[1]
        if name in fields:
            for message in messages:
                errors.add(name, message)
    errors.raise_if_any()
    with audit.acting_as(actor, reason.strip()):
        for name, value in fields.items():
            setattr(action, name, _aware(value) if name == "contacted_at" and value else value)
        action.save()
    return action


@transaction.atomic
def follow_up_add(*, actor: Any, incident: Incident, follow_up: FollowUpInput) -> FollowUp:
    """Add a follow-up task to an incident the actor can see."""
    if not _visible_pupil_ids(actor, incident):
        raise Http404("No incident matches the given query.")
    errors = _Errors()
    _check_follow_up(follow_up, "", incident.academy.trust_id, errors)
    errors.raise_if_any()
    with audit.acting_as(actor):
        return FollowUp.objects.create(
            incident=incident,
            owner_id=follow_up.owner_id,
            due_on=follow_up.due_on,
            note=follow_up.note,
        )


@transaction.atomic
def follow_up_resolve(*, actor: Any, follow_up: FollowUp, resolution: str) -> FollowUp:
    """Mark a follow-up resolved, as its owner or a user who may correct the incident."""
    follow_up = FollowUp.objects.select_for_update().select_related("incident").get(pk=follow_up.pk)
    owner = follow_up.owner_id == scope_for(actor).staff_id
    if not owner and not access.can_correct(actor, follow_up.incident):
        raise PermissionDenied("Only the owner of the follow-up or a leader may resolve it.")
    errors = _Errors()
    if follow_up.status == FollowUp.Status.RESOLVED:
        errors.add(
            "status",
            f"This follow-up was resolved on {_shown_time(follow_up.resolved_at or clock.now())}; "
            "it cannot be resolved again.",
        )
    text = resolution.strip()
    if not text:
        errors.add("resolution", "The resolution is missing; say what was done.")
    elif len(text) > 500:
        errors.add("resolution", f"The resolution has {len(text)} characters; at most 500.")
    errors.raise_if_any()
    with audit.acting_as(actor):
        follow_up.status = FollowUp.Status.RESOLVED
        follow_up.resolution = text
        follow_up.resolved_at = clock.now()
        follow_up.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
        follow_up.save()
    return follow_up
