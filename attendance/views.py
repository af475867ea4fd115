"""Register pages: the list of registers, taking and correcting a register,
cover, and the head of year's morning view."""

import datetime
import logging
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from academies.models import TutorGroup
from academies.selectors import visible_tutor_groups
from behaviour.suspensions import suspension_marks_write
from pupils.selectors import visible_pupils
from staff.models import Role
from trust import clock
from trust.access import scope_for
from trust.params import InvalidParameter, handles_invalid_parameters, text_parameter_preview

from .access import (
    can_assign_cover,
    can_correct_marks,
    can_take_register,
    cover_for,
    register_academy_ids,
    registers_visible,
)
from .codes import CATEGORY_LABELS, codes_in_force
from .forms import EnteredMark, FirstDayCallForm, RegisterCoverForm, read_register
from .registers import (
    RegisterView,
    covers_on,
    is_weekend,
    morning_view,
    present_code,
    register_for,
    registers_on,
)
from .services import SaveResult, marks_save

logger = logging.getLogger(__name__)

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
UK_DATE = re.compile(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}")


def parse_day(name: str, raw: str) -> datetime.date:
    """Read a date typed as dd/mm/yyyy or yyyy-mm-dd, as a calendar day with no time zone."""
    text = raw.strip()
    try:
        if ISO_DATE.fullmatch(text):
            return datetime.date.fromisoformat(text)
        if UK_DATE.fullmatch(text):
            day, month, year = (int(part) for part in text.split("/"))
            return datetime.date(year, month, day)
    except ValueError:
        pass
    raise InvalidParameter(
        name, text_parameter_preview(text), "it must be a real date written dd/mm/yyyy"
    )


def parse_session(raw: str) -> str:
    if raw not in ("AM", "PM"):
        raise InvalidParameter("session", text_parameter_preview(raw), "it must be AM or PM")
    return raw


def code_key(day: datetime.date) -> list[dict[str, str]]:
    """Return the codes in force on `day` with the CSS class of each category."""
    return [
        {
            "code": c.code,
            "meaning": c.meaning,
            "label": CATEGORY_LABELS[c.category],
            "css": "cat-" + c.category.value.replace("_", "-"),
        }
        for c in codes_in_force(day)
    ]


def register_url(group_id: int, day: datetime.date, session: str) -> str:
    return reverse("attendance:register", args=[group_id, day.isoformat(), session])


@login_required
@handles_invalid_parameters
def register_list(request: HttpRequest) -> HttpResponse:
    """List the registers of the user's scope on a date (today by default)."""
    raw = request.GET.get("date", "").strip()
    day = parse_day("date", raw) if raw else clock.today()
    statuses = registers_on(request.user, day)
    return render(
        request,
        "attendance/register_list.html",
        {
            "page_title": f"Registers on {day:%d/%m/%Y}",
            "day": day,
            "statuses": statuses,
            "weekend": is_weekend(day),
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1),
        },
    )


def _open_register(
    request: HttpRequest, tutor_group_id: int, day: datetime.date, session: str
) -> tuple[TutorGroup, bool]:
    """Return the tutor group, and whether the user only reaches it as cover.
    Raise Http404 for a register outside the user's scope."""
    group = registers_visible(request.user, day).filter(pk=tutor_group_id).first()
    if group is None:
        raise Http404("No register found.")
    in_scope = visible_tutor_groups(request.user).filter(pk=group.pk).exists()
    if in_scope:
        return group, False
    if cover_for(request.user, group, day, session):
        return group, True
    raise Http404("No register found.")


