"""Requests for report runs: checks, the run record and its Celery task.

request_report() is what the pages and the API call. It checks the kind and
its parameters, raising ValidationError({field: [message]}) with a message
that names the field, the value and what is allowed. Then
reports.access.can_request decides whether the user may request that
report, and PermissionDenied is raised if not. The run is recorded and its
task queued once the record commits, so a worker never looks for a run that
is not there yet.

schedule_intervention_reports() and schedule_governance_report() are the
writes behind the celery beat tasks in reports.tasks.
"""

import datetime
import logging
import uuid
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from academies.models import AcademicYear, Academy, Term, YearGroup
from pupils.models import Enrolment, active_on
from trust import clock
from trust.api import MAX_ID, describe_choices

from .access import can_request
from .models import ReportRun

logger = logging.getLogger(__name__)

# A term's governance report is still queued this many days after the term's
# last school day, so a beat that was down over a weekend catches up.
GOVERNANCE_CATCH_UP_DAYS = 7

KIND_LABELS = dict(ReportRun.Kind.choices)


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _id_value(field: str, value: Any, noun: str) -> int | None:
    """Return `value` as a database id, or None when it is empty."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit():
        raise _invalid(
            field,
            f"{str(value)[:40]!r} is not a valid {noun} id. Allowed values: a whole number "
            f"from 1, the id of {'an' if noun[0] in 'aeiou' else 'a'} {noun}.",
        )
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise _invalid(
            field,
            f"{number} is not a valid {noun} id. Allowed values: a whole number from 1 to "
            f"{MAX_ID}.",
        )
    return number


def _check_kind(kind: Any) -> str:
    if kind in KIND_LABELS:
        return str(kind)
    shown = "nothing" if kind in (None, "") else repr(str(kind)[:40])
    raise _invalid(
        "kind",
        f"{shown} is not a report kind. Allowed values: "
        f"{describe_choices(ReportRun.Kind.choices)}.",
    )


def _check_as_of(as_of: datetime.date | None) -> datetime.date:
    """Return the report's date: today when none is given, else a past day of a
    recorded academic year."""
    today = clock.today()
    if as_of is None:
        return today
    if as_of > today:
        raise _invalid(
            "as_of",
            f"{as_of:%d/%m/%Y} is in the future. Allowed values: today "
            f"({today:%d/%m/%Y}) or an earlier day.",
        )
    years = AcademicYear.objects.filter(start_date__lte=as_of, end_date__gte=as_of)
    if not years.exists():
        recorded = list(AcademicYear.objects.order_by("start_date").values_list("start_year"))
        allowed = (
            f"a day of the academic years recorded ({recorded[0][0]}/"
            f"{(recorded[0][0] + 1) % 100:02d} to {recorded[-1][0]}/"
            f"{(recorded[-1][0] + 1) % 100:02d})"
            if recorded
            else "a day of a recorded academic year (none is recorded yet)"
        )
        raise _invalid(
            "as_of",
            f"{as_of:%d/%m/%Y} is outside every academic year the trust has recorded. "
            f"Allowed values: {allowed}.",
        )
    return as_of


def _find_academy(pk: int | None) -> Academy | None:
    if pk is None:
        return None
    academy = Academy.objects.filter(pk=pk).first()
    if academy is None:
        raise _invalid(
            "academy", f"Academy {pk} was not found. Send the id of an existing academy."
        )
    return academy


def _find_year_group(pk: int | None) -> YearGroup | None:
    if pk is None:
        return None
    year_group = YearGroup.objects.select_related("academy").filter(pk=pk).first()
    if year_group is None:
        raise _invalid(
            "year_group", f"Year group {pk} was not found. Send the id of an existing year group."
        )
    return year_group


def _check_scope(
    kind: str, academy: Academy | None, year_group: YearGroup | None
) -> tuple[Academy | None, YearGroup | None]:
    """Check that the academy and year group given suit the kind, and return the
    academy the run is filed under with its year group."""
    label = KIND_LABELS[kind]
    if kind == ReportRun.Kind.GOVERNANCE:
        if academy is not None:
            raise _invalid(
                "academy",
                f"A governance report covers the whole trust, so it takes no academy "
                f"(got {academy.pk}). Leave academy empty.",
            )
        if year_group is not None:
            raise _invalid(
                "year_group",
                f"A governance report covers the whole trust, so it takes no year group "
                f"(got {year_group.pk}). Leave year group empty.",
            )
        return None, None
    if year_group is not None:
        if academy is not None and year_group.academy_id != academy.pk:
            raise _invalid(
                "year_group",
                f"Year group {year_group.pk} ({year_group.name}) belongs to "
                f"{year_group.academy.name}, not to academy {academy.pk} ({academy.name}). "
                "Send a year group of that academy, or leave academy empty.",
            )
        return year_group.academy, year_group
    if kind == ReportRun.Kind.PARENT_LETTERS:
        raise _invalid(
            "year_group",
            f"{label} are printed for one year group, and none was given. "
            "Send the id of a year group.",
        )
    if academy is None:
        raise _invalid(
            "academy",
            f"An {label.lower()} is for one academy or one year group, and neither was "
            "given. Send an academy id or a year group id.",
        )
    return academy, None


def _describe_target(kind: str, academy: Academy | None, year_group: YearGroup | None) -> str:
    if year_group is not None:
        return f"{year_group.name}, {year_group.academy.name}"
    if academy is not None:
        return academy.name
    return "the trust"


def request_report(
    *,
    user: Any,
    kind: Any,
    academy_id: Any = None,
    year_group_id: Any = None,
    as_of: datetime.date | None = None,
) -> ReportRun:
    """Record a report run requested by `user` and queue its task.

    Raises ValidationError naming the field for a bad kind, id or date, and
    PermissionDenied when `user` may not request that report. `as_of`
    defaults to today; the worker renders the report as of that day
    whenever it runs.
    """
    checked_kind = _check_kind(kind)
    academy = _find_academy(_id_value("academy", academy_id, "academy"))
    year_group = _find_year_group(_id_value("year_group", year_group_id, "year group"))
    academy, year_group = _check_scope(checked_kind, academy, year_group)
    day = _check_as_of(as_of)
    if not can_request(user, checked_kind, academy, year_group):
        raise PermissionDenied(
            f"You may not request the {KIND_LABELS[checked_kind].lower()} for "
            f"{_describe_target(checked_kind, academy, year_group)}."
        )
    params: dict[str, Any] = {"as_of": day.isoformat()}
    if academy is not None:
        params["academy"] = academy.pk
    if year_group is not None:
        params["year_group"] = year_group.pk
    run = ReportRun.objects.create(
        kind=checked_kind,
        params=params,
        academy=academy,
        year_group_id=year_group.pk if year_group else None,
        as_of=day,
        requested_by=user,
        scheduled=False,
        task_id=str(uuid.uuid4()),
    )
    logger.info(
        "Report run %s (%s) requested by user %s for %s",
        run.pk,
        checked_kind,
        user.pk,
        _describe_target(checked_kind, academy, year_group),
    )
    _queue_on_commit(run)
    return run


def _queue_on_commit(run: ReportRun) -> None:
    transaction.on_commit(partial(enqueue_report, run.pk, run.task_id))


def enqueue_report(run_id: int, task_id: str) -> None:
    """Send the task of run `run_id`, or mark the run failed when the broker is unavailable."""
    from .tasks import generate_report

    try:
        generate_report.apply_async((run_id,), task_id=task_id)
    except BrokerUnavailable as error:
        logger.error("Report run %s could not be queued: %s", run_id, error)
        ReportRun.objects.filter(pk=run_id, status=ReportRun.Status.QUEUED).update(
            status=ReportRun.Status.FAILED,
            error=(
                "The report could not be queued because the task broker is unavailable. "
                "Request it again later."
            ),
            finished_at=timezone.now(),
        )


# Scheduled runs ---------------------------------------------------------------------


def academies_with_pupils(day: datetime.date) -> list[Academy]:
    """Return the academies with at least one pupil on roll on `day`, by name."""
    on_roll = Enrolment.objects.filter(active_on(day)).values("academy_id")
    return list(Academy.objects.filter(pk__in=on_roll).order_by("name"))


def schedule_intervention_reports(day: datetime.date) -> list[ReportRun]:
    """Queue the weekly intervention report of each academy with pupils, as of `day`.

    An academy that already has a scheduled intervention run for `day` gets
    no second one, so a beat message delivered twice queues each report once.
    """
    created = []
    with transaction.atomic():
        # The row locks make a second delivery wait, then find the runs made here.
        academies = list(
            Academy.objects.select_for_update().filter(
                pk__in=[a.pk for a in academies_with_pupils(day)]
            )
        )
        done = set(
            ReportRun.objects.filter(
                kind=ReportRun.Kind.INTERVENTION, scheduled=True, as_of=day
            ).values_list("academy_id", flat=True)
        )
        for academy in sorted(academies, key=lambda a: a.name):
            if academy.pk in done:
                continue
            run = ReportRun.objects.create(
                kind=ReportRun.Kind.INTERVENTION,
                params={"academy": academy.pk, "as_of": day.isoformat()},
                academy=academy,
                as_of=day,
                scheduled=True,
                task_id=str(uuid.uuid4()),
            )
            _queue_on_commit(run)
            created.append(run)
    logger.info(
        "Queued %s weekly intervention reports as of %s (%s academies already had one)",
        len(created),
        day,
        len(done),
    )
    return created


def last_school_day(term: Term) -> datetime.date:
    """Return the last weekday of `term`: its end date, or the Friday before a
    term that ends at a weekend."""
    day = term.end_date
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


def terms_just_ended(day: datetime.date) -> list[Term]:
    """Return the terms (not half terms) whose last school day was before `day`
    and at most GOVERNANCE_CATCH_UP_DAYS days before it, oldest first."""
    # A term's last school day is at most two days before its end date.
    candidates = Term.objects.filter(
        parent__isnull=True,
        end_date__gte=day - datetime.timedelta(days=GOVERNANCE_CATCH_UP_DAYS),
        end_date__lte=day + datetime.timedelta(days=2),
    ).select_related("academic_year")
    ended = []
    for term in candidates:
        last = last_school_day(term)
        if last < day <= last + datetime.timedelta(days=GOVERNANCE_CATCH_UP_DAYS):
            ended.append(term)
    return sorted(ended, key=lambda term: term.end_date)


def schedule_governance_report(day: datetime.date) -> list[ReportRun]:
    """Queue the termly governance report of each term that has just ended.

    Runs every day. A term whose last school day was yesterday, or a few days
    before when beat was down, gets its report as of that last school day,
    once: a scheduled governance run with the term's id in its params stops
    a second.
    """
    created = []
    for term in terms_just_ended(day):
        with transaction.atomic():
            # Locking the term makes a second delivery wait, then find the run.
            Term.objects.select_for_update().filter(pk=term.pk).first()
            exists = ReportRun.objects.filter(
                kind=ReportRun.Kind.GOVERNANCE, scheduled=True, params__term=term.pk
            ).exists()
            if exists:
                continue
            as_of = last_school_day(term)
            run = ReportRun.objects.create(
                kind=ReportRun.Kind.GOVERNANCE,
                params={"term": term.pk, "as_of": as_of.isoformat()},
                as_of=as_of,
                scheduled=True,
                task_id=str(uuid.uuid4()),
            )
            _queue_on_commit(run)
            created.append(run)
            logger.info(
                "Queued the governance report for %s %s as of %s",
                term.name,
                term.academic_year.name,
                as_of,
            )
    return created
