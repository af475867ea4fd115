"""The behaviour categories page and the forms that add, change, retire and
reinstate categories.

Staff who see pupils or hold a role at an academy read the page. Trust
leaders and administrators change the trust taxonomy, and an academy's
headteacher and leaders change its own categories. Anyone else (trustees,
HR, staff without a role) gets 404.
"""

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from academies.models import Academy, Trust
from academies.selectors import visible_academies
from trust import clock
from trust.params import handles_invalid_parameters, id_parameter

from . import taxonomy
from .category_forms import CategoryForm, RetireForm
from .models import BehaviourCategory, Polarity


@dataclass
class AcademySection:
    """One academy's own categories on the page."""

    academy: Academy
    categories: list[BehaviourCategory] = field(default_factory=list)
    can_edit: bool = False


def _readable(request: HttpRequest) -> None:
    if not taxonomy.can_read_categories(request.user):
        raise Http404("No behaviour categories are in your scope.")


def _list_url(academy_id: int | None = None) -> str:
    url = reverse("behaviour:categories")
    return f"{url}?academy={academy_id}" if academy_id else url


@login_required
@handles_invalid_parameters
def categories(request: HttpRequest) -> HttpResponse:
    """Show the trust taxonomy and the academies' own categories."""
    _readable(request)
    today = clock.today()
    academies = visible_academies(request.user).order_by("name")
    chosen_id = id_parameter(request, "academy")
    chosen = None
    if chosen_id is not None:
        chosen = get_object_or_404(academies, pk=chosen_id)
    trust = chosen.trust if chosen else taxonomy.trust_for(request.user)
    if trust is None:
        raise Http404("No trust is in your scope.")

    trust_categories = list(BehaviourCategory.objects.filter(trust=trust, academy__isnull=True))
    shown = [chosen] if chosen else [a for a in academies if a.trust_id == trust.pk]
    own = (
        BehaviourCategory.objects.filter(academy__in=shown)
        .select_related("parent")
        .order_by("academy_id", "polarity", "position", "name")
    )
    sections = {
        academy.pk: AcademySection(
            academy, can_edit=taxonomy.can_edit_academy_categories(request.user, academy.pk)
        )
        for academy in shown
    }
    for category in own:
        sections[category.academy_id].categories.append(category)  # type: ignore[index]

    return render(
        request,
        "behaviour/categories.html",
        {
            "page_title": "Behaviour categories",
            "today": today,
            "trust": trust,
            "positive": [c for c in trust_categories if c.polarity == Polarity.POSITIVE],
            "negative": [c for c in trust_categories if c.polarity == Polarity.NEGATIVE],
            "can_edit_trust": taxonomy.can_edit_trust_categories(request.user),
            "sections": list(sections.values()),
            "academies": [a for a in academies if a.trust_id == trust.pk],
            "chosen": chosen,
        },
    )


def _form_page(
    request: HttpRequest,
    form: CategoryForm,
    *,
    title: str,
    academy: Academy | None,
    category: BehaviourCategory | None,
    status: int = 200,
) -> HttpResponse:
    form.link_descriptions()
    return render(
        request,
        "behaviour/categories_form.html",
        {
            "page_title": title,
            "form": form,
            "academy": academy,
            "category": category,
            "back_url": _list_url(academy.pk if academy else None),
        },
        status=status,
    )


def _parents(trust: Trust) -> list[BehaviourCategory]:
    """Return the trust categories a new academy category may map to today."""
    return list(
        BehaviourCategory.objects.filter(trust=trust, academy__isnull=True).filter(
            taxonomy.in_use_q(clock.today())
        )
    )


