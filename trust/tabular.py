"""Read uploaded CSV and XLSX files into rows of cells keyed by column.

The pupil and staff imports share this reader. It takes the bytes of the
upload, works out the format, the text encoding and the delimiter, finds the
header row and matches its headers to the import's columns through lists of
accepted header names. Problems with the file as a whole raise FileRejected;
problems with one cell are for the caller to report against the row's line.

CSV cells stay text, so "0042" and "07700900123" keep their leading zeros.
XLSX cells keep the type the workbook gives them (text, number, date).
"""

import codecs
import csv
import datetime
import io
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

# A cell as read: text (always, for CSV), or a number or date from an XLSX cell.
Cell = str | int | float | datetime.date

_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?$")
# Excel serial day numbers for 01/01/1900 to 31/12/9999.
_EXCEL_SERIAL_MAX = 2958465
# Title rows above the header (a report name, a date) are skipped; the header
# must be within this many non-blank rows of the top.
HEADER_SEARCH_ROWS = 10


class FileRejected(Exception):
    """The file as a whole cannot be imported. The message gives the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CellError(ValueError):
    """A cell contains a value its column does not allow. The message gives the reason."""


@dataclass
class Row:
    line: int
    cells: dict[str, Cell]
    # Non-empty cells to the right of the last header.
    extra_cells: int = 0

    def get(self, name: str) -> Cell:
        return self.cells.get(name, "")

    def raw(self) -> dict[str, str]:
        """Return the row's cells as text, for storing and showing."""
        return {key: display(value) for key, value in self.cells.items()}


@dataclass
class Table:
    # Column name -> header as written in the file.
    headers: dict[str, str]
    rows: list[Row]
    description: str
    ignored_headers: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name, name)


def normalise_header(text: str) -> str:
    """Fold a header for matching: case, dots, underscores and spacing are ignored."""
    text = text.replace("\ufeff", "").strip().lower().replace(".", "").replace("'", "")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def display(value: Cell) -> str:
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


# Decoding ------------------------------------------------------------------


def decode(content: bytes) -> tuple[str, str]:
    """Return the text of a CSV upload and the name of the encoding it used.

    A byte order mark decides (UTF-8 or UTF-16). Without one, UTF-16 is
    recognised by its zero bytes; otherwise strict UTF-8 is tried first and
    Windows-1252, the encoding older MIS exports use, after it.
    """
    if content.startswith(codecs.BOM_UTF8):
        return _decode(content[len(codecs.BOM_UTF8) :], "utf-8", "UTF-8 with byte order mark")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(content, "utf-16", "UTF-16")
    sample = content[:2000]
    if sample and sample.count(b"\x00") >= len(sample) // 4:
        odd_zeros = sample[1::2].count(b"\x00")
        encoding = "utf-16-le" if odd_zeros >= sample[0::2].count(b"\x00") else "utf-16-be"
        return _decode(content, encoding, "UTF-16")
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    return _decode(content, "cp1252", "Windows-1252")


def _decode(content: bytes, encoding: str, label: str) -> tuple[str, str]:
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError as error:
        raise FileRejected(
            f"The file could not be read as {label} (byte {error.start + 1} is invalid). "
            "Save it as CSV UTF-8 or as an Excel workbook (.xlsx) and upload it again."
        ) from None
    if "\x00" in text:
        raise FileRejected(
            "The file contains NUL characters, so it is not a text file. "
            "Save it as CSV UTF-8 or as an Excel workbook (.xlsx)."
        )
    return text.lstrip("\ufeff"), label


# Reading raw rows ------------------------------------------------------------


def _is_blank(cells: Iterable[Cell | None]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[Cell]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    try:
        for cells in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            yield start, [c.strip() for c in cells]
    except csv.Error as error:
        raise FileRejected(
            f"Line {reader.line_num} could not be read as CSV ({error}). "
            "Check for a quotation mark that is never closed."
        ) from None


def _leading_lines(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip(" ,;\t")]
    return lines[:HEADER_SEARCH_ROWS]


def choose_delimiter(text: str, known_headers: set[str]) -> str:
    """Return the delimiter under which a leading line matches the most known headers.

    A file saved by Excel with a continental European locale separates cells
    with semicolons; reading it with the wrong delimiter would give one column.
    """
    lines = _leading_lines(text)
    best, best_score = ",", -1
    for delimiter in _DELIMITERS:
        score = 0
        for cells in csv.reader(lines, delimiter=delimiter):
            matches = sum(1 for c in cells if normalise_header(c) in known_headers)
            score = max(score, matches)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Cell]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileRejected(
            f"The file could not be opened as an Excel workbook ({error}). "
            "Save it again as .xlsx or as CSV UTF-8."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_xlsx_cell(v) for v in values]
    finally:
        workbook.close()


