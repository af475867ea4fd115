"""Writes of appraisal cycles, deadlines, appraisals, objectives, reviews,
signatures and annotations.

Pages and the API both call these functions. Each one checks who may act
(PermissionDenied), then the appraisal's status and every input
(ValidationError({"field": ["message", ...]}) naming the value and the
rule), and only then writes, in one transaction, so a rejected call stores
nothing. Writes run inside trust.audit.acting_as(actor), so the audit trail
names the actor even where no request sets it.

An appraisal moves one step at a time:
draft -> objectives_agreed -> mid_year_reviewed -> final_reviewed -> signed_off.
Both the appraisee and the appraiser sign the objectives and the final
review. The appraisee may sign while disagreeing, with a comment. A signed-off
appraisal is never edited again, only annotated.
"""

import datetime
import itertools
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from academies.models import AcademicYear, Academy, TutorGroup, YearGroup
from progress.models import Subject
from staff.models import Role, RoleAssignment, StaffMember
from trust import audit, clock
from trust.access import scope_for
from trust.models import AuditEvent

from . import access
from .deadlines import STAGES, cycle_window, deadline_table, default_deadlines
from .measures import measure_errors
from .models import (
    Annotation,
    Appraisal,
    AppraisalCycle,
    Deadline,
    DevelopmentNeed,
    Objective,
    ObjectiveReview,
    Outcome,
    Signature,
    Stage,
    Standard,
    StandardSet,
    Track,
)
from .selectors import staff_to_appraise
from .standards import TEACHERS_STANDARDS

Status = Appraisal.Status
Party = Signature.Party
Document = Signature.Document

TITLE_MAX_LENGTH = Objective._meta.get_field("title").max_length or 300
NEED_MAX_LENGTH = DevelopmentNeed._meta.get_field("description").max_length or 300
WEIGHTING_MIN = 1
WEIGHTING_MAX = 100
WEIGHTING_TOTAL = 100


class _Errors:
    """Validation messages gathered by field and raised together."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.messages.setdefault(field, []).append(message)

    def merge(self, messages: dict[str, list[str]]) -> None:
        for field, values in messages.items():
            for message in values:
                self.add(field, message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def _shown(day: datetime.date | datetime.datetime) -> str:
    if isinstance(day, datetime.datetime):
        day = day.astimezone(clock.LONDON).date()
    return f"{day:%d/%m/%Y}"


def _actor_staff(actor: Any) -> StaffMember | None:
    staff_id = scope_for(actor).staff_id
    if staff_id is None:
        return None
    return StaffMember.objects.filter(pk=staff_id).first()


def _is_current(staff: StaffMember, today: datetime.date) -> bool:
    return staff.left_on is None or staff.left_on >= today


def _trust_id(cycle: AppraisalCycle) -> int:
    return cycle.academic_year.trust_id


def _in_trust(staff: StaffMember, trust_id: int) -> bool:
    """Return whether `staff` works at an academy of the trust or in its central team."""
    return staff.academy_id is None or (
        staff.academy is not None and staff.academy.trust_id == trust_id
    )


def _lock(appraisal: Appraisal) -> Appraisal:
    """Return the appraisal re-read under a row lock, so concurrent calls run
    one after the other. Access and status are checked on this fresh copy,
    not on the caller's possibly stale instance."""
    return Appraisal.objects.select_for_update().get(pk=appraisal.pk)


def _status_label(status: str) -> str:
    return str(Status(status).label)


def _status_message(appraisal: Appraisal, allowed: Iterable[str], action: str) -> str | None:
    """Return why `action` is rejected at the appraisal's status, or None when
    the status is in `allowed`.

    `action` completes the sentence "... is possible only while the
    appraisal is ...", for example "Changing objectives".
    """
    allowed = list(allowed)
    if appraisal.status in allowed:
        return None
    if appraisal.status == Status.SIGNED_OFF:
        when = _shown(appraisal.signed_off_at) if appraisal.signed_off_at else "an earlier date"
        return (
            f"This appraisal was signed off on {when} and can no longer be edited; "
            "add an annotation instead."
        )
    needed = " or ".join(f"'{_status_label(status)}'" for status in allowed)
    return (
        f"{action} is possible only while the appraisal is {needed}; this appraisal "
        f"is '{_status_label(appraisal.status)}'."
    )


# Each action that depends on the appraisal's status: the statuses in which it
# is open, and the words that start the message when it is not.
ACTION_STATUSES: dict[str, tuple[tuple[str, ...], str]] = {
    "objective_save": ((Status.DRAFT,), "Changing objectives"),
    "objective_delete": ((Status.DRAFT,), "Removing objectives"),
    "objectives_sign": ((Status.DRAFT,), "Signing the objectives"),
    "review_mid_year": ((Status.OBJECTIVES_AGREED,), "The mid-year review"),
    "review_final": ((Status.MID_YEAR_REVIEWED,), "The final review"),
    "mid_year_complete": ((Status.OBJECTIVES_AGREED,), "Completing the mid-year review"),
    "final_review_complete": ((Status.MID_YEAR_REVIEWED,), "Completing the final review"),
    "final_sign": ((Status.FINAL_REVIEWED,), "Signing the final review"),
    "appraiser_set": (
        tuple(status for status in Status.values if status != Status.SIGNED_OFF),
        "Changing the appraiser",
    ),
    "annotation_add": ((Status.SIGNED_OFF,), "Adding an annotation"),
}


