"""Reads of pupil data, scoped to the requesting user."""

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Lower, NullIf, Replace

from academies.models import year_group_name
from progress.models import ClassMembership
from staff.models import Role
from trust import clock
from trust.access import scope_for

from .models import Enrolment, FsmPeriod, ImportRun, Pupil, active_on, search_key


def visible_pupils(user: Any, on: datetime.date | None = None) -> QuerySet[Pupil]:
    """Return the pupils `user` may see.

    Academy-wide roles see every pupil ever on roll at their academy, so a
    leaver's record stays reachable. Year and tutor group roles see the
    pupils on roll in their group on `on` (today by default), and teachers
    the pupils in the classes they teach on that day.
    """
    scope = scope_for(user)
    if scope.all_pupils:
        return Pupil.objects.all()
    if not scope.sees_any_pupil():
        return Pupil.objects.none()
    day = on or clock.today()
    in_scope = Q(academy_id__in=scope.pupil_academy_ids)
    current = active_on(day)
    if scope.year_group_ids:
        in_scope |= current & Q(year_group_id__in=scope.year_group_ids)
    if scope.tutor_group_ids:
        in_scope |= current & Q(tutor_group_id__in=scope.tutor_group_ids)
    enrolments = Enrolment.objects.filter(in_scope, pupil_id=OuterRef("pk"))
    visible = Q(Exists(enrolments))
    if scope.teaching_group_ids:
        # A teacher may see the pupils in their classes on `day`, whatever their tutor group.
        taught = ClassMembership.objects.filter(
            active_on(day), group_id__in=scope.teaching_group_ids, pupil_id=OuterRef("pk")
        )
        visible |= Q(Exists(taught))
    return Pupil.objects.filter(visible)


def can_see_sensitive(user: Any, pupil: Pupil, on: datetime.date | None = None) -> bool:
    """Return whether `user` holds the safeguarding permission for `pupil`'s academy."""
    scope = scope_for(user)
    if scope.safeguarding_all:
        return True
    if not scope.safeguarding_academy_ids:
        return False
    return pupil.enrolments.filter(academy_id__in=scope.safeguarding_academy_ids).exists()


def current_enrolment(pupil: Pupil, on: datetime.date | None = None) -> Enrolment | None:
    day = on or clock.today()
    return (
        pupil.enrolments.filter(active_on(day))
        .select_related("academy", "year_group", "tutor_group")
        .order_by("-start_date")
        .first()
    )


def six_years_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 6)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 6, day=28)


def fsm_ever6_filter(day: datetime.date, prefix: str = "") -> Q:
    """Filter for pupils with an FSM period in the 6 years up to `day` (FSM Ever 6)."""
    periods = FsmPeriod.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=six_years_before(day)),
        pupil_id=OuterRef(f"{prefix}pk" if prefix else "pk"),
        start_date__lte=day,
    )
    return Q(Exists(periods))


def is_fsm_ever6(pupil: Pupil, on: datetime.date | None = None) -> bool:
    day = on or clock.today()
    start = six_years_before(day)
    return any(
        p.start_date <= day and (p.end_date is None or p.end_date >= start)
        for p in pupil.fsm_periods.all()
    )


def is_fsm_now(pupil: Pupil, on: datetime.date | None = None) -> bool:
    day = on or clock.today()
    return any(
        p.start_date <= day and (p.end_date is None or p.end_date >= day)
        for p in pupil.fsm_periods.all()
    )


# Categories that reveal looked-after status, itself a sensitive field, so
# they are listed only for users with the safeguarding permission.
LOOKED_AFTER_CATEGORIES = frozenset({"Looked after", "Previously looked after"})


def pupil_premium_categories(
    pupil: Pupil, on: datetime.date | None = None, *, include_looked_after: bool = True
) -> list[str]:
    """Return the pupil premium categories that apply to `pupil` on `on`.

    Pass include_looked_after=False for a user without the safeguarding
    permission.
    """
    categories = []
    if is_fsm_ever6(pupil, on):
        categories.append("FSM Ever 6")
    if pupil.looked_after:
        categories.append("Looked after")
    if pupil.previously_looked_after:
        categories.append("Previously looked after")
    if pupil.service_child:
        categories.append("Service child")
    if include_looked_after:
        return categories
    return [c for c in categories if c not in LOOKED_AFTER_CATEGORIES]