def _xlsx_cell(value: Any) -> Cell:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return value
    return str(value).strip()


def _looks_like_xlsx(content: bytes, filename: str) -> bool:
    return content.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm"))


# The table ------------------------------------------------------------------


def read_table(
    content: bytes,
    filename: str,
    columns: Mapping[str, Iterable[str]],
    *,
    required: Iterable[str],
    labels: Mapping[str, str],
) -> Table:
    """Read an upload into a Table whose rows are keyed by column name.

    `columns` maps each column name to the headers accepted for it, compared
    after normalise_header. `required` lists the columns the header row must
    have. `labels` gives each column's name as users know it. Blank rows
    and rows of empty cells are skipped wherever they are.
    """
    if not content:
        raise FileRejected("The file is empty.")
    lower = filename.lower()
    if lower.endswith(".xls") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            "Old Excel files (.xls) cannot be read. Save the sheet as .xlsx or as CSV UTF-8."
        )
    aliases: dict[str, str] = {}
    for name, headers in columns.items():
        for header in headers:
            aliases[normalise_header(header)] = name

    if _looks_like_xlsx(content, filename):
        raw_rows: Iterator[tuple[int, list[Cell]]] = _xlsx_rows(content)
        description = "Excel workbook, first sheet"
    else:
        text, encoding = decode(content)
        delimiter = choose_delimiter(text, set(aliases))
        raw_rows = _csv_rows(text, delimiter)
        description = f"CSV, {encoding}, {_DELIMITER_NAMES[delimiter]}-separated"

    required = list(required)
    header_line, header_cells = _header(raw_rows, aliases, set(required))
    headers, positions, ignored = _match_headers(header_cells, header_line, aliases, labels)
    missing = [labels.get(name, name) for name in required if name not in headers]
    if missing:
        found = ", ".join(repr(display(c)) for c in header_cells if display(c).strip())
        raise FileRejected(
            f"No header row found: line {header_line}, the first row with text, has no "
            f"column for {', '.join(missing)}. Headers found: {found or 'none'}. "
            "The file must start with a row of column headers, separated by commas."
        )
    if header_line > 1:
        description += f", header on line {header_line}"

    rows = []
    width = len(header_cells)
    for line, cells in raw_rows:
        if _is_blank(cells):
            continue
        values = {name: cells[i] if i < len(cells) else "" for name, i in positions.items()}
        extra = sum(1 for c in cells[width:] if not _is_blank([c]))
        rows.append(Row(line=line, cells=values, extra_cells=extra))
    if not rows:
        raise FileRejected("The file has no data rows: it has a header row and nothing below it.")
    return Table(headers=headers, rows=rows, description=description, ignored_headers=ignored)


def _header(
    raw_rows: Iterator[tuple[int, list[Cell]]], aliases: dict[str, str], required: set[str]
) -> tuple[int, list[Cell]]:
    """Return the line and cells of the header row, consuming the rows up to it.

    The header is the first row that names every required column. When no
    row near the top does, the first row with text is returned, and the
    caller reports its missing columns.
    """
    first: tuple[int, list[Cell]] | None = None
    searched = 0
    for line, cells in raw_rows:
        if _is_blank(cells):
            continue
        first = first or (line, cells)
        names = {aliases.get(normalise_header(display(c))) for c in cells}
        if required <= names:
            return line, cells
        searched += 1
        if searched >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise FileRejected("The file has no header row and no data rows.")
    return first


def _match_headers(
    cells: list[Cell], line: int, aliases: dict[str, str], labels: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, int], list[str]]:
    headers: dict[str, str] = {}
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        written = display(cell).strip()
        if not written:
            continue
        name = aliases.get(normalise_header(written))
        if name is None:
            ignored.append(written)
            continue
        if name in headers:
            raise FileRejected(
                f"The header row (line {line}) has two columns for "
                f"{labels.get(name, name)}: {headers[name]!r} and {written!r}. "
                "Remove one of them."
            )
        headers[name] = written
        positions[name] = index
    return headers, positions, ignored


# Cell values ------------------------------------------------------------------


def text_value(cell: Cell) -> str:
    """Return a cell as text, rejecting numbers that Excel turned into scientific notation."""
    if isinstance(cell, datetime.date):
        return display(cell)
    if isinstance(cell, float) and not cell.is_integer():
        return str(cell)
    # A spreadsheet keeps 15 significant digits, so a longer number is damaged.
    if isinstance(cell, int | float) and abs(cell) >= 1e15:
        raise CellError(
            f"{cell:.6g} looks like scientific notation: a spreadsheet turned a long number "
            "into a rounded figure. Format the column as text and export it again."
        )
    value = display(cell).strip()
    if _SCIENTIFIC.match(value):
        raise CellError(
            f"{value!r} looks like scientific notation: a spreadsheet turned a long number "
            "into a rounded figure. Format the column as text and export it again."
        )
    return value