def closed_reason(appraisal: Appraisal, action: str) -> str | None:
    """Return why `action` (a key of ACTION_STATUSES) is closed at the
    appraisal's status, or None when it is open.

    The services raise this message, and the pages show it in place of a
    form that cannot be sent, so both apply the same rule.
    """
    if action.startswith("review_") and appraisal.status == Status.DRAFT:
        return (
            "Reviews start once the appraisee and the appraiser have both signed the "
            f"objectives; this appraisal is '{_status_label(appraisal.status)}'."
        )
    if action == "annotation_add" and appraisal.status != Status.SIGNED_OFF:
        return (
            "Annotations are added to signed-off appraisals only; this appraisal is "
            f"'{_status_label(appraisal.status)}', so edit it directly."
        )
    allowed, words = ACTION_STATUSES[action]
    return _status_message(appraisal, allowed, words)


def _check_open(appraisal: Appraisal, action: str) -> None:
    """Raise ValidationError on "status" when closed_reason gives a reason."""
    message = closed_reason(appraisal, action)
    if message is not None:
        raise ValidationError({"status": [message]})


def _require_manager(actor: Any, appraisal: Appraisal, action: str) -> None:
    """Raise PermissionDenied unless `actor` manages the appraisal and is not its appraisee.

    access.can_manage lets trust HR manage every appraisal, their own
    included, so the appraisee check here stops anyone setting or reviewing
    their own objectives.
    """
    if access.is_appraisee(actor, appraisal) or not access.can_manage(actor, appraisal):
        raise PermissionDenied(
            f"Only the appraiser, the academy's headteacher or trust HR may {action}."
        )


def _signing_party(actor: Any, appraisal: Appraisal) -> str:
    if access.is_appraisee(actor, appraisal):
        return Party.APPRAISEE
    if access.is_appraiser(actor, appraisal):
        return Party.APPRAISER
    raise PermissionDenied("Only the appraisee and the appraiser sign an appraisal.")


def _required_text(value: Any, field: str, missing: str, errors: _Errors) -> str:
    """Return `value` stripped, adding the `missing` message when it is blank."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors.add(field, missing)
    return text


# Cycles and deadlines ---------------------------------------------------------------


@transaction.atomic
def cycle_create(
    actor: Any, academic_year: AcademicYear, *, uses_pay_recommendation: bool = True
) -> AppraisalCycle:
    """Create the appraisal cycle of `academic_year` with the trust's default
    deadlines. With `uses_pay_recommendation` False, final reviews record no
    pay recommendation."""
    if not access.can_run_cycles(actor):
        raise PermissionDenied("Only trust HR and trust leaders open an appraisal cycle.")
    if AppraisalCycle.objects.filter(academic_year=academic_year).exists():
        raise ValidationError(
            {
                "academic_year": [
                    f"The {academic_year.name} appraisal cycle already exists; open it to "
                    "change its deadlines."
                ]
            }
        )

    with audit.acting_as(actor):
        try:
            # A savepoint, so the outer transaction survives the rejected insert.
            with transaction.atomic():
                cycle = AppraisalCycle.objects.create(
                    academic_year=academic_year,
                    uses_pay_recommendation=uses_pay_recommendation,
                )
        except IntegrityError:
            raise ValidationError(
                {
                    "academic_year": [
                        f"The {academic_year.name} appraisal cycle was opened by someone else "
                        "a moment ago; open it to change its deadlines."
                    ]
                }
            ) from None
        for (track, stage), due in default_deadlines(academic_year).items():
            Deadline.objects.create(cycle=cycle, academy=None, track=track, stage=stage, due=due)
    return cycle


@transaction.atomic
def cycle_settings_set(
    actor: Any, cycle: AppraisalCycle, *, uses_pay_recommendation: bool
) -> AppraisalCycle:
    """Turn the pay recommendation of a cycle's final reviews on or off.

    Turning it off is rejected once a final review of the cycle has recorded
    a pay recommendation, because the records would then hide it.
    """
    if not access.can_run_cycles(actor):
        raise PermissionDenied("Only trust HR and trust leaders change an appraisal cycle.")
    cycle = AppraisalCycle.objects.select_for_update().get(pk=cycle.pk)
    if not uses_pay_recommendation and cycle.uses_pay_recommendation:
        recorded = cycle.appraisals.exclude(pay_recommendation="").count()
        if recorded:
            reviews = "final review records" if recorded == 1 else "final reviews record"
            raise ValidationError(
                {
                    "uses_pay_recommendation": [
                        f"{recorded} {reviews} a pay recommendation in the "
                        f"{cycle.academic_year.name} cycle already, so pay recommendations "
                        "cannot be turned off for it."
                    ]
                }
            )
    if cycle.uses_pay_recommendation != uses_pay_recommendation:
        with audit.acting_as(actor):
            cycle.uses_pay_recommendation = uses_pay_recommendation
            cycle.save(update_fields=["uses_pay_recommendation"])
    return cycle


def _stage_words(stage: str) -> str:
    """Return the stage's label in lower case, for use inside a sentence."""
    return str(Stage(stage).label).lower()


