"""The behaviour box of the pupil profile: this term's points, with a link to the timeline."""

from typing import Any

from django import template

from trust import clock

from ..timeline import pupil_totals

register = template.Library()


@register.inclusion_tag("behaviour/_profile_summary.html", takes_context=True)
def behaviour_summary(context: Any, pupil: Any) -> dict[str, Any]:
    """Render this term's positive, negative and net points of `pupil` for the request's user."""
    term, _ = pupil_totals(context["request"].user, pupil, clock.today())
    return {"pupil": pupil, "term": term}