def _render_register(
    request: HttpRequest,
    view: RegisterView,
    *,
    entered: dict[int, EnteredMark] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflicts: list[dict[str, Any]] | None = None,
    reason: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    group = view.tutor_group
    errors = errors or {}
    rows = []
    for row in view.rows:
        typed = (entered or {}).get(row.pupil.pk)
        if typed is None:
            mark = row.mark
            typed = EnteredMark(
                code=mark.code if mark else "",
                minutes=str(mark.minutes_late) if mark and mark.minutes_late else "",
                comment=mark.comment if mark else "",
                seen=str(mark.version) if mark else "",
            )
        rows.append({"row": row, "typed": typed, "errors": errors.get(f"pupil_{row.pupil.pk}", [])})
    general = [m for key, values in errors.items() if not key.startswith("pupil_") for m in values]
    pupils_with_errors = sum(1 for key in errors if key.startswith("pupil_"))
    if pupils_with_errors:
        # Row messages can sit below the fold in a large group, so the top of
        # the page says that nothing was saved and why.
        noun = "pupil has" if pupils_with_errors == 1 else "pupils have"
        general.insert(
            0,
            f"The register was not saved: {pupils_with_errors} {noun} a mark to fix, "
            "shown beside each name below. No mark was written.",
        )
    can_take = can_take_register(user, group, view.day, view.session)
    return render(
        request,
        "attendance/register.html",
        {
            "page_title": f"{group.name} register, {view.day:%d/%m/%Y} {view.session}",
            "view": view,
            "rows": rows,
            "general_errors": general,
            "conflicts": conflicts or [],
            "reason": reason,
            "can_take": can_take and not view.closure and not is_weekend(view.day),
            "can_correct": can_correct_marks(user, group.academy_id, group.year_group_id),
            "can_assign_cover": can_assign_cover(user, group),
            "covers": covers_on(view.day, group),
            "weekend": is_weekend(view.day),
            "codes": codes_in_force(view.day),
            "code_key": code_key(view.day),
            "present_code": present_code(view.session),
            "session_name": "morning" if view.session == "AM" else "afternoon",
        },
        status=status,
    )


@login_required
@handles_invalid_parameters
def register(request: HttpRequest, tutor_group_id: int, day: str, session: str) -> HttpResponse:
    """Show one register, or save it: one POST writes every pupil's mark."""
    date = parse_day("date", day)
    session = parse_session(session)
    group, covering = _open_register(request, tutor_group_id, date, session)
    if request.method != "POST":
        suspension_marks_write(start=date, up_to=date, academy_id=group.academy_id)
    view = register_for(request.user, group, date, session, covering=covering)
    if request.method != "POST":
        return _render_register(request, view)

    if not can_take_register(request.user, group, date, session):
        raise PermissionDenied("You may read this register but not take it.")
    if "fill_present" in request.POST:
        # Without JavaScript, "All present" fills the blank codes and shows the
        # form again, so the exceptions can be typed before saving.
        submission = read_register(request.POST, [r.pupil for r in view.rows])
        for typed in submission.entered.values():
            if not typed.code:
                typed.code = present_code(session)
        return _render_register(request, view, entered=submission.entered, reason=submission.reason)
    if is_weekend(date):
        return _render_register(
            request,
            view,
            errors={
                "date": [f"{date:%d/%m/%Y} is a {date:%A}; registers are taken on school days."]
            },
            status=400,
        )
    return _save_register(request, view)


def _save_register(request: HttpRequest, view: RegisterView) -> HttpResponse:
    group = view.tutor_group
    resolving = request.POST.get("resolve") == "1"
    submission = read_register(request.POST, [r.pupil for r in view.rows], resolving=resolving)
    if submission.errors:
        return _render_register(
            request,
            view,
            entered=submission.entered,
            errors=submission.errors,
            reason=submission.reason,
            status=400,
        )
    if resolving and not submission.marks:
        messages.success(request, "Their marks were kept; nothing else changed.")
        return redirect(register_url(group.pk, view.day, view.session))
    if not submission.marks:
        return _render_register(
            request,
            view,
            entered=submission.entered,
            errors={
                "register": [
                    "No marks were entered. Type a code for each pupil, or use "
                    "All present and then type the exceptions."
                ]
            },
            status=400,
        )
    reason = submission.reason
    if resolving and not reason:
        reason = "Chosen over a mark saved by someone else while the register was open"
    try:
        result = marks_save(
            actor=request.user,
            day=view.day,
            session=view.session,
            marks=submission.marks,
            tutor_group=group,
            can_correct=can_correct_marks(request.user, group.academy_id, group.year_group_id),
            reason=reason,
            overwrite=resolving,
        )
    except ValidationError as error:
        logger.info(
            "register save rejected tutor_group=%s date=%s session=%s user=%s: %s",
            group.pk,
            view.day,
            view.session,
            request.user.pk,
            error.messages,
        )
        errors = (
            error.message_dict if hasattr(error, "error_dict") else {"register": error.messages}
        )
        return _render_register(
            request,
            view,
            entered=submission.entered,
            errors=errors,
            reason=submission.reason,
            status=400,
        )

    summary = _saved_summary(result, submission.blank if not resolving else 0)
    if result.conflicts:
        fresh = register_for(
            request.user, group, view.day, view.session, covering=_is_cover_only(request, group)
        )
        names = {r.pupil.pk: r.pupil.display_name for r in fresh.rows}
        conflicts = [
            {
                "conflict": c,
                "name": names.get(c.pupil_id, f"Pupil {c.pupil_id}"),
                "typed": submission.entered[c.pupil_id],
                "changed_at": timezone.localtime(c.changed_at),
            }
            for c in result.conflicts
        ]
        messages.warning(request, summary)
        return _render_register(request, fresh, conflicts=conflicts, status=409)
    messages.success(request, summary)
    return redirect(register_url(group.pk, view.day, view.session))


def _is_cover_only(request: HttpRequest, group: TutorGroup) -> bool:
    return not visible_tutor_groups(request.user).filter(pk=group.pk).exists()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _saved_summary(result: SaveResult, blank: int) -> str:
    parts = [f"{_plural(result.saved, 'mark')} saved", f"{result.unchanged} unchanged"]
    if result.conflicts:
        parts.append(f"{result.conflicts.__len__()} changed by someone else since you opened it")
    if blank:
        parts.append(f"{blank} not yet marked")
    return ", ".join(parts) + "."


@login_required
@handles_invalid_parameters
def register_cover(request: HttpRequest, tutor_group_id: int, day: str) -> HttpResponse:
    """Assign a teacher to take a group's registers on one date."""
    date = parse_day("date", day)
    group = get_object_or_404(
        visible_tutor_groups(request.user).filter(
            academic_year__start_date__lte=date, academic_year__end_date__gte=date
        ),
        pk=tutor_group_id,
    )
    if not can_assign_cover(request.user, group):
        raise PermissionDenied("Only heads of year, attendance officers and leaders assign cover.")
    form = RegisterCoverForm(request.POST or None, academy_id=group.academy_id)
    if request.method == "POST" and form.is_valid():
        cover = form.save_cover(tutor_group=group, day=date, actor=request.user)
        messages.success(
            request,
            f"{cover.staff} will take {group.name}'s {cover.get_sessions_display().lower()} "
            f"register on {date:%d/%m/%Y}.",
        )
        return redirect(register_url(group.pk, date, "AM"))
    return render(
        request,
        "attendance/register_cover.html",
        {
            "page_title": f"Cover for {group.name} on {date:%d/%m/%Y}",
            "tutor_group": group,
            "day": date,
            "form": form,
            "covers": covers_on(date, group),
        },
        status=400 if request.method == "POST" else 200,
    )


def morning_year_group_ids(user: Any) -> list[int]:
    """Return the year groups whose morning view `user` sees: those they head."""
    scope = scope_for(user)
    if not scope.has_role(Role.HEAD_OF_YEAR):
        return []
    return sorted(scope.year_group_ids)


def morning_context(user: Any) -> dict[str, Any]:
    ids = morning_year_group_ids(user)
    return {
        "morning": morning_view(user, ids) if ids else None,
        "call_form": FirstDayCallForm(),
    }


@login_required
def morning(request: HttpRequest) -> HttpResponse:
    """Show the head of year's morning: registers not taken, pupils marked N
    and the first-day calls logged today."""
    context = morning_context(request.user)
    context["page_title"] = "This morning's attendance"
    return render(request, "attendance/morning.html", context)


@login_required
@require_POST
def call_log(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Log a first-day call about a pupil absent today."""
    day = clock.today()
    pupil = get_object_or_404(visible_pupils(request.user, day), pk=pupil_id)
    scope = scope_for(request.user)
    if not (scope.has_role(Role.HEAD_OF_YEAR) or register_academy_ids(request.user)):
        raise PermissionDenied("Only heads of year and attendance staff log first-day calls.")
    form = FirstDayCallForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("attendance:morning")
    if not form.is_valid():
        context = morning_context(request.user)
        context.update(
            page_title="This morning's attendance",
            call_form=form,
            call_pupil=pupil,
        )
        return render(request, "attendance/morning.html", context, status=400)
    form.save_call(pupil=pupil, day=day, actor=request.user)
    messages.success(request, f"Call about {pupil.display_name} logged.")
    return redirect(back or reverse("attendance:morning"))