def _deadline_label(track: str, stage: str) -> str:
    return f"{_stage_words(stage)} deadline for {str(Track(track).label).lower()}"


@transaction.atomic
def deadlines_set(
    actor: Any,
    cycle: AppraisalCycle,
    *,
    dates: dict[tuple[str, str], datetime.date | None],
    academy: Academy | None = None,
) -> None:
    """Set the trust's deadlines, or an academy's own dates when `academy` is given.

    Keys are (track, stage). Every date falls within cycle_window, and on
    each track the stages stay in order: objectives before mid-year before
    final review, and sign-off on or after the final review. An academy's
    date of None removes its own date, so the trust's applies again.
    """
    if academy is None:
        if not access.can_run_cycles(actor):
            raise PermissionDenied("Only trust HR and trust leaders set the trust's deadlines.")
    elif not access.can_set_academy_deadlines(actor, academy.pk):
        raise PermissionDenied(
            f"Only the headteacher of {academy.name}, trust HR and trust leaders set its deadlines."
        )

    errors = _Errors()
    year = cycle.academic_year
    if academy is not None and academy.trust_id != year.trust_id:
        errors.add("academy", f"{academy.name} is not an academy of this cycle's trust.")
    first, last = cycle_window(year)
    tracks = {track.value for track in Track}
    requested: dict[tuple[str, str], datetime.date | None] = {}
    for key, due in dates.items():
        track, stage = key
        field = f"{track}.{stage}"
        if track not in tracks:
            errors.add(
                field, f"Track '{track}' is not valid; use one of {', '.join(sorted(tracks))}."
            )
            continue
        if stage not in STAGES:
            errors.add(field, f"Stage '{stage}' is not valid; use one of {', '.join(STAGES)}.")
            continue
        if due is None:
            if academy is None:
                errors.add(field, f"The {_deadline_label(track, stage)} is missing; enter a date.")
            requested[(track, stage)] = None
            continue
        if isinstance(due, datetime.datetime) or not isinstance(due, datetime.date):
            errors.add(field, f"{due!r} is not a date; enter a date as dd/mm/yyyy.")
            continue
        if not first <= due <= last:
            errors.add(
                field,
                f"The {_deadline_label(track, stage)} {_shown(due)} is outside the "
                f"{year.name} cycle; choose a date from {_shown(first)} to {_shown(last)}.",
            )
            continue
        requested[(track, stage)] = due
    errors.raise_if_any()

    table = deadline_table(cycle)
    merged: dict[tuple[str, str], datetime.date | None] = dict(
        table.for_academy(academy.pk if academy else None)
    )
    for key, due in requested.items():
        # Removing an academy's own date brings back the trust's.
        merged[key] = table.trust.get(key) if due is None else due
    _check_stage_order(merged, requested, errors)
    if academy is None and not errors.messages:
        _check_academy_orders(merged, table.academies, requested, errors)
    errors.raise_if_any()

    with audit.acting_as(actor):
        for (track, stage), due in requested.items():
            rows = Deadline.objects.filter(cycle=cycle, academy=academy, track=track, stage=stage)
            if due is None:
                for old_row in rows:
                    old_row.delete()
                continue
            row = rows.first()
            if row is None:
                Deadline.objects.create(
                    cycle=cycle, academy=academy, track=track, stage=stage, due=due
                )
            elif row.due != due:
                row.due = due
                row.save()


def _order_violations(
    dates: dict[tuple[str, str], datetime.date | None],
) -> list[tuple[str, str, datetime.date, str, datetime.date]]:
    """Return (track, earlier stage, its date, later stage, its date) for each
    pair of consecutive stages whose dates are out of order."""
    found = []
    for track in Track:
        present = [
            (stage, due) for stage in STAGES if (due := dates.get((track, stage))) is not None
        ]
        for (earlier, earlier_due), (later, later_due) in itertools.pairwise(present):
            # The year is reviewed and signed off at the same meeting in many
            # trusts, so sign-off may share the final review's date.
            if later == Stage.SIGN_OFF:
                in_order = later_due >= earlier_due
            else:
                in_order = later_due > earlier_due
            if not in_order:
                found.append((track.value, earlier, earlier_due, later, later_due))
    return found


def _order_words(later: str) -> tuple[str, str]:
    """Return the words for "after" and "before" for the pair ending at `later`."""
    if later == Stage.SIGN_OFF:
        return "on or after", "on or before"
    return "after", "before"


