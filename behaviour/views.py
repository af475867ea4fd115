"""Pages for logging behaviour: the log form, one incident, and points for a
whole tutor group. Every write goes through behaviour.services."""

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from academies.models import Academy, TutorGroup
from academies.selectors import visible_tutor_groups
from progress.access import visible_teaching_groups
from progress.models import ClassMembership, TeachingGroup
from pupils.models import Enrolment, Pupil, active_on
from staff.models import StaffMember
from trust import clock
from trust.access import scope_for
from trust.models import AuditEvent
from trust.params import InvalidParameter, handles_invalid_parameters, id_parameter
from trust.selectors import summarised_audit_rows

from . import access, services
from .forms import (
    AttendedForm,
    CorrectionForm,
    DeleteForm,
    GroupPointsForm,
    IncidentLogForm,
    PupilRow,
    category_choices,
    place_service_errors,
    read_pupil_rows,
    staff_choices,
)
from .models import Action, BehaviourCategory, Incident, IncidentPupil, PupilRole

AUDIT_PAGE_SIZE = 50


def _pupil_ids_parameter(request: HttpRequest) -> list[int]:
    """Read ?pupils=1,2,3 into ids; a malformed list gives the 400 page."""
    raw = request.GET.get("pupils", "").strip()
    if not raw:
        return []
    ids = []
    for part in raw.split(","):
        part = part.strip()
        if not part.isascii() or not part.isdigit() or len(part) > 12 or int(part) == 0:
            raise InvalidParameter(
                "pupils", raw[:40], "it must be pupil numbers separated by commas, such as 12,15"
            )
        ids.append(int(part))
    return ids


def _roll(user: Any, day: datetime.date, academy: Academy) -> list[Enrolment]:
    """Return the enrolments on `day` at `academy` of the pupils `user` may log for."""
    return list(
        Enrolment.objects.filter(
            active_on(day), academy=academy, pupil__in=access.loggable_pupils(user, day)
        )
        .select_related("pupil", "tutor_group", "year_group")
        .order_by(
            "year_group__nc_year",
            "tutor_group__name",
            "pupil__legal_surname",
            "pupil__legal_forename",
            "pupil_id",
        )
    )


def _picker_rows(roll: list[Enrolment]) -> list[PupilRow]:
    seen: set[int] = set()
    rows = []
    for enrolment in roll:
        if enrolment.pupil_id in seen:
            continue
        seen.add(enrolment.pupil_id)
        group = enrolment.tutor_group.name if enrolment.tutor_group else "No tutor group"
        rows.append(
            PupilRow(
                pupil_id=enrolment.pupil_id,
                name=enrolment.pupil.display_name,
                group=f"{group} ({enrolment.year_group.name})",
            )
        )
    return rows


