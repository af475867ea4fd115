"""CPD evidence files: the type read from content, the size limit, cleaned
names, private storage, and who may download a file."""

import io
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from appraisal import evidence as types
from appraisal import portfolio
from appraisal.models import EvidenceFile, PortfolioEntry
from trust.models import AuditEvent

from .factories_portfolio import (
    DOCM_MAIN,
    DOCX_MAIN,
    EXE_BYTES,
    PDF_BYTES,
    PPTX_MAIN,
    build_portfolio_world,
    image_bytes,
    odf_bytes,
    ole_bytes,
    ooxml_bytes,
    xlsx_bytes,
    zip_bytes,
)
from .personas import TODAY

LIMIT = 64 * 1024


@pytest.fixture
def evidence_root(tmp_path: Path, settings) -> Path:
    """Send evidence to a temporary folder and set a small size limit."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    settings.EVIDENCE_MAX_BYTES = LIMIT
    return root


@pytest.fixture
def world(db, evidence_root):
    """The portfolio world, with the clock frozen for the whole test."""
    with time_machine.travel(TODAY, tick=False):
        yield build_portfolio_world()


@pytest.fixture
def entry(world) -> PortfolioEntry:
    return portfolio.entry_save(
        world.user("staff"),
        staff=world.owner,
        kind="course",
        title="Questioning in mathematics",
        started_on="12/10/2026",
        hours="6",
    )


def upload(name: str, data: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# Detection by content -----------------------------------------------------------------------

ACCEPTED = [
    ("pdf", PDF_BYTES, types.PDF),
    ("png", image_bytes("PNG"), types.PNG),
    ("jpeg", image_bytes("JPEG"), types.JPEG),
    ("gif", image_bytes("GIF"), types.GIF),
    ("webp", image_bytes("WEBP"), types.WEBP),
    ("docx", ooxml_bytes("word", "document.xml", DOCX_MAIN), types.DOCX),
    ("xlsx", xlsx_bytes(), types.XLSX),
    ("pptx", ooxml_bytes("ppt", "presentation.xml", PPTX_MAIN), types.PPTX),
    ("odt", odf_bytes("application/vnd.oasis.opendocument.text"), types.ODT),
    ("ods", odf_bytes("application/vnd.oasis.opendocument.spreadsheet"), types.ODS),
    ("odp", odf_bytes("application/vnd.oasis.opendocument.presentation"), types.ODP),
    ("doc", ole_bytes("WordDocument"), types.DOC),
    ("xls", ole_bytes("Workbook"), types.XLS),
    ("xls-biff5", ole_bytes("Book"), types.XLS),
    ("ppt", ole_bytes("PowerPoint Document"), types.PPT),
]


@pytest.mark.parametrize(("label", "data", "expected"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_detect_accepted_type(label, data, expected):
    handle = io.BytesIO(data)
    assert types.detect_type(handle) == expected
    assert handle.tell() == 0


REJECTED = [
    ("exe", EXE_BYTES),
    ("plain text", b"Notes from the INSET day.\n"),
    ("html", b"<!DOCTYPE html><script>alert(1)</script>"),
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
    ("plain zip", zip_bytes({"notes.txt": b"hello"})),
    ("macro docx", ooxml_bytes("word", "document.xml", DOCM_MAIN)),
    ("content types without folder", ooxml_bytes("other", "document.xml", DOCX_MAIN)),
    ("epub", odf_bytes("application/epub+zip")),
    ("truncated zip", zip_bytes({"mimetype": b"x"})[:30]),
    ("installer", ole_bytes("\x05SummaryInformation")),
    ("ole header only", ole_bytes("WordDocument")[:512]),
    ("riff not webp", b"RIFF\x10\x00\x00\x00WAVEfmt "),
    ("empty", b""),
]


@pytest.mark.parametrize(("label", "data"), REJECTED, ids=[r[0] for r in REJECTED])
def test_detect_rejected_type(label, data):
    assert types.detect_type(io.BytesIO(data)) is None


def test_ole_with_looping_directory_rejected():
    data = bytearray(ole_bytes("WordDocument"))
    # Point the directory sector's FAT entry back at itself.
    data[512 + 4 : 512 + 8] = (1).to_bytes(4, "little")
    assert types.detect_type(io.BytesIO(bytes(data))) is None


CLEAN_NAMES = [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\Windows\\system.ini.pdf", "system.ini.pdf"),
    ("C:\\Users\\sam\\Certificate.pdf", "Certificate.pdf"),
    ("report\x00.pdf", "report.pdf"),
    ("cert\u202efdp.exe", "certfdp.exe"),
    ("  spaced   out  name.pdf ", "spaced out name.pdf"),
    ("..", "evidence.pdf"),
    ("", "evidence.pdf"),
    ("/", "evidence.pdf"),
]


@pytest.mark.parametrize(("raw", "expected"), CLEAN_NAMES)
def test_clean_name(raw, expected):
    assert types.clean_name(raw, types.PDF) == expected


def test_clean_name_long_keeps_extension():
    cleaned = types.clean_name("a" * 300 + ".pdf", types.PDF)
    assert len(cleaned) == types.MAX_NAME_LENGTH
    assert cleaned.endswith(".pdf")


def test_download_name_uses_detected_extension():
    assert types.download_name("scan.pdf", ".png") == "scan.png"
    assert types.download_name("Certificate", ".pdf") == "Certificate.pdf"
    assert types.download_name("notes.final.docx", ".docx") == "notes.final.docx"


# Uploads through the service ----------------------------------------------------------------


@pytest.mark.parametrize(("label", "data", "expected"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_evidence_add_every_type(world, entry, evidence_root, label, data, expected):
    stored = portfolio.evidence_add(
        world.user("staff"), entry, upload(f"evidence.{label}", data, "text/plain")
    )
    stored.refresh_from_db()
    assert stored.extension == expected.extension
    assert stored.content_type == expected.content_type
    assert stored.size == len(data)
    assert stored.file.name == f"evidence/{world.owner.pk}/{stored.token}{expected.extension}"
    assert (evidence_root / stored.file.name).read_bytes() == data


def test_pdf_name_with_png_content_stored_as_png(world, entry, evidence_root):
    stored = portfolio.evidence_add(
        world.user("staff"), entry, upload("scan.pdf", image_bytes("PNG"))
    )
    assert stored.extension == ".png"
    assert stored.content_type == "image/png"
    assert stored.original_name == "scan.pdf"
    assert stored.file.name.endswith(".png")


def rejected_message(world, entry, uploaded) -> str:
    with pytest.raises(ValidationError) as caught:
        portfolio.evidence_add(world.user("staff"), entry, uploaded)
    assert EvidenceFile.objects.count() == 0
    return " ".join(caught.value.message_dict["file"])


def test_exe_named_pdf_rejected(world, entry, evidence_root):
    message = rejected_message(world, entry, upload("certificate.pdf", EXE_BYTES))
    assert "“certificate.pdf” is not an allowed type by its content" in message
    assert "PDF, PNG, JPEG, GIF or WebP images" in message
    assert not any(evidence_root.rglob("*.*"))


def test_zip_not_office_rejected(world, entry):
    data = zip_bytes({"word/notes.txt": b"not a document"})
    message = rejected_message(world, entry, upload("notes.docx", data))
    assert "“notes.docx” is not an allowed type" in message


def test_empty_file_rejected(world, entry):
    message = rejected_message(world, entry, upload("blank.pdf", b""))
    assert message == "The file “blank.pdf” is empty; choose a file with content."


def test_file_over_limit_rejected(world, entry):
    data = PDF_BYTES + bytes(LIMIT + 1 - len(PDF_BYTES))
    message = rejected_message(world, entry, upload("big.pdf", data))
    assert f"({LIMIT + 1:,} bytes)" in message
    assert f"over the limit of 0.062 MB ({LIMIT:,} bytes)" in message


def test_file_at_limit_accepted(world, entry):
    data = PDF_BYTES + bytes(LIMIT - len(PDF_BYTES))
    stored = portfolio.evidence_add(world.user("staff"), entry, upload("exact.pdf", data))
    assert stored.size == LIMIT


def test_limit_message_in_megabytes(world, entry, settings):
    settings.EVIDENCE_MAX_BYTES = 10 * 1024 * 1024

    data = PDF_BYTES + bytes(12 * 1024 * 1024 - len(PDF_BYTES))
    message = rejected_message(world, entry, upload("scan.pdf", data))
    assert "is 12 MB (12,582,912 bytes), over the limit of 10 MB (10,485,760 bytes)" in message


def test_path_traversal_name_stored_as_text(world, entry, evidence_root, tmp_path):
    uploaded = upload("x.pdf", PDF_BYTES)
    # SimpleUploadedFile keeps only the base name, as Django's parser does;
    # set the raw name to check the service's own cleaning too.
    uploaded._name = "../../etc/passwd.pdf"
    stored = portfolio.evidence_add(world.user("staff"), entry, uploaded)
    assert stored.original_name == "passwd.pdf"
    assert stored.file.name == f"evidence/{world.owner.pk}/{stored.token}.pdf"
    assert len(stored.token) == 32
    assert (evidence_root / stored.file.name).is_file()
    assert not (tmp_path / "etc").exists()
    assert [p.name for p in evidence_root.rglob("*") if p.is_file()] == [f"{stored.token}.pdf"]


def test_evidence_add_by_appraiser_denied(world, entry):
    with pytest.raises(PermissionDenied):
        portfolio.evidence_add(world.user("head_of_year"), entry, upload("c.pdf", PDF_BYTES))
    assert EvidenceFile.objects.count() == 0


def test_evidence_upload_audited(world, entry):
    stored = portfolio.evidence_add(world.user("staff"), entry, upload("c.pdf", PDF_BYTES))
    event = AuditEvent.objects.get(model="appraisal.EvidenceFile", object_id=str(stored.pk))
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == world.user("staff")
    assert event.changes["original_name"] == [None, "c.pdf"]


def test_evidence_count_limit(world, entry, settings):
    for number in range(portfolio.MAX_EVIDENCE_PER_ENTRY):
        portfolio.evidence_add(world.user("staff"), entry, upload(f"{number}.pdf", PDF_BYTES))
    with pytest.raises(ValidationError) as caught:
        portfolio.evidence_add(world.user("staff"), entry, upload("one-more.pdf", PDF_BYTES))
    assert "already has 20 files, the maximum" in caught.value.message_dict["file"][0]


def test_evidence_delete_removes_file(
    world, entry, evidence_root, django_capture_on_commit_callbacks
):
    stored = portfolio.evidence_add(world.user("staff"), entry, upload("c.pdf", PDF_BYTES))
    path = evidence_root / stored.file.name
    with django_capture_on_commit_callbacks(execute=True):
        portfolio.evidence_delete(world.user("staff"), stored)
    assert not path.exists()
    assert not EvidenceFile.objects.filter(pk=stored.pk).exists()


def test_entry_delete_removes_files(
    world, entry, evidence_root, django_capture_on_commit_callbacks
):
    first = portfolio.evidence_add(world.user("staff"), entry, upload("a.pdf", PDF_BYTES))
    second = portfolio.evidence_add(world.user("staff"), entry, upload("b.png", image_bytes("PNG")))
    paths = [evidence_root / first.file.name, evidence_root / second.file.name]
    assert all(path.exists() for path in paths)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio.entry_delete(world.user("staff"), entry)
    assert not any(path.exists() for path in paths)
    assert EvidenceFile.objects.count() == 0


# Pages: upload and download -------------------------------------------------------------------


def test_upload_page_stores_file(client, world, entry, evidence_root):
    client.force_login(world.user("staff"))
    url = reverse("appraisal:evidence-add", args=[entry.pk])
    response = client.post(url, {"file": upload("../../etc/passwd.pdf", PDF_BYTES)})
    assert response.status_code == 302
    stored = EvidenceFile.objects.get()
    assert stored.original_name == "passwd.pdf"
    assert (evidence_root / stored.file.name).read_bytes() == PDF_BYTES
    page = client.get(url)
    assert "passwd.pdf" in page.content.decode()


def test_upload_page_wrong_type_400(client, world, entry):
    client.force_login(world.user("staff"))
    url = reverse("appraisal:evidence-add", args=[entry.pk])
    response = client.post(url, {"file": upload("virus.pdf", EXE_BYTES)})
    assert response.status_code == 400
    assert "“virus.pdf” is not an allowed type by its content" in response.content.decode()
    assert EvidenceFile.objects.count() == 0


def test_upload_page_without_file_400(client, world, entry):
    client.force_login(world.user("staff"))
    response = client.post(reverse("appraisal:evidence-add", args=[entry.pk]), {})
    assert response.status_code == 400
    assert "No file was chosen; choose a file to upload." in response.content.decode()


def test_upload_page_by_appraiser_403(client, world, entry):
    client.force_login(world.user("head_of_year"))
    url = reverse("appraisal:evidence-add", args=[entry.pk])
    response = client.post(url, {"file": upload("c.pdf", PDF_BYTES)})
    assert response.status_code == 403
    assert EvidenceFile.objects.count() == 0


def test_upload_page_by_other_teacher_404(client, world, entry):
    client.force_login(world.user("teacher"))
    response = client.get(reverse("appraisal:evidence-add", args=[entry.pk]))
    assert response.status_code == 404


@pytest.fixture
def stored_png(world, entry) -> EvidenceFile:
    return portfolio.evidence_add(
        world.user("staff"), entry, upload("Certificate scan.pdf", image_bytes("PNG"))
    )


@pytest.mark.parametrize("persona", ["staff", "head_of_year", "headteacher", "trust_hr"])
def test_download_allowed(client, world, stored_png, persona):
    client.force_login(world.user(persona))
    response = client.get(reverse("appraisal:evidence-download", args=[stored_png.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == image_bytes("PNG")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="Certificate scan.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("persona", ["teacher", "elm_teacher", "trustee", "trust_leader"])
def test_download_refused_404(client, world, stored_png, persona):
    client.force_login(world.user(persona))
    response = client.get(reverse("appraisal:evidence-download", args=[stored_png.pk]))
    assert response.status_code == 404


def test_download_non_ascii_name(client, world, entry):
    stored = portfolio.evidence_add(
        world.user("staff"), entry, upload("Zertifikat Müller.pdf", PDF_BYTES)
    )
    client.force_login(world.user("staff"))
    response = client.get(reverse("appraisal:evidence-download", args=[stored.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Zertifikat%20M%C3%BCller.pdf"
    )
    assert response["Content-Type"] == "application/pdf"


def test_download_anonymous_redirects_to_login(client, stored_png):
    url = reverse("appraisal:evidence-download", args=[stored_png.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_download_missing_file_404(client, world, stored_png, evidence_root):
    (evidence_root / stored_png.file.name).unlink()
    client.force_login(world.user("staff"))
    response = client.get(reverse("appraisal:evidence-download", args=[stored_png.pk]))
    assert response.status_code == 404


def test_evidence_open_refused_for_other_teacher(world, stored_png):
    with pytest.raises(PermissionDenied):
        portfolio.evidence_open(world.user("teacher"), stored_png)


def test_evidence_delete_page(client, world, stored_png, evidence_root):
    client.force_login(world.user("staff"))
    url = reverse("appraisal:evidence-delete", args=[stored_png.pk])
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 302
    assert not EvidenceFile.objects.filter(pk=stored_png.pk).exists()


def test_evidence_delete_by_appraiser_403(client, world, stored_png):
    client.force_login(world.user("head_of_year"))
    response = client.post(reverse("appraisal:evidence-delete", args=[stored_png.pk]))
    assert response.status_code == 403
    assert EvidenceFile.objects.filter(pk=stored_png.pk).exists()