def _check_stage_order(
    merged: dict[tuple[str, str], datetime.date | None],
    requested: dict[tuple[str, str], datetime.date | None],
    errors: _Errors,
    owner: str = "the",
) -> None:
    """Check each track's stages are in order, blaming the date being changed.

    `owner` names whose other date is compared: "the" for the same table, or
    "Oak Academy's own" when a trust date is checked against an academy's.
    """
    for track, earlier, earlier_due, later, later_due in _order_violations(merged):
        after, before = _order_words(later)
        if (track, later) in requested or (track, earlier) not in requested:
            errors.add(
                f"{track}.{later}",
                f"The {_deadline_label(track, later)} {_shown(later_due)} must be {after} "
                f"{owner} {_stage_words(earlier)} deadline {_shown(earlier_due)}.",
            )
        else:
            errors.add(
                f"{track}.{earlier}",
                f"The {_deadline_label(track, earlier)} {_shown(earlier_due)} must be "
                f"{before} {owner} {_stage_words(later)} deadline {_shown(later_due)}.",
            )


def _check_academy_orders(
    trust_dates: dict[tuple[str, str], datetime.date | None],
    academies: dict[int, dict[tuple[str, str], datetime.date]],
    requested: dict[tuple[str, str], datetime.date | None],
    errors: _Errors,
) -> None:
    """Check that new trust dates keep every academy's own dates in order.

    An academy's own date replaces the trust's, so moving a trust date past
    it would leave that academy's stages out of order.
    """
    names = dict(Academy.objects.filter(pk__in=list(academies)).values_list("pk", "name"))
    for academy_id, own in academies.items():
        merged = {**trust_dates, **own}
        # Only pairs between a changed trust date and the academy's own date
        # are new; anything else was already in that order before this call.
        changed_trust_dates = {key: due for key, due in requested.items() if key not in own}
        if not changed_trust_dates:
            continue
        found = _Errors()
        _check_stage_order(
            merged, changed_trust_dates, found, owner=f"{names.get(academy_id, 'an academy')}'s own"
        )
        for field, messages in found.messages.items():
            if tuple(field.split(".", 1)) in changed_trust_dates:
                for message in messages:
                    errors.add(field, message + " Change that academy's date first.")


# Opening appraisals -------------------------------------------------------------------


def _may_open(actor: Any, academy_id: int | None) -> bool:
    if academy_id is None:
        return access.can_run_cycles(actor)
    return access.can_set_academy_deadlines(actor, academy_id)


def _headteacher_ids(staff_ids: Iterable[int], today: datetime.date) -> set[int]:
    """Return which of `staff_ids` have a headteacher role assignment current today."""
    rows = RoleAssignment.objects.filter(
        staff_id__in=list(staff_ids), role=Role.HEADTEACHER
    ).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=today),
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
    )
    return set(rows.values_list("staff_id", flat=True))


def _standard_sets() -> list[StandardSet]:
    """Return the active standard sets with the Teachers' Standards first."""
    sets = list(StandardSet.objects.filter(is_active=True))
    sets.sort(key=lambda item: (item.name != TEACHERS_STANDARDS, item.name))
    return sets


def _standard_set_for(staff: StaffMember, sets: Sequence[StandardSet]) -> StandardSet | None:
    return next((item for item in sets if staff.post_type in (item.post_types or [])), None)


def _default_appraiser(staff: StaffMember, today: datetime.date) -> StaffMember | None:
    """Return the line manager if they still work for the trust.

    A line manager who has left is skipped rather than rejected, so opening a
    whole academy's appraisals does not stop at one stale record. A leader
    then chooses the appraiser with appraiser_set.
    """
    manager = staff.line_manager
    if manager is None or not _is_current(manager, today):
        return None
    return manager


def _new_appraisal(
    cycle: AppraisalCycle,
    appraisee: StaffMember,
    appraiser: StaffMember | None,
    *,
    headteacher: bool,
    sets: Sequence[StandardSet],
) -> Appraisal:
    return Appraisal(
        cycle=cycle,
        appraisee=appraisee,
        appraiser=appraiser,
        academy_id=appraisee.academy_id,
        track=Track.HEADTEACHER if headteacher else Track.STAFF,
        standard_set=_standard_set_for(appraisee, sets),
        status=Status.DRAFT,
    )


def _appraiser_errors(
    appraiser: StaffMember, appraisee: StaffMember, trust_id: int, today: datetime.date
) -> list[str]:
    if appraiser.pk == appraisee.pk:
        return [
            f"{appraiser.full_name} is the appraisee and cannot also be the appraiser; "
            "choose another member of staff."
        ]
    if not _is_current(appraiser, today):
        assert appraiser.left_on is not None
        return [
            f"{appraiser.full_name} left on {_shown(appraiser.left_on)}; choose a current "
            "member of staff as appraiser."
        ]
    if not _in_trust(appraiser, trust_id):
        return [f"{appraiser.full_name} does not work for this trust; choose one who does."]
    return []


