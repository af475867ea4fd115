"""The PDF renderer and the pupil profile PDF.

Text is read back with poppler-utils (pdftotext, pdffonts, pdfinfo), as a
reader's PDF viewer or screen reader would see it.
"""

import datetime
import http.server
import logging
import re
import shutil
import socket
import subprocess
import threading
import unicodedata
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings

from pupils.models import SenStatus
from staff.models import Role
from trust import urls as trust_urls
from trust.models import AuditEvent
from trust.pdf import LocalURLFetcher, render_pdf

from .factories import PupilFactory
from .factories_output import (
    NOW,
    ContactFactory,
    FsmPeriodFactory,
    SenNeedFactory,
    head_of_year,
    safeguarding_lead,
    trustee,
    two_schools,
    user_with_role,
)

# The project's own URLs: the tests once ran before pupils/urls.py included
# these views, and the 404 page needs the layout's links.
urlpatterns = trust_urls.urlpatterns

NAMES = ["Zoë Ní Bhriain", "Łukasz Wiśniewski", "محمد علي", "李明"]
BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
LONG_SENTENCE = "Pupil was supported during the lesson and returned to class calmly. "


def run_poppler(tool: str, *args: str) -> str:
    """Run a poppler-utils tool and return its UTF-8 output; fail when it is missing."""
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing; install Debian's poppler-utils to read PDFs back.")
    result = subprocess.run([tool, *args], check=True, capture_output=True)
    return result.stdout.decode("utf-8")


@pytest.fixture
def templates(tmp_path: Path):
    """Let a test write its own templates extending pdf/base.html."""
    engines = [dict(settings.TEMPLATES[0])]
    engines[0]["DIRS"] = [tmp_path, *settings.TEMPLATES[0]["DIRS"]]
    with override_settings(TEMPLATES=engines):
        yield tmp_path


def write_template(directory: Path, name: str, body: str) -> str:
    (directory / name).write_text(
        '{% extends "pdf/base.html" %}{% block content %}' + body + "{% endblock %}",
        encoding="utf-8",
    )
    return name


def pdf_text(pdf: bytes, tmp_path: Path, page: int | None = None) -> str:
    source = tmp_path / "out.pdf"
    source.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return run_poppler("pdftotext", "-enc", "UTF-8", *pages, str(source), "-")


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    source = tmp_path / "info.pdf"
    source.write_bytes(pdf)
    info = run_poppler("pdfinfo", str(source))
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """Return (font name, embedded "yes" or "no") for every font in the PDF."""
    source = tmp_path / "fonts.pdf"
    source.write_bytes(pdf)
    listing = run_poppler("pdffonts", str(source))
    fonts = []
    for line in listing.splitlines()[2:]:
        match = re.match(r"^(\S+)\s+.*?\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", line)
        assert match, f"unreadable pdffonts line: {line!r}"
        fonts.append((match.group(1), match.group(2)))
    return fonts


def normalised(text: str) -> str:
    """Fold whitespace and drop bidirectional marks, as pdftotext adds them around RTL runs."""
    text = unicodedata.normalize("NFC", text.translate(BIDI_CONTROLS))
    return " ".join(text.split())


def contains_name(text: str, name: str) -> bool:
    """Whether `name` is in `text` in logical order, or in visual order for RTL names."""
    text = normalised(text)
    if name in text:
        return True
    reversed_words = " ".join(reversed(name.split()))
    return reversed_words in text or name[::-1] in text or reversed_words[::-1] in text


# render_pdf and the base template --------------------------------------------


@pytest.mark.django_db
def test_render_pdf_is_a4_with_running_header(templates, tmp_path):
    name = write_template(templates, "plain.html", "<p>Body text</p>")

    pdf = render_pdf(name, {"trust_name": "Severn Valley Learning Trust", "document_title": "Test"})

    assert pdf.startswith(b"%PDF-")
    source = tmp_path / "a4.pdf"
    source.write_bytes(pdf)
    info = run_poppler("pdfinfo", str(source))
    assert "(A4)" in info
    assert re.search(r"^Tagged:\s+yes", info, re.MULTILINE)
    text = normalised(pdf_text(pdf, tmp_path))
    assert "Severn Valley Learning Trust" in text
    assert "Page 1 of 1" in text
    assert "Body text" in text


