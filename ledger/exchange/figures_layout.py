"""Reading a school's per-class figures table from a grid (CSV, an Excel sheet or a Word document).

Two shapes are read:

* **flat**, one row per class, as in the seed CSV and ``ledger report --format csv``: columns
  ``phase,class,t1_appropriate,t1_smaller_steps,...,t3_smaller_steps``; rows whose class is
  ``Total`` (a phase's totals) or whose phase is ``Whole school`` are checked, not imported.
* **blocks**, as in the school's Word report and ``ledger report --format xlsx``: per phase a
  heading ('EFYS / KS1 / KS2'; EFYS is read as EYFS), a row of term headings (TERM 1, TERM 2,
  TERM 3, each over its two columns), a header row (Class, Pupils making appropriate progress,
  Pupils making smaller steps of progress, ...), then one row per class; ``Total`` and
  ``Whole school`` rows are checked against the classes, ``% appropriate`` rows are skipped. A
  title naming the year ('EHCP Data 2023- 2024') gives the year.

In both, a class cell may carry a mark (``2MD (PMLD)``), ``N/A`` means the class did not exist that
term and blank means no figures; both counts of a term must be given, or both N/A, or both blank.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.calendar import AcademicYear
from ledger.errors import ImportRefused, InvalidInput
from ledger.events import check_id
from ledger.exchange.docx_tables import YEAR_IN_TITLE, phase_heading
from ledger.exchange.grids import Grid, GridRow, cell_text
from ledger.figures_events import ClassFigures, TermFigures
from ledger.services.tabular import header_key, in_line_order, rows_of

STATUSES = ("appropriate", "smaller_steps")
STATUS_LABEL = {"appropriate": "appropriate", "smaller_steps": "smaller steps"}
FLAT_COLUMNS = ("phase", "class") + tuple(f"t{n}_{k}" for n in (1, 2, 3) for k in STATUSES)
_TERM = re.compile(r"^(?:term|t)\s*([1-3])$", re.IGNORECASE)
_TERM_IN_HEADER = re.compile(r"\b(?:term\s*|t)([1-3])\b", re.IGNORECASE)
_LABEL = re.compile(r"^(?P<id>[^()]*?)\s*\((?P<mark>[^()]*)\)$")
_MARK = re.compile(r"^[A-Za-z0-9 -]{1,16}$")
_TOTAL = {"total", "totals", "phase total", "total pupils"}
_SCHOOL = {"whole school", "whole-school", "school total", "whole school total"}
NA, BLANK = "N/A", ""


@dataclass
class ParsedFigures:
    year: AcademicYear | None
    classes: list[ClassFigures] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)  # class id -> where its row is

    @property
    def phases(self) -> list[str]:
        return list(dict.fromkeys(c.phase for c in self.classes))


def year_in(text: str | None) -> AcademicYear | None:
    """The academic year a title names: 'EHCP Data 2023- 2024' and '2023-24' are both 2023-24."""
    for m in YEAR_IN_TITLE.finditer(text or ""):
        start, end = int(m.group(1)), m.group(2)
        end_year = int(end) if len(end) == 4 else start // 100 * 100 + int(end)
        if end_year == start + 1:
            return AcademicYear(start)
    return None


def parse_figures(grid: Grid) -> ParsedFigures:
    """The table in ``grid``; every problem found is reported, one line each, with where it is."""
    rows = [r for r in grid.rows if not r.is_blank()]
    if not rows or (grid.kind == "docx" and not any("!table" in r.where for r in rows)):
        if grid.kind == "docx":
            raise InvalidInput(f"{grid.label}: no table in the document; expected the school's figures tables "
                               "(Class, then pupils making appropriate progress and smaller steps for TERM 1 to TERM 3)")
        what = "the sheet is empty" if grid.kind == "xlsx" else "the file is empty"
        raise InvalidInput(f"{grid.label}: {what}; expected the school's figures table "
                           f"(columns {','.join(FLAT_COLUMNS)}, or the layout of the school's report)")
    if {"phase", "class", "t1appropriate"} <= {header_key(c) for c in rows[0].cells}:
        return _parse_flat(grid)
    return _Blocks(grid).parse(rows)


# -- cells ---------------------------------------------------------------------------------------
def count(value: Any) -> int | str:
    """A count cell: a whole number, ``N/A`` or blank; anything else is refused."""
    if value is None:
        return BLANK
    if isinstance(value, bool):
        raise InvalidInput(f"'{value}' is not a count")
    if isinstance(value, (int, float)):
        if not float(value).is_integer():
            raise InvalidInput(f"count {value} is not a whole number")
        n = int(value)
    else:
        text = " ".join(cell_text(value).split())
        if text == "":
            return BLANK
        if re.fullmatch(r"n\s*/?\s*a", text, re.IGNORECASE):
            return NA
        if not re.fullmatch(r"[-+]?\d+(\.0+)?", text):
            raise InvalidInput(f"count '{text}' is not a whole number (write a number, N/A, or leave it blank)")
        n = int(float(text))
    if n < 0:
        raise InvalidInput(f"count {n} is negative")
    if n > 10_000:
        raise InvalidInput(f"count {n} is too large for a class")
    return n


def class_label(label: str) -> tuple[str, str | None]:
    """'2MD (PMLD)' -> ('2MD', 'PMLD'); 'APOLLO ' -> ('APOLLO', None)."""
    label = " ".join(label.split())
    m = _LABEL.match(label)
    class_id, mark = (m.group("id").strip(), m.group("mark").strip() or None) if m else (label.strip(), None)
    class_id = check_id("class_id", class_id)
    if mark is not None and not _MARK.match(mark):
        raise InvalidInput(f"mark '{mark}' in '{label}' is not valid: a mark is a short label of letters and digits, e.g. PMLD")
    return class_id, mark


def _term(n: int, a: int | str, s: int | str) -> TermFigures:
    if isinstance(a, int) and isinstance(s, int):
        return TermFigures(state="recorded", appropriate=a, smaller_steps=s)
    if a == s == NA:
        return TermFigures(state="not_open")
    if a == s == BLANK:
        return TermFigures(state="not_recorded")
    shown = {BLANK: "blank", NA: "N/A"}
    raise InvalidInput(
        f"T{n}: appropriate is {shown.get(a, a)} but smaller steps is {shown.get(s, s)}; "
        "give both counts, N/A in both (the class did not exist) or leave both blank (no figures)"
    )


class _Table:
    """What the rows read so far add up to, for checking Total rows."""

    def __init__(self) -> None:
        self.parsed = ParsedFigures(None)
        self.by_phase: dict[str, list[ClassFigures]] = defaultdict(list)
        self.problems: list[str] = []

    def add_class(self, where: str, phase: str, label: str, cells: dict[tuple[int, str], Any]) -> ClassFigures | None:
        try:
            class_id, mark = class_label(label)
        except InvalidInput as exc:
            self.problems.append(f"{where}: {exc}")
            return None
        terms: list[TermFigures | None] = []
        for n in (1, 2, 3):
            values: list[int | str] = []
            for status in STATUSES:
                try:
                    values.append(count(cells.get((n, status))))
                except InvalidInput as exc:
                    self.problems.append(f"{where}: {class_id} T{n} {STATUS_LABEL[status]}: {exc}")
            try:
                terms.append(_term(n, *values) if len(values) == 2 else None)
            except InvalidInput as exc:
                self.problems.append(f"{where}: {class_id} {exc}")
                terms.append(None)
        if class_id in self.parsed.where:
            self.problems.append(f"{where}: class {class_id} appears twice (also at {self.parsed.where[class_id]})")
            return None
        self.parsed.where[class_id] = where
        if any(t is None for t in terms):
            return None
        figures = ClassFigures(phase=phase, class_id=class_id, mark=mark, t1=terms[0], t2=terms[1], t3=terms[2])
        self.parsed.classes.append(figures)
        self.by_phase[phase].append(figures)
        return figures

    def check_total(self, where: str, what: str, classes: Sequence[ClassFigures],
                    cells: dict[tuple[int, str], Any]) -> None:
        for n in (1, 2, 3):
            for status in STATUSES:
                try:
                    given = count(cells.get((n, status)))
                except InvalidInput as exc:
                    self.problems.append(f"{where}: {what} T{n} {STATUS_LABEL[status]}: {exc}")
                    continue
                if not isinstance(given, int):
                    continue
                added = sum(getattr(c.term(n), status) or 0 for c in classes)
                if given != added:
                    self.problems.append(f"{where}: the {what} for T{n} {STATUS_LABEL[status]} is {given} "
                                         f"but its classes add up to {added}")

    def result(self, grid: Grid, year: AcademicYear | None) -> ParsedFigures:
        if self.problems:
            raise ImportRefused(grid.label, self.problems)
        self.parsed.year = year
        return self.parsed


# -- the flat shape ------------------------------------------------------------------------------
def _parse_flat(grid: Grid) -> ParsedFigures:
    table = _Table()
    rows = rows_of(grid, FLAT_COLUMNS)
    for row in rows:
        phase_text, label = row.get("phase"), row.get("class")
        cells = {(n, s): row.get(f"t{n}_{s}") for n in (1, 2, 3) for s in STATUSES}
        if phase_text.lower() in _SCHOOL:
            table.check_total(row.where, "whole-school total", table.parsed.classes, cells)
            continue
        phase = phase_heading(phase_text)
        if phase is None:
            table.problems.append(f"{row.where}: phase '{phase_text}' is not a group of key stages; "
                                  "write it like EYFS/KS1/KS2, KS3/KS4 or KS5")
            continue
        if label.lower() in _TOTAL:
            table.check_total(row.where, f"{phase} total", table.by_phase[phase], cells)
            continue
        if not label:
            table.problems.append(f"{row.where}: no class named")
            continue
        table.add_class(row.where, phase, label, cells)
    table.problems[:] = in_line_order(grid.label, [*rows.problems, *table.problems])  # rows it could not read too
    return table.result(grid, year_in(grid.title))


# -- the block layout ----------------------------------------------------------------------------
class _Blocks:
    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.table = _Table()
        self.problems = self.table.problems

    def parse(self, rows: list[GridRow]) -> ParsedFigures:
        year = year_in(self.grid.title)
        phase: str | None = None
        fresh = False  # a phase heading has come since the last table's header
        columns: dict[int, tuple[int, str]] | None = None  # None outside a table; {} in a table whose header is wrong
        segment: list[ClassFigures] = []
        previous: tuple[str, GridRow] | None = None  # (kind, row) of the row above
        merged = self._merged_rows()
        reported: set[str] = set()
        # Totals are checked only over rows that could all be read: a row already reported would
        # otherwise be reported again as a total that does not add up.
        segment_ok = school_ok = True
        headers = 0
        for row in rows:
            texts = row.texts()
            first = texts[0] if texts else ""
            filled = [t for t in texts if t]
            if self._is_header(texts):
                headers += 1
                term_row = previous[1] if previous is not None and previous[0] == "other" else None
                columns = self._columns(term_row, row)
                segment_ok = bool(columns)
                school_ok &= segment_ok
                if not fresh:
                    self.problems.append(f"{row.where}: no phase heading (such as 'KS3 / KS4') before this table")
                    phase, columns = None, {}
                fresh, segment = False, []
                previous = ("header", row)
                continue
            if len(set(filled)) == 1 and phase_heading(filled[0]):
                phase, fresh, columns, segment = phase_heading(filled[0]), True, None, []
                previous = ("phase", row)
                continue
            numbers = sum(1 for c in row.cells[1:] if isinstance(count_or_none(c), int))
            if columns is not None and not first and not numbers:
                columns = None  # a heading row (the next table's terms, perhaps): this table has ended
            if columns is None:
                if year is None and headers == 0:
                    year = year_in(" ".join(filled))
                if numbers >= 2 and not _is_term_row(filled):
                    self.problems.append(f"{row.where}: figures before the table's heading rows "
                                         "(TERM 1..TERM 3, then Class and the two kinds of progress)")
                previous = ("other", row)
                continue
            previous = ("data", row)
            key = first.lower().rstrip(":")
            if not columns or key.startswith("%") or "percent" in key:
                continue  # the header's problem is reported once; percentages follow from the counts
            if row.number in merged:
                ref = merged[row.number]
                segment_ok = school_ok = False
                if ref not in reported:
                    reported.add(ref)
                    self.problems.append(f"{row.where}: cells {ref} are merged; every class and total needs "
                                         "its own cell for each count")
                continue
            cells = {columns[i]: (row.cells[i] if i < len(row.cells) else None) for i in columns}
            if key in _SCHOOL:
                if school_ok:
                    self.table.check_total(row.where, "whole-school total", self.table.parsed.classes, cells)
            elif key in _TOTAL:
                if segment_ok:
                    self.table.check_total(row.where, f"{phase or 'phase'} total", segment, cells)
            elif not first:
                self.problems.append(f"{row.where}: figures with no class named in the first column")
                segment_ok = school_ok = False
            elif phase is not None:
                added = self.table.add_class(row.where, phase, first, cells)
                if added is None:
                    segment_ok = school_ok = False
                else:
                    segment.append(added)
        if headers == 0:
            where = "the document" if self.grid.kind == "docx" else ("the sheet" if self.grid.kind == "xlsx" else "the file")
            self.problems.append(
                f"{self.grid.label}: no figures table in {where}: expected a row of term headings (TERM 1, TERM 2, "
                "TERM 3) over a header row (Class, Pupils making appropriate progress, Pupils making smaller steps "
                "of progress, ...), or the columns " + ",".join(FLAT_COLUMNS))
        elif not self.table.parsed.classes and not self.problems:
            self.problems.append(f"{self.grid.label}: the tables have headings but no classes")
        return self.table.result(self.grid, year)

    @staticmethod
    def _is_header(texts: list[str]) -> bool:
        if not texts or header_key(texts[0]) not in ("class", "classes"):
            return False
        return any(("appropriate" in t.lower() or "smaller" in t.lower()) for t in texts[1:])

    def _columns(self, term_row: GridRow | None, header: GridRow) -> dict[int, tuple[int, str]]:
        """Column index -> (term number, status) from the term headings and the header row."""
        above: dict[int, int] = {}
        bad: list[str] = []
        before = len(self.problems)
        if term_row is not None:
            current: int | None = None
            for i, text in enumerate(term_row.texts()):
                if i == 0:
                    continue
                if not text:  # the rest of a merged heading
                    if current is not None:
                        above[i] = current
                    continue
                m = _TERM.match(text)
                if m is None:
                    if text not in bad:  # a merged heading repeats in each column it spans
                        bad.append(text)
                        self.problems.append(f"{term_row.where}: '{text}' is not a term heading; "
                                             "write TERM 1, TERM 2 or TERM 3 (the school year has three terms)")
                    current = None
                    continue
                current = int(m.group(1))
                above[i] = current
        columns: dict[int, tuple[int, str]] = {}
        for i, text in enumerate(header.texts()):
            if i == 0 or not text:
                continue
            lowered = text.lower()
            status = "smaller_steps" if "smaller" in lowered else "appropriate" if "appropriate" in lowered else None
            if status is None:
                if text not in bad:
                    bad.append(text)
                    self.problems.append(f"{header.where}: column heading '{text}' is neither appropriate progress "
                                         "nor smaller steps of progress")
                continue
            m = _TERM_IN_HEADER.search(text)
            term = int(m.group(1)) if m else above.get(i)
            if term is None:
                if term_row is None:
                    self.problems.append(f"{header.where}: no term headings above this header row; the row above "
                                         "must name TERM 1, TERM 2 and TERM 3 over their columns")
                    return {}
                continue  # the term row's own problem has been reported
            columns[i] = (term, status)
        wanted = [(n, s) for n in (1, 2, 3) for s in STATUSES]
        found = list(columns.values())
        missing = [f"T{n} {STATUS_LABEL[s]}" for n, s in wanted if (n, s) not in found]
        twice = sorted({f"T{n} {STATUS_LABEL[s]}" for n, s in found if found.count((n, s)) > 1})
        if len(self.problems) > before:
            return {}  # the problem above explains the missing columns; the table's rows are not read
        if missing:
            self.problems.append(f"{header.where}: no column for {', '.join(missing)}")
        if twice:
            self.problems.append(f"{header.where}: more than one column for {', '.join(twice)}")
        return {} if missing or twice else columns

    def _merged_rows(self) -> dict[int, str]:
        """Row number -> the merged range it is part of (where cells of more than one column or row merge)."""
        rows: dict[int, str] = {}
        for m in self.grid.merged:
            for n in range(m.min_row, m.max_row + 1):
                rows.setdefault(n, m.ref)
        return rows


def count_or_none(value: Any) -> int | str | None:
    try:
        return count(value)
    except InvalidInput:
        return None


def _is_term_row(filled: list[str]) -> bool:
    return bool(filled) and all(_TERM.match(t) for t in filled)