@transaction.atomic
def appraisal_open(
    actor: Any,
    *,
    cycle: AppraisalCycle,
    appraisee: StaffMember,
    appraiser: StaffMember | None = None,
) -> Appraisal:
    """Open `appraisee`'s appraisal in `cycle` as a draft.

    The appraiser defaults to the appraisee's line manager. The appraisal
    follows the headteacher track when the appraisee has a current
    headteacher role assignment, and uses the first active standard set offered for their
    post type (the Teachers' Standards for teachers and leaders).
    """
    if not _may_open(actor, appraisee.academy_id):
        raise PermissionDenied(
            "Only the academy's headteacher, trust HR and trust leaders open appraisals."
        )

    errors = _Errors()
    today = clock.today()
    year = cycle.academic_year
    trust_id = _trust_id(cycle)
    if not _in_trust(appraisee, trust_id):
        errors.add("appraisee", f"{appraisee.full_name} does not work for this trust.")
    existing = Appraisal.objects.filter(cycle=cycle, appraisee=appraisee).first()
    if existing is not None:
        errors.add(
            "appraisee",
            f"{appraisee.full_name} already has an appraisal in the {year.name} cycle "
            f"(status '{_status_label(existing.status)}'); open that one instead.",
        )
    if appraisee.left_on is not None and appraisee.left_on < year.start_date:
        errors.add(
            "appraisee",
            f"{appraisee.full_name} left on {_shown(appraisee.left_on)}, before the "
            f"{year.name} cycle started on {_shown(year.start_date)}; only current staff are "
            "appraised.",
        )
    if appraiser is None:
        appraiser = _default_appraiser(appraisee, today)
    else:
        for message in _appraiser_errors(appraiser, appraisee, trust_id, today):
            errors.add("appraiser", message)
    errors.raise_if_any()

    headteacher = appraisee.pk in _headteacher_ids([appraisee.pk], today)
    appraisal = _new_appraisal(
        cycle, appraisee, appraiser, headteacher=headteacher, sets=_standard_sets()
    )
    with audit.acting_as(actor):
        try:
            with transaction.atomic():
                appraisal.save()
        except IntegrityError:
            raise ValidationError(
                {
                    "appraisee": [
                        f"{appraisee.full_name}'s {year.name} appraisal was opened by someone "
                        "else a moment ago; open that one instead."
                    ]
                }
            ) from None
    return appraisal


@transaction.atomic
def appraisals_open_all(
    actor: Any, cycle: AppraisalCycle, *, academy: Academy | None = None
) -> int:
    """Open a draft appraisal for every current member of staff who has none
    in `cycle`, in one academy or (academy=None) the whole trust and its
    central team. Return how many were opened.

    Staff who left before the cycle started or start after it ends are
    skipped, and so are trustees: they govern the trust and are not its
    employees.
    """
    if not _may_open(actor, academy.pk if academy else None):
        raise PermissionDenied(
            "Only the academy's headteacher, trust HR and trust leaders open appraisals."
        )
    year = cycle.academic_year
    trust_id = _trust_id(cycle)
    if academy is not None and academy.trust_id != trust_id:
        raise ValidationError(
            {"academy": [f"{academy.name} is not an academy of this cycle's trust."]}
        )

    today = clock.today()
    staff = (
        staff_to_appraise(cycle, today)
        .select_related("line_manager")
        .exclude(appraisals__cycle=cycle)
    )
    if academy is not None:
        staff = staff.filter(academy=academy)
    else:
        staff = staff.filter(Q(academy__trust_id=trust_id) | Q(academy__isnull=True))
    members = list(staff)
    if not members:
        return 0

    heads = _headteacher_ids([member.pk for member in members], today)
    sets = _standard_sets()
    rows = [
        _new_appraisal(
            cycle,
            member,
            _default_appraiser(member, today),
            headteacher=member.pk in heads,
            sets=sets,
        )
        for member in members
    ]
    with audit.acting_as(actor):
        try:
            with transaction.atomic():
                created = Appraisal.objects.bulk_create(rows, batch_size=500)
        except IntegrityError:
            raise ValidationError(
                {
                    "cycle": [
                        f"Some {year.name} appraisals were opened by someone else while these "
                        "were being opened, so none were opened; try again."
                    ]
                }
            ) from None
        audit.record_bulk(created, AuditEvent.Action.CREATE)
    return len(created)


@transaction.atomic
def appraiser_set(actor: Any, appraisal: Appraisal, appraiser: StaffMember) -> Appraisal:
    """Change the appraiser.

    The previous appraiser's signature on a document that is not yet signed
    by both (the objectives in draft, the final review once reviewed) is
    removed, because the new appraiser has not agreed to it.
    """
    appraisal = _lock(appraisal)
    if access.is_appraisee(actor, appraisal) or not access.can_assign_appraiser(actor, appraisal):
        raise PermissionDenied(
            "Only the academy's headteacher or trust HR may change the appraiser."
        )
    _check_open(appraisal, "appraiser_set")

    errors = _Errors()
    appraisee = appraisal.appraisee
    for message in _appraiser_errors(
        appraiser, appraisee, _trust_id(appraisal.cycle), clock.today()
    ):
        errors.add("appraiser", message)
    errors.raise_if_any()
    if appraisal.appraiser_id == appraiser.pk:
        return appraisal

    pending = {
        Status.DRAFT: Document.OBJECTIVES,
        Status.FINAL_REVIEWED: Document.FINAL_REVIEW,
    }.get(Status(appraisal.status))
    with audit.acting_as(actor):
        if pending is not None:
            for signature in Signature.objects.filter(
                appraisal=appraisal, document=pending, party=Party.APPRAISER
            ):
                signature.delete()
        appraisal.appraiser = appraiser
        appraisal.save()
    return appraisal