@pytest.mark.django_db
def test_every_script_prints_with_embedded_fonts(templates, tmp_path, caplog):
    rows = "".join(f"<tr><td><bdi>{name}</bdi></td></tr>" for name in NAMES)
    name = write_template(
        templates, "names.html", f"<table><thead><tr><th>Name</th></tr></thead>{rows}</table>"
    )

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_pdf(name, {"document_title": "Names"})

    text = pdf_text(pdf, tmp_path)
    for pupil_name in NAMES:
        assert contains_name(text, pupil_name), pupil_name
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts
    assert all(embedded == "yes" for _, embedded in fonts), fonts
    families = " ".join(font for font, _ in fonts)
    assert "Noto-Sans-Arabic" in families or "Naskh" in families
    assert "CJK" in families
    # WeasyPrint warns ".notdef glyph rendered" for each character no font covers.
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]


@pytest.mark.django_db
def test_missing_glyph_is_detected(templates, caplog):
    # U+0378 is unassigned, so no font has a glyph: the check above can fail.
    name = write_template(templates, "missing.html", "<p>\u0378</p>")

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_pdf(name, {"document_title": "Missing"})

    assert [r for r in caplog.records if ".notdef" in r.getMessage()]


@pytest.mark.django_db
def test_table_header_repeats_on_every_page(templates, tmp_path):
    rows = "".join(
        f"<tr><td>Incident {i:02d}</td><td>Comment {'word ' * 16}end of incident {i:02d}</td></tr>"
        for i in range(60)
    )
    name = write_template(
        templates,
        "table.html",
        "<table><thead><tr><th>Reference column</th><th>Comment column</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>",
    )

    pdf = render_pdf(name, {"trust_name": "Severn Valley Learning Trust", "document_title": "Log"})

    pages = pdf_pages(pdf, tmp_path)
    assert 2 <= pages <= 4
    page_texts = [normalised(pdf_text(pdf, tmp_path, page)) for page in range(1, pages + 1)]
    for page, text in enumerate(page_texts, start=1):
        assert "Reference column" in text, page
        assert "Comment column" in text, page
        assert f"Page {page} of {pages}" in text
        assert "Severn Valley Learning Trust" in text
        assert "Log" in text
    for i in range(60):
        # A row is never split: its first and last words are on the same page.
        holding = [text for text in page_texts if f"Incident {i:02d}" in text]
        assert len(holding) == 1, i
        assert f"end of incident {i:02d}" in holding[0]


@pytest.mark.django_db
def test_long_cell_prints_whole(templates, tmp_path):
    sentences = [f"Sentence {n}: {LONG_SENTENCE}" for n in range(1, 40)]
    cell = "".join(sentences)
    cell = cell[: 3000 - len("The last sentence ends here.")] + "The last sentence ends here."
    assert len(cell) == 3000
    rows = "".join(f"<tr><td>Row {i}</td><td>Short</td></tr>" for i in range(20))
    rows += f"<tr><td>Row long</td><td>{cell}</td></tr>"
    name = write_template(
        templates,
        "long.html",
        f"<table><thead><tr><th>Row</th><th>Comment</th></tr></thead><tbody>{rows}</tbody></table>",
    )

    pdf = render_pdf(name, {"document_title": "Long"})

    text = normalised(pdf_text(pdf, tmp_path))
    assert "The last sentence ends here." in text
    assert normalised(sentences[0]) in text


# No network ------------------------------------------------------------------


class CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        CountingHandler.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"p { color: red; }")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback_server():
    CountingHandler.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_rendering_fetches_nothing_over_http(templates, loopback_server, monkeypatch):
    connections: list[object] = []
    real_connect = socket.socket.connect

    def record_connect(sock: socket.socket, address: object) -> object:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            connections.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", record_connect)
    name = write_template(
        templates,
        "remote.html",
        f'<link rel="stylesheet" href="{loopback_server}/style.css">'
        f'<img src="{loopback_server}/logo.png" alt="Logo">'
        f'<p style="background: url({loopback_server}/bg.png)">Text</p>',
    )

    pdf = render_pdf(name, {"document_title": "Remote"})

    assert pdf.startswith(b"%PDF-")
    assert CountingHandler.hits == []
    assert connections == []


