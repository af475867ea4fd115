"""CSV and XLSX downloads of any table, safe to open in a spreadsheet.

A text cell that starts with = + - @, a tab or a carriage return would run as
a formula in Excel or LibreOffice (CSV injection), so it gets a leading
single quote. Numbers, dates and booleans are typed values, never text, so a
points total of -3 stays the number -3.
"""

import csv
import datetime
import decimal
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from .clock import LONDON

ExportFormat = Literal["csv", "xlsx"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "%d/%m/%Y"
DATETIME_FORMAT = "%d/%m/%Y %H:%M"
XLSX_DATE_FORMAT = "dd/mm/yyyy"
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows per chunk of a streamed CSV, so the response is not written to the
# socket one row at a time.
CSV_ROWS_PER_CHUNK = 200

_UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_UNSAFE_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")


def neutralise(text: str) -> str:
    """Prefix `text` with a single quote when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _london(value: datetime.datetime) -> datetime.datetime:
    """Return `value` as a naive Europe/London time; naive values are taken as London time."""
    if value.tzinfo is None:
        return value
    return value.astimezone(LONDON).replace(tzinfo=None)


def csv_value(value: object) -> str:
    """Return `value` as CSV text: dates as dd/mm/yyyy, booleans as Yes or No."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return _london(value).strftime(DATETIME_FORMAT)
    if isinstance(value, datetime.date):
        return value.strftime(DATE_FORMAT)
    return neutralise(str(value))


def xlsx_value(value: object) -> tuple[Any, str | None]:
    """Return the value to store in an XLSX cell and its number format, if any."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("Yes" if value else "No"), None
    if isinstance(value, int | float | decimal.Decimal):
        return value, None
    if isinstance(value, datetime.datetime):
        return _london(value), XLSX_DATETIME_FORMAT
    if isinstance(value, datetime.date):
        return value, XLSX_DATE_FORMAT
    # Control characters other than tab, line feed and carriage return are
    # invalid in XML, and openpyxl raises on them.
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value))), None


def export_filename(filename: str, fmt: ExportFormat) -> str:
    """Return `filename` reduced to safe characters and ending in `.fmt`."""
    stem = filename.removesuffix(f".{fmt}")
    stem = _UNSAFE_FILENAME_CHARACTERS.sub("-", stem).strip("-.") or "export"
    return f"{stem}.{fmt}"


class _Echo:
    """File-like object whose write() returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte order mark makes Excel read the file as UTF-8, so accents survive.
    chunk = ["\ufeff", writer.writerow([csv_value(header) for header in headers])]
    for row in rows:
        chunk.append(writer.writerow([csv_value(value) for value in row]))
        if len(chunk) >= CSV_ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: object, *, bold: bool = False) -> WriteOnlyCell:
    stored, number_format = xlsx_value(value)
    cell = WriteOnlyCell(sheet, value=stored)
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def xlsx_bytes(*, title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Return an XLSX workbook with one sheet: a bold header row, then `rows`."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_UNSAFE_SHEET_CHARACTERS.sub(" ", title)[:31] or "Export")
    for index, header in enumerate(headers):
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(12, len(header) + 4)
    sheet.freeze_panes = "A2"
    sheet.append([_xlsx_cell(sheet, header, bold=True) for header in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(
    *,
    filename: str,
    fmt: ExportFormat,
    headers: list[str],
    rows: Iterable[Sequence[object]],
) -> HttpResponseBase:
    """Return a download of `rows` under `headers` as CSV (streamed) or XLSX.

    Raise ValueError for a format other than "csv" or "xlsx". Views check
    the format first and return 400.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"Export format {fmt!r} is not supported; use 'csv' or 'xlsx'.")
    name = export_filename(filename, fmt)
    disposition = f'attachment; filename="{name}"'

    if fmt == "csv":
        response: HttpResponseBase = StreamingHttpResponse(
            _csv_chunks(headers, rows), content_type="text/csv; charset=utf-8"
        )
    else:
        title = name.removesuffix(".xlsx")
        response = HttpResponse(
            xlsx_bytes(title=title, headers=headers, rows=rows), content_type=XLSX_CONTENT_TYPE
        )
    response["Content-Disposition"] = disposition
    # Exports contain pupil and staff data, so shared caches must not keep them.
    response["Cache-Control"] = "private, no-store"
    return response
