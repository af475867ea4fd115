"""The navigation each user sees and the page each role lands on."""

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from staff.models import Role

from .access import scope_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def landing_url(user: Any) -> str:
    """Return the URL of the page `user`'s main role opens first."""
    scope = scope_for(user)
    order = [
        (Role.TRUST_LEADER, "trust-dashboard"),
        (Role.TRUST_ADMIN, "trust-dashboard"),
        (Role.TRUSTEE, "reports-home"),
        (Role.HEADTEACHER, "academy-dashboard"),
        (Role.ACADEMY_LEADER, "academy-dashboard"),
        (Role.ATTENDANCE_OFFICER, "academy-dashboard"),
        (Role.HEAD_OF_YEAR, "my-year"),
        (Role.TUTOR, "my-classes"),
        (Role.TEACHER, "my-classes"),
        (Role.TRUST_HR, "staff:directory"),
    ]
    for role, name in order:
        if scope.has_role(role):
            url = _url(name)
            if url:
                return url
    if user.is_superuser:
        return _url("trust-dashboard") or "/admin/"
    return _url("my-appraisal") or _url("staff:directory") or "/admin/"


def _behaviour_analysis_url(scope: Any) -> str | None:
    """Return the widest behaviour analysis page of the user's scope, if any."""
    if scope.all_academies:
        return _url("behaviour:trust-analysis")
    if scope.pupil_academy_ids:
        return _url("behaviour:academy-analysis", min(scope.pupil_academy_ids))
    if scope.year_group_ids:
        return _url("behaviour:year-group-analysis", min(scope.year_group_ids))
    return None


def _progress_url(scope: Any) -> str | None:
    """Return the progress page at the widest level of the user's scope, if any."""
    if scope.all_academies:
        return _url("progress:trust-summary")
    if scope.pupil_academy_ids:
        return _url("progress:academy-summary", min(scope.pupil_academy_ids))
    if scope.year_group_ids:
        return _url("progress:year-group-heatmap", min(scope.year_group_ids))
    if scope.teaching_group_ids:
        return _url("progress:class-list")
    return None


def nav_items(user: Any) -> list[NavItem]:
    """Return the navigation links for `user`, in the order they appear."""
    scope = scope_for(user)
    items: list[tuple[str, str | None]] = []
    if scope.has_role(Role.HEAD_OF_YEAR):
        items.append(("My year today", _url("my-year")))
    if scope.has_role(Role.TUTOR, Role.TEACHER) or scope.tutor_group_ids:
        items.append(("My classes", _url("my-classes")))
    # Trustees read the trust dashboard too, as aggregates without pupils.
    if scope.all_academies:
        items.append(("Trust dashboard", _url("trust-dashboard")))
    if scope.pupil_academy_ids:
        items.append(("Academy dashboard", _url("academy-dashboard")))
    if scope.year_group_ids and not scope.pupil_academy_ids and not scope.all_academies:
        items.append(
            ("Year group dashboard", _url("year-group-dashboard", min(scope.year_group_ids)))
        )
    if scope.all_academies or scope.pupil_academy_ids or scope.year_group_ids:
        items.append(("Reports", _url("reports-home")))
    if scope.all_academies:
        items.append(("Targets", _url("report-targets")))
    if scope.academy_ids or scope.all_academies:
        items.append(("Academies", _url("academies:list")))
    if scope.sees_any_pupil() or scope.has_role(Role.TEACHER):
        # Teachers may be assigned to cover a register.
        items.append(("Registers", _url("attendance:register-list")))
    if scope.sees_any_pupil():
        items.append(("Pupils", _url("pupils:search")))
        items.append(("Log behaviour", _url("behaviour:incident-log")))
        items.append(("Follow-ups", _url("behaviour:follow-ups")))
    items.append(("Behaviour analysis", _behaviour_analysis_url(scope)))
    if scope.sees_any_pupil() or scope.all_academies:
        items.append(("Suspensions", _url("behaviour:suspension-register")))
    items.append(("Progress", _progress_url(scope)))
    # Leaders keep the behaviour categories: the trust's and each academy's own.
    if scope.has_role(Role.TRUST_ADMIN, Role.TRUST_LEADER, Role.HEADTEACHER, Role.ACADEMY_LEADER):
        items.append(("Behaviour categories", _url("behaviour:categories")))
    if not scope.is_trustee_only:
        items.append(("Staff", _url("staff:directory")))
    if scope.staff_id:
        items.append(("My appraisal", _url("my-appraisal")))
        if not scope.is_trustee_only:
            # Headteachers and trust HR list every appraisal they may read there.
            label = (
                "Appraisals"
                if scope.all_appraisals or scope.headteacher_academy_ids
                else "My appraisees"
            )
            items.append((label, _url("appraisal:appraisees")))
            items.append(("CPD portfolio", _url("appraisal:portfolio")))
            items.append(("CPD offer", _url("appraisal:cpd-offer")))
    if user.is_superuser or scope.has_role(
        Role.TRUST_LEADER, Role.TRUST_HR, Role.TRUSTEE, Role.HEADTEACHER, Role.ACADEMY_LEADER
    ):
        items.append(("Appraisal completion", _url("appraisal:completion")))
    if user.is_superuser or scope.has_role(Role.TRUST_HR, Role.TRUST_LEADER):
        items.append(("Appraisal cycles", _url("appraisal:cycles")))
    if user.is_superuser or scope.has_role(
        Role.TRUST_LEADER, Role.TRUST_HR, Role.TRUST_ADMIN, Role.HEADTEACHER, Role.ACADEMY_LEADER
    ):
        items.append(("CPD summary", _url("appraisal:cpd-summary")))
        if not scope.is_trustee_only:
            items.append(("Staff absence", _url("attendance:staff_absence")))
    # Headteachers and academy leaders import pupils for their own academy.
    if scope.has_role(Role.TRUST_ADMIN, Role.HEADTEACHER, Role.ACADEMY_LEADER) or user.is_superuser:
        items.append(("Imports", _url("pupils:import")))
    if scope.has_role(Role.TRUST_ADMIN) or user.is_superuser:
        items.append(("Administration", _url("admin:index")))
    return [NavItem(label, url) for label, url in items if url]