def test_fetcher_allows_static_files_and_data_urls():
    static_file = (Path(settings.BASE_DIR) / "static" / "css" / "app.css").resolve()
    fetcher = LocalURLFetcher()

    assert fetcher.is_allowed(static_file.as_uri())
    assert fetcher.is_allowed("data:text/css,p%20%7Bcolor%3Ared%7D")
    response = fetcher.fetch(static_file.as_uri())
    assert response.read()
    response.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/static/css/app.css",
        "https://127.0.0.1/logo.png",
        "ftp://127.0.0.1/file.txt",
        "file:///etc/passwd",
        "file://127.0.0.1/etc/passwd",
    ],
)
def test_fetcher_rejects_other_urls(url):
    fetcher = LocalURLFetcher()

    assert not fetcher.is_allowed(url)
    with pytest.raises(ValueError, match="Rejected PDF resource"):
        fetcher.fetch(url)


def test_fetcher_rejects_path_escaping_static_dir():
    static_dir = (Path(settings.BASE_DIR) / "static").resolve()
    escaping = static_dir.as_uri() + "/../pyproject.toml"

    assert not LocalURLFetcher().is_allowed(escaping)


# The pupil profile PDF -----------------------------------------------------


@pytest.fixture
def trust_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def oak_elm(trust_day):
    return two_schools()