# Objectives ---------------------------------------------------------------------------


def _weighting_value(weighting: Any, errors: _Errors) -> int | None:
    allowed = f"enter a whole number from {WEIGHTING_MIN} to {WEIGHTING_MAX}"
    if isinstance(weighting, bool):
        errors.add("weighting", f"Weighting {weighting!r} is not a number; {allowed}.")
        return None
    try:
        value = int(str(weighting).strip().rstrip("%"))
    except (TypeError, ValueError):
        errors.add("weighting", f"Weighting '{weighting}' is not a whole number; {allowed}.")
        return None
    if not WEIGHTING_MIN <= value <= WEIGHTING_MAX:
        errors.add("weighting", f"Weighting {value}% is out of range; {allowed}.")
        return None
    return value


def _standards(
    standards: Iterable[Any], standard_set: StandardSet | None, errors: _Errors
) -> list[Standard]:
    """Return the standards for the given ids or objects, all from the appraisal's set."""
    ids = []
    for item in standards:
        ids.append(item.pk if isinstance(item, Standard) else item)
    try:
        found = {standard.pk: standard for standard in Standard.objects.filter(pk__in=ids)}
    except (TypeError, ValueError):
        errors.add("standards", f"Standards {ids!r} are not valid standard ids.")
        return []
    chosen = []
    for standard_id in ids:
        standard = found.get(standard_id)
        if standard is None:
            errors.add("standards", f"Standard {standard_id!r} was not found.")
        elif standard_set is not None and standard.standard_set_id != standard_set.pk:
            errors.add(
                "standards",
                f"Standard {standard.code} belongs to another standard set; choose from "
                f"{standard_set.name}.",
            )
        else:
            chosen.append(standard)
    return chosen


def _clear_objective_signatures(appraisal: Appraisal) -> None:
    for signature in Signature.objects.filter(appraisal=appraisal, document=Document.OBJECTIVES):
        signature.delete()


@transaction.atomic
def objective_save(
    actor: Any,
    appraisal: Appraisal,
    *,
    objective: Objective | None = None,
    title: str,
    success_criteria: str,
    weighting: Any,
    standards: Iterable[Any] = (),
    support: str = "",
    measure: str = "",
    measure_scope: str = "",
    measure_academy: Academy | None = None,
    measure_subject: Subject | None = None,
    measure_year_group: YearGroup | None = None,
    measure_tutor_group: TutorGroup | None = None,
    target_value: Any = None,
) -> Objective:
    """Add an objective to a draft appraisal, or change `objective`.

    Any signature already given on the objectives is removed, because the
    signer agreed to different objectives.
    """
    appraisal = _lock(appraisal)
    _require_manager(actor, appraisal, "set objectives")
    _check_open(appraisal, "objective_save")

    errors = _Errors()
    if objective is not None and objective.appraisal_id != appraisal.pk:
        errors.add("objective", f"Objective {objective.pk} belongs to another appraisal.")
    title = _required_text(
        title, "title", "The objective's title is missing; enter some text.", errors
    )
    if len(title) > TITLE_MAX_LENGTH:
        errors.add(
            "title",
            f"The title is {len(title)} characters long; shorten it to {TITLE_MAX_LENGTH} "
            "or fewer.",
        )
    success_criteria = _required_text(
        success_criteria,
        "success_criteria",
        "The success criteria are missing; say how you will both know the objective is met.",
        errors,
    )
    weight = _weighting_value(weighting, errors)
    chosen_standards = _standards(standards, appraisal.standard_set, errors)
    measure = measure or ""
    measure_scope = measure_scope or ""
    if isinstance(target_value, str):
        target_value = target_value.strip() or None
    errors.merge(
        measure_errors(
            appraisal.appraisee,
            measure=measure,
            measure_scope=measure_scope,
            measure_academy=measure_academy,
            measure_subject=measure_subject,
            measure_year_group=measure_year_group,
            measure_tutor_group=measure_tutor_group,
            target_value=target_value,
        )
    )
    errors.raise_if_any()
    assert weight is not None
    # measure_errors has checked the target is a number from 0 to 100 with at
    # most one decimal place.
    target = Decimal(str(target_value)) if target_value is not None else None

    if objective is None:
        last = appraisal.objectives.aggregate(last=Max("position"))["last"] or 0
        objective = Objective(appraisal=appraisal, position=last + 1)
    objective.title = title
    objective.success_criteria = success_criteria
    objective.weighting = weight
    objective.support = (support or "").strip()
    objective.measure = measure
    objective.measure_scope = measure_scope
    objective.measure_academy = measure_academy
    objective.measure_subject = measure_subject
    objective.measure_year_group = measure_year_group
    objective.measure_tutor_group = measure_tutor_group
    objective.target_value = target
    with audit.acting_as(actor):
        objective.save()
        objective.standards.set(chosen_standards)
        _clear_objective_signatures(appraisal)
    return objective