def is_disadvantaged(pupil: Pupil, on: datetime.date | None = None) -> bool:
    """Return the DfE "disadvantaged" flag: FSM Ever 6, looked after or previously
    looked after. Service children attract the service premium but are not
    counted as disadvantaged."""
    return is_fsm_ever6(pupil, on) or pupil.looked_after or pupil.previously_looked_after


def disadvantaged_filter(day: datetime.date, prefix: str = "") -> Q:
    """Filter for disadvantaged pupils on `day`; `prefix` reaches them through a relation."""
    return (
        fsm_ever6_filter(day, prefix)
        | Q(**{f"{prefix}looked_after": True})
        | Q(**{f"{prefix}previously_looked_after": True})
    )


def search_pupils(pupils: QuerySet[Pupil], query: str) -> QuerySet[Pupil]:
    """Filter `pupils` to those whose names contain every word of `query`, or
    whose UPN starts with it.

    Names are compared folded (case, accents and hyphens ignored) and without
    apostrophes, so "obrien", "O’Brien" and "O'Brien" all find O'Brien.
    Every pupil search (page, export and API) goes through here.
    """
    words = search_key(query).replace("'", "").split()
    condition = Q(pk__in=[])
    if words:
        condition = Q()
        for word in words:
            condition &= Q(search_plain__contains=word)
    upn = "".join(query.split()).upper()
    if upn.isalnum():
        condition |= Q(upn__startswith=upn)
    plain = Replace(F("search_name"), Value("'"), Value(""))
    return pupils.annotate(search_plain=plain).filter(condition)


def pupils_with_list_fields(pupils: Any, day: datetime.date) -> Any:
    """Annotate `pupils` with their current enrolment and the pupil premium flag.

    Adds current_academy_id and _name, current_year_group_id, current_nc_year,
    current_tutor_group_id and _name, and is_disadvantaged (FSM Ever 6, looked
    after or previously looked after), all in the one list query.
    """
    current = Enrolment.objects.filter(active_on(day), pupil_id=OuterRef("pk")).order_by(
        "-start_date", "-pk"
    )

    def latest(field_name: str) -> Subquery:
        return Subquery(current.values(field_name)[:1])

    return pupils.annotate(
        current_academy_id=latest("academy_id"),
        current_academy_name=latest("academy__name"),
        current_year_group_id=latest("year_group_id"),
        current_nc_year=latest("year_group__nc_year"),
        current_tutor_group_id=latest("tutor_group_id"),
        current_tutor_group_name=latest("tutor_group__name"),
        is_disadvantaged=ExpressionWrapper(disadvantaged_filter(day), output_field=BooleanField()),
    )


def prepare_rows(user: Any, pupils: Iterable[Pupil]) -> list[Pupil]:
    """Evaluate `pupils` and mark, per row, whether the user may see the LAC chip."""
    scope = scope_for(user)
    rows = list(pupils)
    for pupil in rows:
        academy_id = getattr(pupil, "current_academy_id", None)
        pupil.show_lac = scope.can_see_sensitive(academy_id)  # type: ignore[attr-defined]
        nc_year = getattr(pupil, "current_nc_year", None)
        pupil.current_year_name = (  # type: ignore[attr-defined]
            year_group_name(nc_year) if nc_year is not None else ""
        )
    return rows


def register_order(pupils: Any) -> Any:
    """Order `pupils` as a register lists them: surname, then forename, as shown."""
    return pupils.annotate(
        sort_surname=Lower(Coalesce(NullIf("preferred_surname", Value("")), "legal_surname")),
        sort_forename=Lower(Coalesce(NullIf("preferred_forename", Value("")), "legal_forename")),
    ).order_by("sort_surname", "sort_forename", "pk")


def on_roll_in(field_name: str, ids: Iterable[int], day: datetime.date) -> Exists:
    return Exists(
        Enrolment.objects.filter(
            active_on(day), pupil_id=OuterRef("pk"), **{f"{field_name}__in": list(ids)}
        )
    )


def visible_import_runs(user: Any) -> QuerySet[ImportRun]:
    """Return the runs `user` may open: their own, or every run for trust administrators."""
    runs = ImportRun.objects.select_related("academy", "requested_by")
    if user.is_superuser or scope_for(user).has_role(Role.TRUST_ADMIN):
        return runs
    return runs.filter(requested_by=user)