def get_profile(client, user, pupil):
    client.force_login(user)
    return client.get(f"/pupils/{pupil.pk}/profile.pdf")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_prints_pupil_details(client, oak_elm, tmp_path):
    oak, _ = oak_elm
    pupil = oak.enrol(
        legal_forename="Zoë",
        middle_names="Áine",
        legal_surname="Ní Bhriain",
        preferred_forename="Zoe",
        date_of_birth=datetime.date(2012, 3, 4),
        sen_status=SenStatus.SEN_SUPPORT,
        eal=True,
        service_child=True,
    )
    FsmPeriodFactory(pupil=pupil)
    ContactFactory(pupil=pupil, name="Siobhán Ní Bhriain", relationship="Mother")
    ContactFactory(
        pupil=pupil,
        name="Seán Ó Briain",
        relationship="Father",
        address="9 Hidden Lane\nLudlow",
        address_shareable=False,
        priority=2,
    )
    oak.group9.tutor = user_with_role(Role.TUTOR, oak.group9, academy=oak.academy).staff_member
    oak.group9.save()

    response = get_profile(client, head_of_year(oak.year9), pupil)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = normalised(pdf_text(response.content, tmp_path))
    assert "Zoë Áine Ní Bhriain" in text
    assert "Zoe Ní Bhriain" in text
    assert "Severn Valley Learning Trust" in text
    assert "Pupil profile: Zoe Ní Bhriain" in text
    assert pupil.upn in text
    assert "04/03/2012" in text
    assert "Female" in text
    assert "Oak Academy" in text
    assert "Year 9" in text
    assert "9A (tutor:" in text
    assert "01/09/2026" in text
    assert "On roll" in text
    assert "SEN support" in text
    assert "EAL Yes" in text
    assert "FSM Ever 6, Service child" in text
    assert "Siobhán Ní Bhriain" in text
    assert "1 High Street" in text
    assert "Address withheld: do not share" in text
    assert "9 Hidden Lane" in text


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_file_name_uses_upn(client, oak_elm):
    oak, _ = oak_elm
    pupil = oak.enrol(legal_forename="Łukasz", legal_surname="Wiśniewski")

    response = get_profile(client, head_of_year(oak.year9), pupil)

    disposition = response["Content-Disposition"]
    assert f'filename="pupil-profile-{pupil.upn}.pdf"' in disposition
    assert "Wi" not in disposition
    assert "ukasz" not in disposition
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("name", NAMES)
def test_profile_prints_every_script(client, oak_elm, tmp_path, caplog, name):
    oak, _ = oak_elm
    forename, _, surname = name.partition(" ")
    pupil = oak.enrol(legal_forename=forename, legal_surname=surname or forename)
    if not surname:
        pupil.legal_forename, pupil.legal_surname = name[:1], name[1:]
        pupil.save()

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        response = get_profile(client, head_of_year(oak.year9), pupil)

    text = pdf_text(response.content, tmp_path)
    assert contains_name(text, pupil.legal_name)
    assert all(embedded == "yes" for _, embedded in pdf_fonts(response.content, tmp_path))
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_without_preferred_name_uses_legal(client, oak_elm, tmp_path):
    oak, _ = oak_elm
    pupil = oak.enrol(legal_forename="Amara", legal_surname="Okafor")

    response = get_profile(client, head_of_year(oak.year9), pupil)

    text = normalised(pdf_text(response.content, tmp_path))
    assert "Preferred name Amara Okafor (no preferred name recorded; legal name shown)" in text
    assert "Pupil profile: Amara Okafor" in text


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_hides_sensitive_without_permission(client, oak_elm, tmp_path):
    oak, _ = oak_elm
    pupil = oak.enrol(
        looked_after=True,
        medical_notes="Carries an adrenaline pen.",
        safeguarding_notes="Contact the designated lead first.",
    )
    SenNeedFactory(pupil=pupil, notes="Needs a quiet space at lunch.")
    FsmPeriodFactory(pupil=pupil)

    response = get_profile(client, head_of_year(oak.year9), pupil)

    text = normalised(pdf_text(response.content, tmp_path))
    assert "adrenaline" not in text
    assert "designated lead" not in text
    assert "quiet space" not in text
    assert "Speech, language" not in text
    assert "Looked after" not in text
    assert "FSM Ever 6" in text
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_SENSITIVE).exists()


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_shows_and_logs_sensitive_for_safeguarding_lead(client, oak_elm, tmp_path):
    oak, _ = oak_elm
    pupil = oak.enrol(
        looked_after=True,
        medical_notes="Carries an adrenaline pen.",
        safeguarding_notes="Contact the designated lead first.",
    )
    SenNeedFactory(pupil=pupil, notes="Needs a quiet space at lunch.")
    lead = safeguarding_lead(oak.academy)

    response = get_profile(client, lead, pupil)

    text = normalised(pdf_text(response.content, tmp_path))
    assert "Carries an adrenaline pen." in text
    assert "Contact the designated lead first." in text
    assert "Needs a quiet space at lunch." in text
    assert "Speech, language and communication needs" in text
    assert "Looked after Yes" in text
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW_SENSITIVE)
    assert event.actor == lead
    assert event.pupil_ref == pupil.pk
    assert "medical_notes" in event.changes["fields"]
    assert "sen_needs" in event.changes["fields"]


# Access to the profile PDF -------------------------------------------------


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_other_year_group_is_404(client, oak_elm):
    oak, _ = oak_elm
    year10_pupil = oak.enrol(year=10, legal_forename="Tenth")

    response = get_profile(client, head_of_year(oak.year9), year10_pupil)

    assert response.status_code == 404
    assert b"Tenth" not in response.content


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_other_academy_is_404(client, oak_elm):
    oak, elm = oak_elm
    elm_pupil = elm.enrol(legal_forename="Elmer")

    response = get_profile(client, head_of_year(oak.year9), elm_pupil)

    assert response.status_code == 404
    assert b"Elmer" not in response.content


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_trustee_is_404(client, oak_elm):
    oak, _ = oak_elm
    pupil = oak.enrol()

    response = get_profile(client, trustee(), pupil)

    assert response.status_code == 404


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_missing_pupil_is_404(client, oak_elm):
    oak, _ = oak_elm
    user = head_of_year(oak.year9)
    client.force_login(user)

    response = client.get("/pupils/999999/profile.pdf")

    assert response.status_code == 404


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_profile_needs_login(client, oak_elm):
    oak, _ = oak_elm
    pupil = PupilFactory()
    oak.enrol(pupil)

    response = client.get(f"/pupils/{pupil.pk}/profile.pdf")

    assert response.status_code == 302