@transaction.atomic
def objective_delete(actor: Any, objective: Objective) -> None:
    """Delete an objective of a draft appraisal and any signature on the objectives."""
    appraisal = _lock(objective.appraisal)
    _require_manager(actor, appraisal, "remove objectives")
    _check_open(appraisal, "objective_delete")
    with audit.acting_as(actor):
        objective.delete()
        _clear_objective_signatures(appraisal)


def _check_signature_input(party: str, agrees: bool, comment: str, errors: _Errors) -> str:
    comment = (comment or "").strip()
    if not agrees and party == Party.APPRAISER:
        errors.add(
            "agrees",
            "The appraiser signs in agreement; change the document instead of signing against it.",
        )
    if not agrees and not comment:
        errors.add(
            "comment",
            "A comment is required when you sign without agreeing; say what you disagree "
            "with and why.",
        )
    return comment


def _sign(
    actor: Any, appraisal: Appraisal, document: str, party: str, agrees: bool, comment: str
) -> bool:
    """Record or replace the actor's signature. Return whether both parties have now signed."""
    staff = _actor_staff(actor)
    assert staff is not None, "a signing party is always a member of staff"
    Signature.objects.update_or_create(
        appraisal=appraisal,
        document=document,
        party=party,
        defaults={
            "staff": staff,
            "signed_at": clock.now(),
            "agrees": agrees,
            "comment": comment,
        },
    )
    parties = set(
        Signature.objects.filter(appraisal=appraisal, document=document).values_list(
            "party", flat=True
        )
    )
    return parties == {Party.APPRAISEE, Party.APPRAISER}


@transaction.atomic
def objectives_sign(
    actor: Any, appraisal: Appraisal, *, agrees: bool = True, comment: str = ""
) -> Appraisal:
    """Sign the objectives as the appraisee or the appraiser.

    Signing again replaces the actor's earlier signature. Once both have
    signed, the appraisal moves to objectives_agreed, dated now and by the
    second signer.
    """
    appraisal = _lock(appraisal)
    party = _signing_party(actor, appraisal)
    _check_open(appraisal, "objectives_sign")

    errors = _Errors()
    comment = _check_signature_input(party, agrees, comment, errors)
    weightings = list(appraisal.objectives.values_list("weighting", flat=True))
    if not weightings:
        errors.add(
            "objectives",
            "There are no objectives to agree; add at least one objective before signing.",
        )
    elif sum(weightings) != WEIGHTING_TOTAL:
        errors.add(
            "weighting",
            f"Weightings total {sum(weightings)}%; they must total exactly {WEIGHTING_TOTAL}% "
            "before the objectives can be agreed.",
        )
    errors.raise_if_any()

    with audit.acting_as(actor):
        if _sign(actor, appraisal, Document.OBJECTIVES, party, agrees, comment):
            appraisal.status = Status.OBJECTIVES_AGREED
            appraisal.objectives_agreed_at = clock.now()
            appraisal.objectives_agreed_by = _actor_staff(actor)
            appraisal.save()
    return appraisal


# Reviews ------------------------------------------------------------------------------


@transaction.atomic
def review_save(
    actor: Any,
    objective: Objective,
    *,
    kind: str,
    evidence: str | None = None,
    self_review: str | None = None,
    appraiser_comment: str | None = None,
    outcome: str | None = None,
) -> ObjectiveReview:
    """Write the mid-year or final review of one objective; None leaves a field as it is.

    The appraisee writes the self-review, the appraiser (or the academy's
    headteacher or trust HR) writes the comment and the outcome, and either
    may add evidence. Mid-year reviews are written while the objectives are
    agreed, final ones after the mid-year review, and only a final review
    has an outcome.
    """
    appraisal = _lock(objective.appraisal)
    if access.is_appraisee(actor, appraisal):
        if appraiser_comment is not None or outcome is not None:
            raise PermissionDenied("Only the appraiser writes the comment and the outcome.")
    elif access.can_manage(actor, appraisal):
        if self_review is not None:
            raise PermissionDenied("Only the appraisee writes the self-review.")
    else:
        raise PermissionDenied("Only the appraisee and those who manage the appraisal review it.")

    errors = _Errors()
    kinds = ", ".join(ObjectiveReview.Kind.values)
    if kind not in ObjectiveReview.Kind.values:
        raise ValidationError({"kind": [f"Review kind '{kind}' is not valid; use {kinds}."]})
    _check_open(appraisal, f"review_{kind}")

    if outcome:
        if kind != ObjectiveReview.Kind.FINAL:
            errors.add(
                "outcome",
                f"Outcome '{outcome}' cannot be recorded at the mid-year review; outcomes "
                "are recorded at the final review.",
            )
        elif outcome not in Outcome.values:
            errors.add(
                "outcome",
                f"Outcome '{outcome}' is not valid; use one of {', '.join(Outcome.values)}.",
            )
    errors.raise_if_any()

    review = ObjectiveReview.objects.filter(objective=objective, kind=kind).first()
    if review is None:
        review = ObjectiveReview(objective=objective, kind=kind)
    if evidence is not None:
        review.evidence = evidence.strip()
    if self_review is not None:
        review.self_review = self_review.strip()
    if appraiser_comment is not None:
        review.appraiser_comment = appraiser_comment.strip()
    if outcome is not None:
        review.outcome = outcome
    with audit.acting_as(actor):
        review.save()
    return review


