from typing import Any

from django.http import HttpRequest

from .navigation import nav_items


def _current(path: str, url: str) -> str:
    """Return the aria-current value of a navigation link to `url` on page `path`.

    "page" marks the link to this very page, and "true" marks the section the
    page belongs to, as Pupils for a pupil's profile. "" marks neither.
    """
    if path == url:
        return "page"
    if url != "/" and path.startswith(url):
        return "true"
    return ""


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = nav_items(user)
    return {
        "nav_items": items,
        "nav_links": [
            {"label": item.label, "url": item.url, "current": _current(request.path, item.url)}
            for item in items
        ],
    }