def _grouped(rows: list[PupilRow]) -> list[dict[str, Any]]:
    groups: dict[str, list[PupilRow]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    return [
        {
            "name": name,
            "rows": members,
            "open": any(r.selected or r.errors for r in members),
            "selected": sum(1 for r in members if r.selected),
        }
        for name, members in groups.items()
    ]


def _log_academies(user: Any, day: datetime.date) -> list[Academy]:
    """Return the academies with pupils on roll today whom `user` may log for."""
    ids = Enrolment.objects.filter(
        active_on(day), pupil__in=access.loggable_pupils(user, day)
    ).values("academy_id")
    return list(Academy.objects.filter(pk__in=ids).select_related("trust").order_by("name"))


def _choose_academy(
    request: HttpRequest, academies: list[Academy], preselected: set[int], day: datetime.date
) -> Academy:
    by_id = {academy.pk: academy for academy in academies}
    requested = request.POST.get("academy") if request.method == "POST" else None
    if requested is None:
        from_query = id_parameter(request, "academy")
        requested = str(from_query) if from_query else None
    if requested is not None:
        if not requested.isdigit() or int(requested) not in by_id:
            raise Http404("No academy matches the given query.")
        return by_id[int(requested)]
    if preselected:
        first = (
            Enrolment.objects.filter(active_on(day), pupil_id__in=preselected, academy_id__in=by_id)
            .values_list("academy_id", flat=True)
            .first()
        )
        if first is not None:
            return by_id[first]
    staff_academy = (
        StaffMember.objects.filter(pk=_staff_id_of(request.user) or 0)
        .values_list("academy_id", flat=True)
        .first()
    )
    if staff_academy in by_id:
        return by_id[staff_academy]
    return academies[0]


def _preselected_ids(request: HttpRequest, day: datetime.date) -> set[int]:
    """Return the pupils named by ?pupils= or ?tutor_group=; 404 for any out of scope."""
    ids = set(_pupil_ids_parameter(request))
    loggable = access.loggable_pupils(request.user, day)
    if ids and loggable.filter(pk__in=ids).count() != len(ids):
        raise Http404("No pupil matches the given query.")
    group_id = id_parameter(request, "tutor_group")
    if group_id is not None:
        group = get_object_or_404(visible_tutor_groups(request.user), pk=group_id)
        ids.update(
            Enrolment.objects.filter(
                active_on(day), tutor_group=group, pupil__in=loggable
            ).values_list("pupil_id", flat=True)
        )
    return ids


def _saved_summary(request: HttpRequest) -> dict[str, Any] | None:
    saved = id_parameter(request, "saved")
    if saved is None:
        return None
    incident = (
        access.visible_incidents(request.user)
        .select_related("category", "academy", "reported_by")
        .filter(pk=saved)
        .first()
    )
    if incident is None:
        return None
    links = list(
        access.visible_links(request.user)
        .filter(incident=incident)
        .select_related("pupil")
        .order_by("pupil__legal_surname", "pupil__legal_forename")
    )
    actions = list(
        incident.actions.filter(pupil_id__in=[link.pupil_id for link in links])
        .select_related("pupil", "referred_to")
        .order_by("kind", "pupil__legal_surname")
    )
    return {"incident": incident, "links": links, "actions": actions}


def _staff_id_of(user: Any) -> int | None:
    return scope_for(user).staff_id


@login_required
@handles_invalid_parameters
def incident_log(request: HttpRequest) -> HttpResponse:
    """Log one incident for one or more pupils, with its actions, in one form."""
    now = clock.now()
    today = now.date()
    academies = _log_academies(request.user, today)
    if not academies:
        raise PermissionDenied("You have no pupils in your scope to log behaviour for.")
    preselected = _preselected_ids(request, today) if request.method == "GET" else set()
    academy = _choose_academy(request, academies, preselected, today)
    rows = _picker_rows(_roll(request.user, today, academy))
    staff = staff_choices(academy.trust_id, today)
    categories = category_choices(academy, today)
    pupil_errors: list[str] = []

    if request.method == "POST":
        form = IncidentLogForm(request.POST, categories=categories, staff=staff)
        selection = read_pupil_rows(request.POST, rows)
        pupil_errors.extend(selection.errors)
        row_errors = any(row.errors for row in rows)
        if form.is_valid() and not selection.errors and not row_errors:
            actions = form.actions()
            try:
                incident = services.incident_log(
                    actor=request.user,
                    academy_id=academy.pk,
                    occurred_at=form.occurred_at(),
                    category_id=int(form.cleaned_data["category"]),
                    pupils=selection.entries,
                    reported_by_id=int(form.cleaned_data["reported_by"]),
                    location=form.cleaned_data["location"],
                    lesson=form.cleaned_data["lesson"],
                    subject=form.cleaned_data["subject"],
                    description=form.cleaned_data["description"],
                    sensitive=True if form.cleaned_data["sensitive"] else None,
                    sensitive_kind=form.cleaned_data["sensitive_kind"],
                    actions=actions,
                    follow_up=form.follow_up(),
                )
            except ValidationError as error:
                pupil_errors.extend(
                    place_service_errors(
                        form, error, actions=actions, entries=selection.entries, rows=rows
                    )
                )
            else:
                count = incident.pupil_links.count()
                messages.success(
                    request,
                    f"Incident saved for {count} pupil{'s' if count != 1 else ''}.",
                )
                return redirect(f"{reverse('behaviour:incident-log')}?saved={incident.pk}")
    else:
        for row in rows:
            row.selected = row.pupil_id in preselected
        form = IncidentLogForm(
            categories=categories,
            staff=staff,
            initial={
                "occurred_date": today.strftime("%d/%m/%Y"),
                "occurred_time": now.strftime("%H:%M"),
                "reported_by": str(_staff_id_of(request.user) or ""),
            },
        )
    form.link_descriptions()
    return render(
        request,
        "behaviour/incident_log.html",
        {
            "page_title": "Log behaviour",
            "form": form,
            "academy": academy,
            "academies": academies,
            "groups": _grouped(rows),
            "selected_count": sum(1 for row in rows if row.selected),
            "pupil_errors": pupil_errors,
            "row_errors": [(row.pupil_id, message) for row in rows for message in row.errors],
            "roles": PupilRole.choices,
            "saved": _saved_summary(request) if request.method == "GET" else None,
        },
    )


# One incident -----------------------------------------------------------------


def _incident_audit(incident: Incident, link_ids: list[int], action_ids: list[int]) -> Any:
    follow_up_ids = [str(pk) for pk in incident.follow_ups.values_list("pk", flat=True)]
    return (
        AuditEvent.objects.filter(
            Q(model="behaviour.Incident", object_id=str(incident.pk))
            | Q(model="behaviour.IncidentPupil", object_id__in=[str(pk) for pk in link_ids])
            | Q(model="behaviour.Action", object_id__in=[str(pk) for pk in action_ids])
            | Q(model="behaviour.FollowUp", object_id__in=follow_up_ids)
        )
        .select_related("actor")
        .order_by("-at", "-pk")
    )


# Fields the incident page's audit trail leaves out. They are copied from the
# incident or its category when saved, or name the incident the page shows.
_AUDIT_HIDDEN_FIELDS = {
    "behaviour.Incident": ["academic_year", "date", "trust_category", "polarity"],
    "behaviour.IncidentPupil": [
        "incident",
        "academy",
        "academic_year",
        "year_group",
        "tutor_group",
        "trust_category",
        "polarity",
        "date",
    ],
    "behaviour.Action": ["incident"],
    "behaviour.FollowUp": ["incident"],
}


def _user_name(user: Any) -> str:
    return str(user.get_full_name() or user.username)


# Models whose rows the audit trail shows by name. Each model costs one query
# per page of events.
_AUDIT_NAMERS: dict[Any, Any] = {
    BehaviourCategory: lambda category: category.name,
    StaffMember: lambda member: member.full_name,
    Pupil: lambda pupil: pupil.display_name,
    Academy: lambda academy: academy.name,
    get_user_model(): _user_name,
}


def _incident_audit_rows(events: Any) -> list[Any]:
    return summarised_audit_rows(events, hidden_fields=_AUDIT_HIDDEN_FIELDS, namers=_AUDIT_NAMERS)


def _correction_initial(incident: Incident) -> dict[str, Any]:
    local = incident.occurred_at.astimezone(clock.LONDON)
    return {
        "occurred_date": local.strftime("%d/%m/%Y"),
        "occurred_time": local.strftime("%H:%M"),
        "category": str(incident.category_id),
        "location": incident.location,
        "lesson": incident.lesson,
        "subject": incident.subject,
        "description": incident.description,
        "sensitive": incident.sensitive,
        "sensitive_kind": incident.sensitive_kind,
        "seen_version": incident.version,
    }


def _handle_post(
    request: HttpRequest,
    incident: Incident,
    forms_by_name: dict[str, Any],
    categories: list,
    correctable: list[tuple[int, str]],
) -> HttpResponse | None:
    """Run the form posted to the incident page; return a redirect when it saved."""
    form_name = request.POST.get("form", "")
    detail_url = reverse("behaviour:incident-detail", args=[incident.pk])
    if form_name == "correct":
        if not access.can_correct(request.user, incident):
            raise PermissionDenied("You may not correct this incident.")
        form: Any = CorrectionForm(request.POST, categories=categories, pupils=correctable)
        forms_by_name["correct"] = form
        if form.is_valid():
            changes = form.changes()
            try:
                services.incident_update(
                    actor=request.user,
                    incident=incident,
                    seen_version=form.cleaned_data["seen_version"],
                    reason=form.cleaned_data["reason"],
                    **changes,
                )
            except ValidationError as error:
                entries = changes.get("pupils", [])
                for message in place_service_errors(form, error, entries=entries):
                    form.add_error(None, message)
            else:
                messages.success(request, "The correction is saved.")
                return redirect(detail_url)
        form.link_descriptions()
        return None
    if form_name == "delete":
        if not access.can_delete(request.user, incident):
            raise PermissionDenied("Only leaders of the incident's academy may delete it.")
        form = DeleteForm(request.POST)
        forms_by_name["delete"] = form
        if form.is_valid():
            services.incident_delete(
                actor=request.user, incident=incident, reason=form.cleaned_data["reason"]
            )
            messages.success(request, f"Incident of {incident.date:%d/%m/%Y} deleted.")
            return redirect("behaviour:incident-log")
        form.link_descriptions()
        return None
    if form_name == "attended":
        raw = request.POST.get("action", "")
        if not raw.isdigit():
            raise Http404("No action matches the given query.")
        action = get_object_or_404(incident.actions.all(), pk=int(raw))
        form = AttendedForm(request.POST, prefix=f"action{action.pk}")
        forms_by_name[f"action{action.pk}"] = form
        if form.is_valid():
            try:
                services.action_update(
                    actor=request.user,
                    action=action,
                    reason=form.cleaned_data["reason"],
                    attended=form.cleaned_data["attended"],
                )
            except ValidationError as error:
                for key, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error("reason" if key == "reason" else None, message)
            else:
                messages.success(request, f"Attendance recorded for {action.pupil}.")
                return redirect(detail_url)
        return None
    raise Http404("No form matches the given query.")


@login_required
@handles_invalid_parameters
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one incident with its pupils, actions, follow-ups and audit trail."""
    incident = get_object_or_404(
        access.visible_incidents(request.user).select_related(
            "academy", "category", "trust_category", "reported_by", "created_by"
        ),
        pk=pk,
    )
    if not access.can_read_content(request.user, incident):
        return render(
            request,
            "behaviour/incident_restricted.html",
            {"page_title": "Restricted incident", "incident": incident},
        )
    categories = category_choices(incident.academy, clock.today())
    links = list(
        access.visible_links(request.user)
        .filter(incident=incident)
        .select_related("pupil", "year_group", "tutor_group")
        .order_by("pupil__legal_surname", "pupil__legal_forename")
    )
    # The correction form changes the part of pupils the user may log for on the incident's day.
    loggable = set(
        access.loggable_pupils(request.user, incident.date)
        .filter(pk__in=[link.pupil_id for link in links])
        .values_list("pk", flat=True)
    )
    correctable = [
        (link.pupil_id, link.pupil.display_name) for link in links if link.pupil_id in loggable
    ]
    forms_by_name: dict[str, Any] = {}
    if request.method == "POST":
        response = _handle_post(request, incident, forms_by_name, categories, correctable)
        if response is not None:
            return response

    hidden_count = IncidentPupil.objects.filter(incident=incident).count() - len(links)
    visible_ids = [link.pupil_id for link in links]
    actions = list(
        Action.objects.filter(incident=incident, pupil_id__in=visible_ids)
        .select_related("pupil", "referred_to", "created_by")
        .order_by("kind", "date", "pupil__legal_surname")
    )
    today = clock.today()
    action_rows = []
    for action in actions:
        recordable = (
            action.kind in {Action.Kind.DETENTION, Action.Kind.ISOLATION}
            and action.date is not None
            and action.date < today
        )
        form = forms_by_name.get(f"action{action.pk}")
        if recordable and form is None:
            initial = {}
            if action.attended is not None:
                initial["attended"] = "yes" if action.attended else "no"
            form = AttendedForm(prefix=f"action{action.pk}", initial=initial)
        action_rows.append({"action": action, "form": form if recordable else None})
    follow_ups = list(incident.follow_ups.select_related("owner", "resolved_by"))

    can_correct = access.can_correct(request.user, incident)
    can_delete = access.can_delete(request.user, incident)
    correct_form = forms_by_name.get("correct")
    if can_correct and correct_form is None:
        correction_initial = _correction_initial(incident)
        for link in links:
            correction_initial[f"role_{link.pupil_id}"] = link.role
            correction_initial[f"points_{link.pupil_id}"] = link.points
        correct_form = CorrectionForm(
            categories=categories, pupils=correctable, initial=correction_initial
        )
        correct_form.link_descriptions()
    delete_form = forms_by_name.get("delete")
    if can_delete and delete_form is None:
        delete_form = DeleteForm()
        delete_form.link_descriptions()

    events = _incident_audit(incident, [link.pk for link in links], [a.pk for a in actions])
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "behaviour/incident_detail.html",
        {
            "page_title": f"Incident on {incident.date:%d/%m/%Y}",
            "incident": incident,
            "links": links,
            "hidden_count": hidden_count,
            "total_points": sum(link.points for link in links),
            "action_rows": action_rows,
            "follow_ups": follow_ups,
            "can_correct": can_correct,
            "can_delete": can_delete,
            "correct_form": correct_form if can_correct else None,
            "delete_form": delete_form if can_delete else None,
            "open_correct": "correct" in forms_by_name,
            "open_delete": "delete" in forms_by_name,
            "rows": _incident_audit_rows(page.object_list),
            "page": page,
            "today": today,
        },
    )


# Points for a whole tutor group ----------------------------------------------


@login_required
def group_points(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the same positive points to the pupils on roll in one tutor group today."""
    group: TutorGroup = get_object_or_404(visible_tutor_groups(request.user), pk=pk)
    today = clock.today()
    roll = [
        enrolment
        for enrolment in _roll(request.user, today, group.academy)
        if enrolment.tutor_group_id == group.pk
    ]
    return _points_page(
        request,
        academy=group.academy,
        roll=roll,
        name=group.name,
        back=(reverse("academies:tutor-group", args=[group.pk]), f"Tutor group {group.name}"),
    )


@login_required
def class_points(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the same positive points to the pupils in one class today."""
    group: TeachingGroup = get_object_or_404(
        visible_teaching_groups(request.user).select_related("academy"), pk=pk
    )
    today = clock.today()
    members = set(
        ClassMembership.objects.filter(active_on(today), group=group).values_list(
            "pupil_id", flat=True
        )
    )
    roll = [e for e in _roll(request.user, today, group.academy) if e.pupil_id in members]
    return _points_page(
        request,
        academy=group.academy,
        roll=roll,
        name=group.name,
        back=(reverse("progress:class-detail", args=[group.pk]), f"Class {group.name}"),
    )


def _points_page(
    request: HttpRequest,
    *,
    academy: Academy,
    roll: list[Enrolment],
    name: str,
    back: tuple[str, str],
) -> HttpResponse:
    """Show and save the points form for the pupils of one group (tutor group or class)."""
    if not roll:
        raise Http404("No pupil of this group is in your scope.")
    now = clock.now()
    today = now.date()
    categories = category_choices(academy, today, positive_only=True)
    staff_id = _staff_id_of(request.user)
    ticked = {e.pupil_id for e in roll}
    problems: list[str] = []

    if request.method == "POST":
        form = GroupPointsForm(request.POST, categories=categories)
        ticked = {int(raw) for raw in request.POST.getlist("pupil") if raw.isdigit()}
        if not ticked:
            problems.append("No pupil is ticked; tick at least one pupil.")
        if staff_id is None:
            problems.append(
                "You have no staff record to report the points; ask an administrator to link one."
            )
        if form.is_valid() and not problems:
            try:
                incident = services.group_points_log(
                    actor=request.user,
                    pupil_ids=sorted(ticked),
                    academy_id=academy.pk,
                    category_id=int(form.cleaned_data["category"]),
                    points=form.cleaned_data["points"],
                    occurred_at=now,
                    reported_by_id=staff_id or 0,
                    description=form.cleaned_data["description"],
                )
            except ValidationError as error:
                for key, errors in error.message_dict.items():
                    for message in errors:
                        if key == "category_id":
                            form.add_error("category", message)
                        elif key.endswith(".points"):
                            # Every pupil gets the same points, so the same
                            # error is reported once, without the pupil's name.
                            message = message.split(": ", 1)[-1]
                            if message not in form.errors.get("points", []):
                                form.add_error("points", message)
                        elif message not in problems:
                            problems.append(message)
            else:
                count = len(ticked)
                messages.success(
                    request,
                    f"Points given to {count} pupil{'s' if count != 1 else ''} of {name}.",
                )
                return redirect("behaviour:incident-detail", incident.pk)
    else:
        form = GroupPointsForm(categories=categories)
    form.link_descriptions()
    rows = [
        {"pupil": e.pupil, "checked": e.pupil_id in ticked}
        for e in sorted(
            roll, key=lambda e: (e.pupil.legal_surname, e.pupil.legal_forename, e.pupil_id)
        )
    ]
    return render(
        request,
        "behaviour/group_points.html",
        {
            "page_title": f"Points for {name}",
            "group_name": name,
            "back_url": back[0],
            "back_label": back[1],
            "form": form,
            "rows": rows,
            "problems": problems,
            "today": today,
        },
    )
