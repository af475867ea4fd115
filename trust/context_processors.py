from typing import Any

from django.http import HttpRequest

from .navigation import nav_items


def _current_values(path: str, urls: list[str]) -> list[str]:
    """Return the aria-current value of each navigation link on page `path`.

    "page" marks the link to this very page. Otherwise "true" marks the one
    section the page belongs to, the longest link the path starts with, so
    /pupils/import/ marks Imports and not Pupils as well. "" marks neither.
    """
    if path in urls:
        return ["page" if url == path else "" for url in urls]
    sections = [url for url in urls if url != "/" and path.startswith(url)]
    section = max(sections, key=len, default=None)
    return ["true" if url == section else "" for url in urls]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = nav_items(user)
    currents = _current_values(request.path, [item.url for item in items])
    return {
        "nav_items": items,
        "nav_links": [
            {"label": item.label, "url": item.url, "current": current}
            for item, current in zip(items, currents, strict=True)
        ],
    }
