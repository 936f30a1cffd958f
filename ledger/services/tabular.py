"""Reading import files (CSV or an Excel sheet) into rows that remember where they came from.

Headers match however a spreadsheet spells them: case, spaces, underscores and a byte-order mark
do not matter (``Pupil ID`` is ``pupil_id``). Cells are trimmed. Date columns (names ending in
``_on``) also take Excel date cells, Excel date serials and day/month/year. Every problem is one
line that starts with where it is: ``FILE:LINE`` for CSV, ``FILE!SHEET:ROW`` for a workbook.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ledger.errors import ImportRefused, InvalidInput
from ledger.exchange.grids import Grid, cell_text, column_letter, date_text, load_grid

T = TypeVar("T")
LONG_IMPORT = 200  # rows; shorter imports finish before a progress bar would be any use

# Set by the command line while an import runs on a terminal: wraps the rows being checked.
PROGRESS: ContextVar[Callable[[Sequence[Any], str], Iterable[Any]] | None] = ContextVar("import_progress", default=None)


@dataclass(frozen=True)
class Row:
    where: str  # "file.csv:12" or "file.xlsx!Sheet1:12", the prefix of every message about this row
    values: dict[str, str]

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


class Rows(list[Row]):
    """A table's data rows. A row that cannot be read as a record (more cells than the header has
    columns, a value under no header) is left out and its problem kept in ``problems``, so that the
    importer still checks every other row and reports every bad row of the file at once."""

    def __init__(self, label: str, rows: list[Row], problems: list[str]) -> None:
        super().__init__(rows)
        self.label = label
        self.problems = problems

    def refuse_if_any(self, source: str, problems: list[str]) -> None:
        """Refuse the import (nothing written) with these rows' problems and ``problems``, in line order."""
        found = [*self.problems, *problems]
        if found:
            raise ImportRefused(source, in_line_order(self.label, found))


def in_line_order(label: str, problems: list[str]) -> list[str]:
    """Problems that start ``LABEL:LINE:`` sorted by line (stably; any others first)."""
    prefix = len(label) + 1

    def line(problem: str) -> int:
        number = problem[prefix:].split(":", 1)[0] if problem.startswith(label + ":") else ""
        return int(number) if number.isdigit() else 0

    return sorted(problems, key=line)


def header_key(name: Any) -> str:
    """How headers are compared: lower case, without spaces, underscores or a byte-order mark."""
    return re.sub(r"[\s_]+", "", cell_text(name)).lower()


def tracked(items: Sequence[T], label: str = "checking rows") -> Iterable[T]:
    """``items``, shown as a progress bar when the command line asked for one and the import is long."""
    show = PROGRESS.get()
    if show is None or len(items) < LONG_IMPORT:
        return items
    return show(items, label)


def read_table(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = (), *,
               sheet: str | None = None, dates: tuple[str, ...] | None = None) -> tuple[Rows, str]:
    """The file's data rows and a digest of its bytes (and sheet): the import's idempotency key.

    ``path`` is CSV unless it ends in .xlsx or .xlsm (then ``sheet``, default the first sheet).
    ``dates`` names the date columns (default: the columns whose names end in ``_on``).
    """
    grid = load_grid(path, sheet)
    return rows_of(grid, required, optional, dates), grid.digest


def rows_of(grid: Grid, required: tuple[str, ...], optional: tuple[str, ...] = (),
            dates: tuple[str, ...] | None = None) -> Rows:
    columns = required + optional
    date_columns = set(dates if dates is not None else [c for c in columns if c.endswith("_on")])
    wanted = {header_key(c): c for c in columns}
    body = [r for r in grid.rows if not r.is_blank()]
    if grid.kind == "csv" and (not body or body[0] is not grid.rows[0]):
        raise InvalidInput(f"{grid.where(1)}: no header row; the first line must name the columns {','.join(required)}")
    if not body:
        raise InvalidInput(f"{grid.label}: the sheet is empty; its first row must name the columns {','.join(required)}")
    header_row = body[0]
    problems: list[str] = []
    names: list[str | None] = []  # per column: the canonical name, or None for an unnamed column
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for raw in header_row.cells:
        text = cell_text(raw)
        if not text:
            names.append(None)
            continue
        column = wanted.get(header_key(text))
        if column is None:
            unknown.append(text)
            names.append(None)
        elif column in seen:
            problems.append(f"{header_row.where}: column {column} appears twice ('{seen[column]}' and '{text}')")
            names.append(None)
        else:
            seen[column] = text
            names.append(column)
    missing = [c for c in required if c not in seen]
    if missing:
        problems.append(f"{header_row.where}: missing column(s) {', '.join(missing)}; expected {','.join(columns)}")
    if unknown:
        problems.append(f"{header_row.where}: unknown column(s) {', '.join(unknown)}")
    if problems:
        raise ImportRefused(grid.label, problems)
    merged = _merged_problems(grid, header_row.number)
    rows: list[Row] = []
    width = len(names)
    for row in body[1:]:
        cells = row.cells
        if len(cells) > width and any(cell_text(c) for c in cells[width:]):
            if grid.kind == "csv":
                problems.append(f"{row.where}: {len(cells)} cells but the header has {width} columns")
            else:
                extra = next(i for i in range(width, len(cells)) if cell_text(cells[i]))
                problems.append(f"{row.where}: a value in column {column_letter(extra + 1)}, which has no header")
            continue
        unnamed = [i for i, name in enumerate(names) if name is None and i < len(cells) and cell_text(cells[i])]
        if unnamed:
            problems += [f"{row.where}: a value in column {column_letter(i + 1)}, which has no header" for i in unnamed]
            continue
        values = {
            name: date_text(value, grid.epoch) if name in date_columns else cell_text(value)
            for name, value in zip(names, [*cells, *[None] * (width - len(cells))]) if name is not None
        }
        rows.append(Row(row.where, values))
    if merged:  # the rows under a merge have lost their values: nothing in them is worth checking
        raise ImportRefused(grid.label, in_line_order(grid.label, [*merged, *problems]))
    if not rows and not problems:
        raise InvalidInput(f"{grid.label}: no data rows under the header; nothing to import")
    return Rows(grid.label, rows, problems)


def _merged_problems(grid: Grid, header_number: int) -> list[str]:
    """Merged cells in a list of records leave every row but the first without a value: refuse them."""
    return [
        f"{grid.where(m.min_row)}: cells {m.ref} are merged; unmerge them so that every row has its own value"
        for m in grid.merged if m.max_row >= header_number
    ]
