"""Portfolio test data: the personas with appraisals, and evidence files of
every accepted type built in memory.

The owner of the portfolio under test is the "staff" persona at Oak. Their
appraiser is the head of year; "teacher" is another teacher at Oak who has
no claim on the portfolio.
"""

import io
import struct
import zipfile
from dataclasses import dataclass

import openpyxl
from PIL import Image

from appraisal.models import Appraisal, AppraisalCycle, DevelopmentNeed, Standard, StandardSet
from staff.models import StaffMember

from .factories_appraisal import cycle_2026, make_appraisal
from .personas import Personas, build_personas


@dataclass
class PortfolioWorld:
    personas: Personas
    cycle: AppraisalCycle
    appraisal: Appraisal
    other_appraisal: Appraisal
    need: DevelopmentNeed
    standards: list[Standard]

    @property
    def owner(self) -> StaffMember:
        return self.personas.staff["staff"]

    def user(self, key: str):
        return self.personas.users[key]


def build_portfolio_world() -> PortfolioWorld:
    """Build the personas, the owner's final-reviewed appraisal with one
    development need, the other teacher's appraisal and a set of three
    standards. Call inside a frozen clock."""
    personas = build_personas()
    cycle = cycle_2026(personas)

    appraisal = make_appraisal(
        cycle,
        personas.staff["staff"],
        personas.staff["head_of_year"],
        status=Appraisal.Status.FINAL_REVIEWED,
    )
    other = make_appraisal(
        cycle,
        personas.staff["teacher"],
        personas.staff["academy_leader"],
        status=Appraisal.Status.OBJECTIVES_AGREED,
        objectives=(("Another teacher's objective on questioning", 100),),
    )
    need = DevelopmentNeed.objects.create(
        appraisal=appraisal,
        description="Adaptive teaching for pupils with SEND",
        suggested_kind="course",
    )

    # A set of its own, so the tests do not rely on the standards a migration
    # seeds, which a transactional test's flush removes from a reused database.
    standard_set = StandardSet.objects.create(name="Portfolio test standards")
    standards = [
        Standard.objects.create(
            standard_set=standard_set, code=f"P{number}", title=title, position=number
        )
        for number, title in enumerate(
            ("Set high expectations", "Promote good progress", "Adapt teaching"), start=1
        )
    ]

    return PortfolioWorld(
        personas=personas,
        cycle=cycle,
        appraisal=appraisal,
        other_appraisal=other,
        need=need,
        standards=standards,
    )


# Evidence files ---------------------------------------------------------------------------

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
# The start of a Windows executable (the "MZ" DOS header).
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FREE = 0xFFFFFFFF
END_OF_CHAIN = 0xFFFFFFFE
FAT_SECTOR = 0xFFFFFFFD


def image_bytes(fmt: str) -> bytes:
    """Return a 4 x 4 pixel image in Pillow's format `fmt` (PNG, JPEG, GIF, WEBP)."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (29, 79, 145)).save(buffer, fmt)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes], *, stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first is not None:
            archive.writestr(stored_first, entries[stored_first], zipfile.ZIP_STORED)
        for name, data in entries.items():
            if name != stored_first:
                archive.writestr(name, data)
    return buffer.getvalue()


def ooxml_bytes(folder: str, part: str, main_type: str) -> bytes:
    """Return an Office Open XML package whose main part `folder/part` has `main_type`."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{folder}/{part}" ContentType="{main_type}"/>'
        "</Types>"
    ).encode()
    return zip_bytes(
        {
            "[Content_Types].xml": content_types,
            "_rels/.rels": b"<Relationships/>",
            f"{folder}/{part}": b"<document/>",
        }
    )


DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def xlsx_bytes() -> bytes:
    """Return a real workbook written by openpyxl."""
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "CPD log"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def odf_bytes(mimetype: str) -> bytes:
    """Return an OpenDocument package declaring `mimetype`, stored first as ODF requires."""
    return zip_bytes(
        {"mimetype": mimetype.encode(), "content.xml": b"<office:document-content/>"},
        stored_first="mimetype",
    )


def _directory_entry(name: str, object_type: int) -> bytes:
    entry = bytearray(128)
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    entry[: len(encoded)] = encoded
    struct.pack_into("<H", entry, 0x40, len(encoded))
    entry[0x42] = object_type
    struct.pack_into("<III", entry, 0x44, FREE, FREE, FREE)
    struct.pack_into("<I", entry, 0x74, END_OF_CHAIN)
    return bytes(entry)


def ole_bytes(stream_name: str) -> bytes:
    """Return a minimal OLE compound file (MS-CFB version 3, 512-byte sectors)
    whose directory contains the root entry and one empty stream `stream_name`.

    Sector 0 is the only FAT sector and sector 1 the only directory sector.
    """
    header = bytearray(512)
    header[0:8] = OLE_SIGNATURE
    # Minor version, major version 3, little-endian byte order, 2^9 and 2^6 byte sectors.
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 0x2C, 1)
    struct.pack_into("<I", header, 0x30, 1)
    struct.pack_into("<I", header, 0x38, 4096)
    struct.pack_into("<III", header, 0x3C, END_OF_CHAIN, 0, END_OF_CHAIN)
    struct.pack_into("<I", header, 0x48, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([FREE] * 108))
    fat = struct.pack("<128I", FAT_SECTOR, END_OF_CHAIN, *([FREE] * 126))
    directory = _directory_entry("Root Entry", 5) + _directory_entry(stream_name, 2) + bytes(256)
    return bytes(header) + fat + directory