def date_value(cell: Cell) -> datetime.date:
    """Return a date from an XLSX date cell, an XLSX serial day number,
    dd/mm/yyyy or yyyy-mm-dd."""
    if isinstance(cell, datetime.date):
        return cell
    if isinstance(cell, int | float):
        serial = int(cell)
        if serial == cell and 1 <= serial <= _EXCEL_SERIAL_MAX:
            from openpyxl.utils.datetime import from_excel

            return from_excel(serial).date()
        raise CellError(f"{display(cell)!r} is not a date; use dd/mm/yyyy, e.g. 03/04/2014.")
    text = cell.strip()
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _ISO.match(text)
        if not match:
            if text.isdigit() and len(text) == 5:
                raise CellError(
                    f"{text!r} looks like a spreadsheet date serial number, not a date; "
                    "format the column as a date (dd/mm/yyyy) and export it again."
                )
            raise CellError(
                f"{text!r} is not a date; use dd/mm/yyyy (e.g. 03/04/2014) or yyyy-mm-dd."
            )
        year, month, day = (int(g) for g in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellError(f"{text!r} is not a real date ({day:02d}/{month:02d}/{year}).") from None


def choice_value(cell: Cell, choices: Mapping[str, Any], allowed: str) -> Any:
    """Return the value `choices` gives for the folded text of `cell`.

    `allowed` lists the accepted spellings for the message.
    """
    text = text_value(cell)
    key = " ".join(text.lower().replace("_", " ").split())
    if key in choices:
        return choices[key]
    raise CellError(f"{text!r} is not an allowed value; use one of: {allowed}.")


YES_NO: dict[str, bool] = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}
YES_NO_ALLOWED = "Yes, Y, TRUE, 1, No, N, FALSE, 0, or blank to keep the stored value"


# Holding an upload between preview and confirm ----------------------------------


def store_upload(content: bytes, filename: str, folder: str) -> str:
    """Save an upload through Django's storage API and return its storage name.

    The file lives in storage, not in the web process, so the confirm request
    may reach another server than the upload did.
    """
    suffix = ".xlsx" if _looks_like_xlsx(content, filename) else ".csv"
    return default_storage.save(
        f"imports/{folder}/{uuid.uuid4().hex}{suffix}", ContentFile(content)
    )


def load_upload(name: str) -> bytes | None:
    """Return the bytes of a stored upload, or None when it no longer exists."""
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as file:
        return file.read()


def delete_upload(name: str) -> None:
    default_storage.delete(name)


# Uploads a session may keep waiting for confirmation; older ones are deleted.
# NOTE: the files of a session that ends without a confirm stay in storage
# under imports/ until someone removes them.
MAX_PENDING_UPLOADS = 5


def remember_upload(session: Any, key: str, entry: dict[str, Any]) -> str:
    """Name a stored upload in the session under a new token and return the token.

    `entry` must include "stored", the storage name. Beyond MAX_PENDING_UPLOADS
    the oldest waiting uploads are forgotten and their files deleted.
    """
    token = uuid.uuid4().hex
    pending = dict(session.get(key, {}))
    pending[token] = entry
    while len(pending) > MAX_PENDING_UPLOADS:
        oldest = next(iter(pending))
        delete_upload(pending.pop(oldest)["stored"])
    session[key] = pending
    return token


def pending_upload(session: Any, key: str, token: str) -> tuple[dict[str, Any], bytes] | None:
    """Return the session's entry for `token` and its file's bytes, or None
    when the token is unknown or the file no longer exists."""
    entry = session.get(key, {}).get(token)
    if not entry:
        return None
    content = load_upload(entry["stored"])
    if content is None:
        return None
    return entry, content


def take_upload(session: Any, key: str, token: str) -> dict[str, Any] | None:
    """Remove an upload from the session and return its entry, keeping its file.

    The caller takes over the stored file, for example for a queued import
    that deletes it when it finishes.
    """
    pending = dict(session.get(key, {}))
    entry = pending.pop(token, None)
    session[key] = pending
    return entry


def mark_upload(session: Any, key: str, token: str, **values: Any) -> None:
    """Store `values` in the session entry of a waiting upload, if it is still there."""
    pending = dict(session.get(key, {}))
    if token in pending:
        pending[token] = {**pending[token], **values}
        session[key] = pending


def forget_upload(session: Any, key: str, token: str) -> None:
    """Remove a confirmed upload from the session and delete its file."""
    pending = dict(session.get(key, {}))
    entry = pending.pop(token, None)
    session[key] = pending
    if entry:
        delete_upload(entry["stored"])
