"""The pupil overview page: one child's attendance, behaviour, progress,
interventions, contacts with parents and SEND."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from attendance.stats_views import trend_chart
from progress.grades import Status
from progress.selectors import status_view
from pupils.selectors import prepare_rows, pupils_with_list_fields, visible_pupils
from trust import clock

from .access import aggregates_only
from .profile import pupil_overview

NOT_FOUND = "No pupil with that id is in your scope."


@login_required
@require_GET
def pupil_overview_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the overview of one pupil in the user's scope, or 404 for any other pupil."""
    user = request.user
    if aggregates_only(user):
        raise Http404(NOT_FOUND)
    day = clock.today()
    # The context chips read the pupil premium flag and the current academy
    # (for the looked-after chip) from these annotations, fetched in the same
    # query that checks the scope.
    pupil = pupils_with_list_fields(visible_pupils(user, day).filter(pk=pk), day).first()
    if pupil is None:
        raise Http404(NOT_FOUND)
    prepare_rows(user, [pupil])

    overview = pupil_overview(user, pupil, day)
    chart = trend_chart(f"Weekly attendance of {pupil.display_name}", overview.attendance_weeks)
    return render(
        request,
        "reports/pupil_overview.html",
        {
            "page_title": f"Overview of {pupil.display_name}",
            "pupil": pupil,
            "overview": overview,
            "chart": chart,
            "status_key": [status_view(status) for status in Status.values],
        },
    )
