"""Content type checking and name cleaning for CPD evidence files.

The type of an upload is read from its bytes, never from its name or the
browser's Content-Type, and the stored extension comes from that type.
Accepted types:

- PDF (``%PDF-``);
- PNG, JPEG, GIF and WebP images (their signatures);
- Office Open XML documents (docx, xlsx, pptx): a ZIP archive with
  ``[Content_Types].xml`` that declares the document's main part, and that
  part's folder (``word/``, ``xl/`` or ``ppt/``). Macro-enabled variants and
  templates declare other main parts and are rejected;
- OpenDocument files (odt, ods, odp): a ZIP archive whose ``mimetype``
  entry names the text, spreadsheet or presentation type;
- legacy Word, Excel and PowerPoint files (doc, xls, ppt): an OLE compound
  file whose directory contains the ``WordDocument``, ``Workbook`` (or
  ``Book``) or ``PowerPoint Document`` stream. Other compound files, such
  as Windows installers, are rejected.

A file whose name disagrees with its content is stored as what its content
is: a PNG named "scan.pdf" is stored as PNG and downloads as "scan.png".
"""

import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

# Bytes read from the start of a file to recognise its signature.
HEAD_BYTES = 16
# The [Content_Types].xml and mimetype entries are a few kilobytes at most;
# reading no more keeps a crafted archive from using memory.
ZIP_ENTRY_READ_LIMIT = 256 * 1024
# The directory and DIFAT chains are followed for at most this many sectors
# (16,384 directory entries at 512 bytes a sector), far more than an Office
# document has. A longer or looping chain counts as malformed.
MAX_DIRECTORY_SECTORS = 4096
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class FileType:
    """A recognised evidence type: its stored extension, MIME type and label."""

    extension: str
    content_type: str
    label: str


PDF = FileType(".pdf", "application/pdf", "PDF")
PNG = FileType(".png", "image/png", "PNG image")
JPEG = FileType(".jpg", "image/jpeg", "JPEG image")
GIF = FileType(".gif", "image/gif", "GIF image")
WEBP = FileType(".webp", "image/webp", "WebP image")
DOCX = FileType(
    ".docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word document",
)
XLSX = FileType(
    ".xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "Excel workbook",
)
PPTX = FileType(
    ".pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "PowerPoint presentation",
)
ODT = FileType(".odt", "application/vnd.oasis.opendocument.text", "OpenDocument text")
ODS = FileType(".ods", "application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet")
ODP = FileType(
    ".odp", "application/vnd.oasis.opendocument.presentation", "OpenDocument presentation"
)
DOC = FileType(".doc", "application/msword", "Word 97-2003 document")
XLS = FileType(".xls", "application/vnd.ms-excel", "Excel 97-2003 workbook")
PPT = FileType(".ppt", "application/vnd.ms-powerpoint", "PowerPoint 97-2003 presentation")

ALLOWED_TYPES = (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, ODT, ODS, ODP, DOC, XLS, PPT)
ALLOWED_DESCRIPTION = (
    "PDF, PNG, JPEG, GIF or WebP images, and Word, Excel, PowerPoint or "
    "OpenDocument files (docx, xlsx, pptx, odt, ods, odp, doc, xls, ppt)"
)

# Office Open XML: the main part's content type in [Content_Types].xml, and
# the folder that contains the document's parts (ECMA-376 Part 1, section 11).
_OOXML_TYPES = (
    (
        DOCX,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "word/",
    ),
    (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "xl/"),
    (
        PPTX,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        "ppt/",
    ),
)
_ODF_TYPES = {file_type.content_type: file_type for file_type in (ODT, ODS, ODP)}

# OLE compound files (MS-CFB): the header signature and the stream names
# that identify each legacy Office format.
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_STREAMS = {"WordDocument": DOC, "Workbook": XLS, "Book": XLS, "PowerPoint Document": PPT}
_END_OF_CHAIN = 0xFFFFFFFE
_LAST_REGULAR_SECTOR = 0xFFFFFFFA


