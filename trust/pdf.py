"""Render Django templates to PDF with WeasyPrint, fetching nothing from the network.

Documents extend templates/pdf/base.html, which sets the A4 page, the running
header, the "Page N of M" footer and the Noto font stack. Fonts come from the
system through fontconfig (Debian's fonts-noto-core and fonts-noto-cjk), so
rendering needs no @font-face download.
"""

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML, Document
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import clock

logger = logging.getLogger(__name__)


def static_roots() -> list[Path]:
    """Return the directories a PDF may load files from: the project's static files."""
    roots = [Path(directory) for directory in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


class LocalURLFetcher(URLFetcher):
    """URL fetcher that loads data: URLs and files under the static directories only.

    Every other URL (http, https, ftp, or a file elsewhere on disk) raises
    ValueError, which WeasyPrint turns into a warning and a missing resource,
    so a template can never make the renderer open a network connection.
    """

    def __init__(self, roots: list[Path] | None = None) -> None:
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)
        self.roots = roots if roots is not None else static_roots()

    def is_allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return True
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = Path(url2pathname(parts.path)).resolve()
        return any(path.is_relative_to(root) for root in self.roots)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if not self.is_allowed(url):
            # Log only the scheme, because a URL may carry query data.
            logger.warning("PDF resource rejected scheme=%s", urlsplit(url).scheme or "none")
            raise ValueError(
                f"Rejected PDF resource {url[:200]!r}. PDF rendering loads only data: URLs "
                f"and files under the static directories."
            )
        return super().fetch(url, headers)


def default_base_url() -> str:
    """Return the file URL of the first static directory, with a trailing slash."""
    roots = static_roots()
    return roots[0].as_uri() + "/" if roots else Path(settings.BASE_DIR).resolve().as_uri() + "/"


def trust_name() -> str:
    """Return the name of the trust the installation serves, for the running header."""
    from academies.models import Trust

    return Trust.objects.values_list("name", flat=True).order_by("pk").first() or ""


def render_document(
    template_name: str, context: dict[str, Any], *, base_url: str | None = None
) -> Document:
    """Render `template_name` with `context` and lay it out in pages.

    Relative URLs in the template resolve against `base_url`, which defaults
    to the project's static directory, so `<img src="img/logo.png">` loads
    static/img/logo.png. The context gains `printed_on` (now, Europe/London)
    and `trust_name` unless the caller sets them. The pages of several
    documents can be joined with `Document.copy` before `write_document`.
    """
    full_context = {"printed_on": clock.now(), **context}
    if "trust_name" not in full_context:
        full_context["trust_name"] = trust_name()
    html = render_to_string(template_name, full_context)
    return HTML(
        string=html,
        base_url=base_url or default_base_url(),
        url_fetcher=LocalURLFetcher(),
        media_type="print",
    ).render()


def write_document(document: Document) -> bytes:
    """Return the PDF of a laid-out document as bytes."""
    # Tagged PDF gives screen readers the headings and the table structure,
    # at some cost in rendering time.
    pdf = document.write_pdf(pdf_tags=True)
    if pdf is None:  # write_pdf returns bytes whenever no target is given.
        raise RuntimeError("WeasyPrint returned no PDF.")
    return pdf


def render_pdf(
    template_name: str, context: dict[str, Any], *, base_url: str | None = None
) -> bytes:
    """Render `template_name` with `context` and return the PDF as bytes.

    See `render_document` for the context it adds and how URLs resolve.
    """
    return write_document(render_document(template_name, context, base_url=base_url))
