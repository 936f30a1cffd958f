"""Files as grids of cells that remember where each row came from.

A CSV file, one sheet of an Excel workbook or a Word document's tables all become a :class:`Grid`:
rows of raw cell values, each with the prefix every message about it starts with:

* CSV: ``roll.csv:12`` (the line; a quoted cell spanning lines gives the line its record starts on)
* XLSX: ``roll.xlsx!Sheet1:12`` (the sheet's row number, as Excel shows it)
* Word: ``figures.docx!table2:5`` (the table, counted from 1, and its row)
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInput

XLSX_SUFFIXES = (".xlsx", ".xlsm")
DOCX_SUFFIXES = (".docx",)
EXCEL_1900 = date(1899, 12, 30)  # day 0 of Excel's 1900 date system (after its 1900 leap-year bug)


@dataclass(frozen=True)
class GridRow:
    where: str
    number: int
    cells: tuple[Any, ...]

    def texts(self) -> list[str]:
        return [cell_text(c) for c in self.cells]

    def is_blank(self) -> bool:
        return not any(cell_text(c) for c in self.cells)


@dataclass(frozen=True)
class Merge:
    """A merged range of cells (XLSX): its A1 reference and the rows and columns it covers (1-based)."""

    ref: str
    min_row: int
    max_row: int
    min_col: int
    max_col: int


@dataclass
class Grid:
    label: str  # "roll.csv", "roll.xlsx!Sheet1" or "figures.docx"
    kind: str  # csv, xlsx or docx
    rows: list[GridRow]
    digest: str
    merged: list[Merge] = field(default_factory=list)
    epoch: date = EXCEL_1900
    title: str | None = None  # docx: the document's first paragraph that names a year

    def where(self, number: int) -> str:
        return f"{self.label}:{number}"


def is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in XLSX_SUFFIXES


def is_docx(path: Path) -> bool:
    return path.suffix.lower() in DOCX_SUFFIXES


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None


def load_grid(path: Path, sheet: str | None = None, *, word: bool = False) -> Grid:
    """The file as a grid: XLSX by its suffix (first sheet unless ``sheet``), Word if ``word`` allows it, else CSV."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InvalidInput(f"{path}: the old Excel .xls format is not read; save it as .xlsx (Excel Workbook) or CSV UTF-8")
    if is_docx(path):
        if not word:
            raise InvalidInput(f"{path}: Word documents are read only by 'ledger import figures'; save this table as .xlsx or CSV")
        if sheet is not None:
            raise InvalidInput(f"{path}: --sheet is for Excel workbooks; a Word document's tables are all read")
        from ledger.exchange.docx_tables import docx_grid

        return docx_grid(path, read_bytes(path))
    raw = read_bytes(path)
    if is_xlsx(path):
        return xlsx_grid(path, raw, sheet)
    if sheet is not None:
        raise InvalidInput(f"{path}: --sheet is for Excel workbooks (.xlsx); this file is read as CSV")
    return csv_grid(path, raw)


def csv_grid(path: Path, raw: bytes) -> Grid:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    reader = csv.reader(text.splitlines(keepends=True))
    rows: list[GridRow] = []
    start = 1  # where the next record starts: a quoted cell may carry it over several lines
    try:
        for values in reader:
            rows.append(GridRow(f"{path}:{start}", start, tuple(values)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(f"{path}:{start}: {exc}") from None
    return Grid(str(path), "csv", rows, hashlib.sha256(raw).hexdigest())


def xlsx_grid(path: Path, raw: bytes, sheet: str | None) -> Grid:
    import warnings

    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            book = load_workbook(io.BytesIO(raw), data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to parse the file is the file's problem, said in one line
        raise InvalidInput(f"{path}: not an Excel workbook that can be read ({type(exc).__name__}: {exc}); "
                           "save it again as .xlsx") from None
    sheets = book.worksheets
    if not sheets:
        raise InvalidInput(f"{path}: the workbook has no worksheets")
    if sheet is None:
        ws = sheets[0]
    else:
        matches = [s for s in sheets if s.title == sheet] or [s for s in sheets if s.title.casefold() == sheet.strip().casefold()]
        if not matches:
            names = ", ".join(f"'{s.title}'" for s in sheets)
            raise InvalidInput(f"{path}: no sheet named '{sheet}'; its sheets are {names}")
        ws = matches[0]
    label = f"{path}!{ws.title}"
    rows = [GridRow(f"{label}:{n}", n, tuple(values)) for n, values in enumerate(ws.iter_rows(values_only=True), start=1)]
    merged = [Merge(str(r.coord), r.min_row, r.max_row, r.min_col, r.max_col) for r in ws.merged_cells.ranges]
    merged.sort(key=lambda m: (m.min_row, m.min_col))
    epoch = book.epoch.date() if isinstance(book.epoch, datetime) else EXCEL_1900
    digest = hashlib.sha256(raw + b"!" + ws.title.encode()).hexdigest()
    return Grid(label, "xlsx", rows, digest, merged, epoch)


# -- cells ---------------------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """A cell as trimmed text: whole numbers without '.0', dates as YYYY-MM-DD, no byte-order mark."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, time):
        return value.isoformat()
    return str(value).replace("\ufeff", "").strip()


_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00(:00(\.0+)?)?$")


def date_text(value: Any, epoch: date = EXCEL_1900) -> str:
    """A date column's cell as YYYY-MM-DD where it can be read as a date, else its text unchanged.

    Accepts Excel date cells, Excel date serials (a whole number such as 45173, as a cell or as
    text), day/month/year as Excel writes dates into a UK CSV (04/09/2023), and ISO dates with a
    midnight time. Anything else is left for the importer to refuse with its own message.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        serial = float(value)
        return _from_serial(serial, epoch) or cell_text(value)
    text = cell_text(value)
    if text.isdigit() and 3 <= len(text) <= 6:
        return _from_serial(float(text), epoch) or text
    m = _DMY.match(text)
    if m:
        try:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        except ValueError:
            return text
    m = _ISO_MIDNIGHT.match(text)
    return m.group(1) if m else text


def _from_serial(serial: float, epoch: date) -> str | None:
    # Serials before 1 March 1900 count Excel's phantom 29 February 1900; no school date is that old.
    if not serial.is_integer() or not 61 <= serial <= 2958465:
        return None
    return (epoch + timedelta(days=int(serial))).isoformat()


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