@transaction.atomic
def mid_year_complete(actor: Any, appraisal: Appraisal, *, comment: str = "") -> Appraisal:
    """Record the mid-year review as done, dated now and by the actor."""
    appraisal = _lock(appraisal)
    _require_manager(actor, appraisal, "complete the mid-year review")
    _check_open(appraisal, "mid_year_complete")

    appraisal.status = Status.MID_YEAR_REVIEWED
    appraisal.mid_year_reviewed_at = clock.now()
    appraisal.mid_year_reviewed_by = _actor_staff(actor)
    appraisal.mid_year_comment = (comment or "").strip()
    with audit.acting_as(actor):
        appraisal.save()
    return appraisal


@transaction.atomic
def final_review_complete(
    actor: Any,
    appraisal: Appraisal,
    *,
    summary: str,
    pay_recommendation: str = "",
    development_needs: Sequence[str] = (),
) -> Appraisal:
    """Record the final review: the summary, any pay recommendation and the
    development needs found. Every objective needs a final outcome first.

    Blank development needs are skipped, so a form's empty rows add nothing.
    """
    appraisal = _lock(appraisal)
    _require_manager(actor, appraisal, "complete the final review")
    _check_open(appraisal, "final_review_complete")

    errors = _Errors()
    summary = _required_text(
        summary, "summary", "The overall summary is missing; enter some text.", errors
    )
    pay_recommendation = (pay_recommendation or "").strip()
    if pay_recommendation and not appraisal.cycle.uses_pay_recommendation:
        errors.add(
            "pay_recommendation",
            f"The {appraisal.cycle.academic_year.name} cycle does not use pay recommendations; "
            "leave this field empty.",
        )
    outcomes = dict(
        ObjectiveReview.objects.filter(
            objective__appraisal=appraisal, kind=ObjectiveReview.Kind.FINAL
        ).values_list("objective_id", "outcome")
    )
    missing = [
        objective.title
        for objective in appraisal.objectives.all()
        if not outcomes.get(objective.pk)
    ]
    if missing:
        names = "; ".join(f"'{title}'" for title in missing)
        errors.add(
            "objectives",
            f"These objectives have no final outcome: {names}. Record met, partly met, not "
            "met or not applicable for each.",
        )
    needs = []
    for index, need in enumerate(development_needs):
        text = need.strip() if isinstance(need, str) else ""
        if not text:
            continue
        if len(text) > NEED_MAX_LENGTH:
            errors.add(
                f"development_needs.{index}",
                f"Development need {index + 1} is {len(text)} characters long; shorten it to "
                f"{NEED_MAX_LENGTH} or fewer.",
            )
        needs.append(text)
    errors.raise_if_any()

    appraisal.status = Status.FINAL_REVIEWED
    appraisal.final_reviewed_at = clock.now()
    appraisal.final_reviewed_by = _actor_staff(actor)
    appraisal.summary = summary
    appraisal.pay_recommendation = pay_recommendation
    with audit.acting_as(actor):
        appraisal.save()
        for text in needs:
            DevelopmentNeed.objects.create(appraisal=appraisal, description=text)
    return appraisal


@transaction.atomic
def final_sign(
    actor: Any, appraisal: Appraisal, *, agrees: bool = True, comment: str = ""
) -> Appraisal:
    """Sign the final review as the appraisee or the appraiser.

    Once both have signed, the appraisal is signed off, dated now and by the
    second signer, and can only be annotated from then on.
    """
    appraisal = _lock(appraisal)
    party = _signing_party(actor, appraisal)
    _check_open(appraisal, "final_sign")

    errors = _Errors()
    comment = _check_signature_input(party, agrees, comment, errors)
    errors.raise_if_any()

    with audit.acting_as(actor):
        if _sign(actor, appraisal, Document.FINAL_REVIEW, party, agrees, comment):
            appraisal.status = Status.SIGNED_OFF
            appraisal.signed_off_at = clock.now()
            appraisal.signed_off_by = _actor_staff(actor)
            appraisal.save()
    return appraisal


@transaction.atomic
def annotation_add(actor: Any, appraisal: Appraisal, *, text: str) -> Annotation:
    """Add a note to a signed-off appraisal, by its appraisee, its appraiser,
    the academy's headteacher or trust HR."""
    appraisal = _lock(appraisal)
    if not (access.is_appraisee(actor, appraisal) or access.can_manage(actor, appraisal)):
        raise PermissionDenied(
            "Only the appraisee, the appraiser, the academy's headteacher and trust HR "
            "annotate an appraisal."
        )
    author = _actor_staff(actor)
    if author is None:
        raise PermissionDenied("Annotations are signed by a member of staff; log in as one.")
    _check_open(appraisal, "annotation_add")
    errors = _Errors()
    text = _required_text(text, "text", "The annotation is missing; enter some text.", errors)
    errors.raise_if_any()

    with audit.acting_as(actor):
        return Annotation.objects.create(appraisal=appraisal, author=author, text=text)