@login_required
@handles_invalid_parameters
@require_http_methods(["GET", "POST"])
def category_new(request: HttpRequest) -> HttpResponse:
    """Add a trust category, or with ?academy=ID an academy's own category."""
    _readable(request)
    academy_id = id_parameter(request, "academy")
    academy = None
    if academy_id is not None:
        academy = get_object_or_404(visible_academies(request.user), pk=academy_id)
        if not taxonomy.can_edit_academy_categories(request.user, academy.pk):
            raise PermissionDenied("Only the academy's headteacher and leaders add its categories.")
        trust = academy.trust
    else:
        if not taxonomy.can_edit_trust_categories(request.user):
            raise PermissionDenied("Only trust leaders and administrators add trust categories.")
        found = taxonomy.trust_for(request.user)
        if found is None:
            raise Http404("No trust is in your scope.")
        trust = found
    parents = _parents(trust) if academy else None
    title = f"Add a category for {academy.name}" if academy else "Add a trust category"

    if request.method == "GET":
        form = CategoryForm(parents=parents, initial={"polarity": Polarity.NEGATIVE, "position": 0})
        return _form_page(request, form, title=title, academy=academy, category=None)
    form = CategoryForm(request.POST, parents=parents)
    if form.is_valid():
        try:
            category = taxonomy.category_create(
                actor=request.user, trust=trust, academy=academy, data=form.category_input()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Added the category {category.name}.")
            return redirect(_list_url(academy.pk if academy else None))
    return _form_page(request, form, title=title, academy=academy, category=None, status=400)


def _editable(request: HttpRequest, pk: int) -> BehaviourCategory:
    """Return the category if the user sees it (else 404) and may change it (else 403)."""
    _readable(request)
    category = get_object_or_404(
        taxonomy.visible_categories(request.user).select_related("academy", "parent", "trust"),
        pk=pk,
    )
    if not taxonomy.can_edit_category(request.user, category):
        raise PermissionDenied(f"You may read but not change the category {category.name}.")
    return category


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a category's name, severity, points, flag or position."""
    category = _editable(request, pk)
    academy = category.academy
    parents = None
    if academy is not None:
        parents = _parents(category.trust)
        if category.parent is not None and category.parent not in parents:
            parents.append(category.parent)
    title = f"Change the category {category.name}"

    if request.method == "GET":
        form = CategoryForm(
            parents=parents, polarity_fixed=True, initial=CategoryForm.initial_from(category)
        )
        return _form_page(request, form, title=title, academy=academy, category=category)
    form = CategoryForm(
        request.POST,
        parents=parents,
        polarity_fixed=True,
        initial=CategoryForm.initial_from(category),
    )
    if form.is_valid():
        values = form.category_input()
        try:
            taxonomy.category_update(
                actor=request.user,
                category=category,
                name=values.name,
                severity=values.severity,
                default_points=values.default_points,
                min_points=values.min_points,
                max_points=values.max_points,
                sensitive=values.sensitive,
                position=values.position,
                parent_id=values.parent_id,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Saved the category {category.name}.")
            return redirect(_list_url(category.academy_id))
    return _form_page(request, form, title=title, academy=academy, category=category, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def category_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for the date, then retire the category from that day."""
    category = _editable(request, pk)
    if category.retired_on is not None:
        messages.info(
            request, f"{category.name} is already retired from {category.retired_on:%d/%m/%Y}."
        )
        return redirect(_list_url(category.academy_id))
    status = 200
    if request.method == "POST":
        form = RetireForm(request.POST)
        if form.is_valid():
            try:
                taxonomy.category_retire(
                    actor=request.user, category=category, on=form.cleaned_data["retired_on"]
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(
                    request,
                    f"Retired {category.name} from {category.retired_on:%d/%m/%Y}. Incidents "
                    "already logged keep it.",
                )
                return redirect(_list_url(category.academy_id))
        status = 400
    else:
        form = RetireForm(initial={"retired_on": clock.today()})
    form.link_descriptions()
    children = (
        list(category.academy_categories.filter(retired_on__isnull=True).select_related("academy"))
        if category.academy_id is None
        else []
    )
    return render(
        request,
        "behaviour/categories_retire.html",
        {
            "page_title": f"Retire the category {category.name}",
            "category": category,
            "form": form,
            "children": children,
            "back_url": _list_url(category.academy_id),
        },
        status=status,
    )


@login_required
@require_POST
def category_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a retired category back in use."""
    category = _editable(request, pk)
    try:
        taxonomy.category_reinstate(actor=request.user, category=category)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, f"{category.name} is in use again.")
    return redirect(_list_url(category.academy_id))
