"""Query parameters of HTML pages: reading them, and a 400 page for invalid values."""

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

ID_PATTERN = re.compile(r"[0-9]{1,12}")


class InvalidParameter(Exception):
    """A query parameter whose value the page cannot use, so the page returns 400."""

    def __init__(self, name: str, value: str, allowed: str) -> None:
        super().__init__(f"The filter “{name}” has the value “{value}”, but {allowed}.")
        self.name = name
        self.value = value


def handles_invalid_parameters(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Turn an InvalidParameter raised by `view` into a 400 page naming the value."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except InvalidParameter as error:
            return render(
                request,
                "trust/bad_request.html",
                {"message": str(error), "page_title": "Invalid filter"},
                status=400,
            )

    return wrapper


def id_parameter(request: HttpRequest, name: str) -> int | None:
    """Read the optional id query parameter `name`: a positive whole number."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    # str.isdigit() also accepts digits such as "²" that int() rejects.
    if not ID_PATTERN.fullmatch(raw) or int(raw) == 0:
        shown = text_parameter_preview(raw)
        raise InvalidParameter(name, shown, "it must be the number of a record, such as 12")
    return int(raw)


def text_parameter_preview(raw: str) -> str:
    """Return `raw` shortened and with control characters shown as "?", for messages."""
    cleaned = "".join("?" if unicodedata.category(c) == "Cc" else c for c in raw)
    return cleaned if len(cleaned) <= 40 else cleaned[:40] + "…"


def text_parameter(request: HttpRequest, name: str, *, max_length: int = 100) -> str:
    """Read the optional free-text query parameter `name`, stripped.

    Control characters are rejected because PostgreSQL text cannot hold a
    NUL and no name or UPN contains one.
    """
    raw = request.GET.get(name, "").strip()
    if len(raw) > max_length:
        raise InvalidParameter(
            name, text_parameter_preview(raw), f"it must be at most {max_length} characters"
        )
    if any(unicodedata.category(c) == "Cc" for c in raw):
        raise InvalidParameter(
            name, text_parameter_preview(raw), "it must not contain control characters"
        )
    return raw