def detect_type(upload: IO[bytes]) -> FileType | None:
    """Return the evidence type of the file's content, or None when it is not
    one of ALLOWED_TYPES. The file is read from its start and left at its start."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return PDF
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return PNG
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith((b"GIF87a", b"GIF89a")):
            return GIF
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return WEBP
        if head.startswith(b"PK\x03\x04"):
            return _zip_type(upload)
        if head.startswith(_OLE_SIGNATURE):
            return _ole_type(upload)
        return None
    finally:
        upload.seek(0)


def _read_entry(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as entry:
        return entry.read(ZIP_ENTRY_READ_LIMIT)


def _zip_type(upload: IO[bytes]) -> FileType | None:
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = _read_entry(archive, "mimetype").decode("ascii", "replace").strip()
                return _ODF_TYPES.get(declared)
            if "[Content_Types].xml" not in names:
                return None
            content_types = _read_entry(archive, "[Content_Types].xml").decode("utf-8", "replace")
            for file_type, main_part, folder in _OOXML_TYPES:
                has_folder = any(name.startswith(folder) for name in names)
                if f'ContentType="{main_part}"' in content_types and has_folder:
                    return file_type
            return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        # A broken archive, or one compressed with a method zipfile cannot read.
        return None


def _ole_type(upload: IO[bytes]) -> FileType | None:
    try:
        names = _ole_stream_names(upload)
    except (ValueError, struct.error):
        return None
    for name, file_type in _OLE_STREAMS.items():
        if name in names:
            return file_type
    return None


def _ole_stream_names(upload: IO[bytes]) -> set[str]:
    """Return the names in an OLE compound file's directory (MS-CFB 2.2 to 2.6).

    Reads the header, the FAT sectors it lists (and those of the DIFAT
    chain), then follows the directory chain. Raises ValueError on a
    malformed file.
    """
    upload.seek(0)
    header = upload.read(512)
    if len(header) < 512:
        raise ValueError("short header")
    sector_shift = struct.unpack_from("<H", header, 0x1E)[0]
    if sector_shift not in (9, 12):
        raise ValueError("bad sector size")
    sector_size = 1 << sector_shift
    first_directory = struct.unpack_from("<I", header, 0x30)[0]
    first_difat, difat_count = struct.unpack_from("<II", header, 0x44)

    def read_sector(number: int) -> bytes:
        if number > _LAST_REGULAR_SECTOR:
            raise ValueError("bad sector number")
        upload.seek((number + 1) * sector_size)
        data = upload.read(sector_size)
        if len(data) < sector_size:
            raise ValueError("sector past the end of the file")
        return data

    per_sector = sector_size // 4
    fat_sectors = list(struct.unpack_from("<109I", header, 0x4C))
    difat_sector = first_difat
    for _ in range(min(difat_count, MAX_DIRECTORY_SECTORS)):
        if difat_sector > _LAST_REGULAR_SECTOR:
            break
        entries = struct.unpack(f"<{per_sector}I", read_sector(difat_sector))
        fat_sectors.extend(entries[:-1])
        difat_sector = entries[-1]
    fat: list[int] = []
    for number in fat_sectors:
        if number > _LAST_REGULAR_SECTOR:
            continue
        fat.extend(struct.unpack(f"<{per_sector}I", read_sector(number)))

    names: set[str] = set()
    sector = first_directory
    seen: set[int] = set()
    while sector != _END_OF_CHAIN:
        if sector in seen or len(seen) >= MAX_DIRECTORY_SECTORS or sector >= len(fat):
            raise ValueError("broken directory chain")
        seen.add(sector)
        data = read_sector(sector)
        for offset in range(0, sector_size, 128):
            entry = data[offset : offset + 128]
            name_bytes = struct.unpack_from("<H", entry, 0x40)[0]
            object_type = entry[0x42]
            # Types 1, 2 and 5 are a storage, a stream and the root entry.
            if object_type in (1, 2, 5) and 2 <= name_bytes <= 64:
                names.add(entry[: name_bytes - 2].decode("utf-16-le", "replace"))
        sector = fat[sector]
    return names


def clean_name(raw: str, file_type: FileType) -> str:
    """Return the uploaded file name as display text.

    Only the last path part is kept, whichever separator the browser used,
    and control and format characters (such as a right-to-left override)
    are removed. An empty result becomes "evidence" with the type's
    extension. The text never becomes a path: files are stored under a
    generated token.
    """
    last_part = raw.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in last_part if unicodedata.category(c) not in ("Cc", "Cf"))
    kept = " ".join(kept.split()).strip(". ")
    if not kept:
        return "evidence" + file_type.extension
    if len(kept) <= MAX_NAME_LENGTH:
        return kept
    stem, dot, suffix = kept.rpartition(".")
    if dot and 0 < len(suffix) <= 10:
        return stem[: MAX_NAME_LENGTH - len(suffix) - 1] + "." + suffix
    return kept[:MAX_NAME_LENGTH]


def download_name(original_name: str, file_type_extension: str) -> str:
    """Return the name a download is saved as: the uploaded name with the
    extension of the detected type in place of its own."""
    stem, dot, suffix = original_name.rpartition(".")
    if dot and stem and 0 < len(suffix) <= 10:
        return stem + file_type_extension
    return original_name + file_type_extension


def megabytes(size: int) -> str:
    """Return `size` bytes in MB (1 MB = 1,048,576 bytes) as text for messages."""
    value = size / (1024 * 1024)
    if value >= 0.1:
        return f"{value:,.1f}".removesuffix(".0")
    return f"{value:.2g}"
