"""A Word document's tables as one grid, with the headings that name each table's phase.

Schools write their termly figures as a Word report: a title ('EHCP Data 2023- 2024'), some
paragraphs, then per phase a heading paragraph ('EFYS / KS1 / KS2') and a table. The grid keeps
the title, the phase headings (as one-cell rows) and every table row, in document order; other
paragraphs are left out. A merged cell appears once per column it spans, as Word shows it, and the
merge is recorded so counts in merged cells can be refused.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from ledger.errors import InvalidInput
from ledger.exchange.grids import Grid, GridRow, Merge, column_letter

YEAR_IN_TITLE = re.compile(r"(\d{4})\s*[-–—/]\s*(\d{4}|\d{2})(?!\d)")


def phase_heading(text: str) -> str | None:
    """The phase group a heading names ('EFYS / KS1 / KS2' -> 'EYFS/KS1/KS2'), or None."""
    from ledger.domain.classes import normalise_phase

    cleaned = re.sub(r"\bEFYS\b", "EYFS", text.strip(), flags=re.IGNORECASE)
    if not cleaned or len(cleaned) > 40:
        return None
    try:
        return normalise_phase(cleaned)
    except InvalidInput:
        return None


def docx_grid(path: Path, raw: bytes) -> Grid:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # noqa: BLE001 - any failure to parse the file is the file's problem, said in one line
        raise InvalidInput(f"{path}: not a Word document that can be read ({type(exc).__name__}); "
                           "save it again as .docx") from None
    rows: list[GridRow] = []
    merged: list[Merge] = []
    title: str | None = None
    tables = paragraphs = 0
    for block in document.iter_inner_content():
        if not isinstance(block, Table):
            paragraphs += 1
            text = block.text.strip()
            if title is None and not tables and YEAR_IN_TITLE.search(text):
                title = text
            if phase_heading(text):
                rows.append(GridRow(f"{path}!paragraph{paragraphs}", len(rows) + 1, (text,)))
            continue
        tables += 1
        above: list[object] = []
        for r, row in enumerate(block.rows, start=1):
            cells = row.cells
            number = len(rows) + 1
            rows.append(GridRow(f"{path}!table{tables}:{r}", number, tuple(" ".join(c.text.split()) for c in cells)))
            ids = [c._tc for c in cells]  # python-docx gives a merged cell once per grid column it spans
            j = 0
            while j < len(ids):
                k = j
                while k + 1 < len(ids) and ids[k + 1] is ids[j]:
                    k += 1
                vertical = r > 1 and j < len(above) and above[j] is ids[j]
                if k > j and not vertical:
                    merged.append(Merge(f"table{tables} {column_letter(j + 1)}{r}:{column_letter(k + 1)}{r}",
                                        number, number, j + 1, k + 1))
                elif vertical:
                    merged.append(Merge(f"table{tables} {column_letter(j + 1)}{r - 1}:{column_letter(k + 1)}{r}",
                                        number - 1, number, j + 1, k + 1))
                j = k + 1
            above = ids
    return Grid(str(path), "docx", rows, hashlib.sha256(raw).hexdigest(), merged, title=title)
