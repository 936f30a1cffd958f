"""The termly report written out: text, JSON, CSV, Markdown and an Excel workbook like the school's table.

Without suppression, text, JSON and CSV are exactly what :mod:`ledger.render` prints. With
``--suppress-below N`` every format is written from :func:`ledger.exchange.published.publish`,
which holds no withheld number, so none can leak into any format.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ledger.exchange.published import PubCell, Published, PubTotals, Shown, publish
from ledger.readmodel import Report
from ledger.render import iso, render

from ledger.vocab import REPORT_FORMATS  # noqa: E402,F401 - defined there so the CLI need not import this module
STATUS_HEADINGS = ("Pupils making appropriate progress", "Pupils making smaller steps of progress")


def export_report(report: Report, fmt: str, suppress_below: int | None = None) -> str | bytes:
    """The report in ``fmt``: text for str formats, bytes for xlsx."""
    if suppress_below is None and fmt in ("text", "json", "csv"):
        return render("report", report, fmt)
    pub = publish(report, suppress_below)
    writer = {"text": published_text, "json": lambda p: json.dumps(published_json(p), indent=2, ensure_ascii=False),
              "csv": published_csv, "markdown": published_markdown, "xlsx": published_xlsx}[fmt]
    return writer(pub)


# -- cells as text --------------------------------------------------------------------------------
def _pair(cell: PubCell) -> tuple[str, str]:
    if cell.state == "not_open":
        return "N/A", "N/A"
    if cell.state == "not_recorded":
        return "", ""
    return str(cell.appropriate), str(cell.smaller_steps)


def _total(value: Shown | None) -> str:
    return "" if value is None else str(value)


def _percent(t: PubTotals) -> str:
    p = t.percent_appropriate
    if p is None:
        return ""
    return p if isinstance(p, str) else f"{p:.1f}%"


def _heading(pub: Published) -> list[str]:
    lines = [f"as at {iso(pub.as_at)} (ledger position {pub.position})"]
    if pub.note:
        lines.append(pub.note)
    return lines


# -- JSON and CSV (the shapes of render's, with markers for withheld counts) ---------------------------
def _cell_json(cell: PubCell) -> dict[str, Any]:
    if cell.state == "not_open":
        return {"state": "not_open"}
    return {"state": cell.state, "appropriate": cell.appropriate, "smaller_steps": cell.smaller_steps,
            "unjudged": cell.unjudged}


def _totals_json(totals: dict[str, PubTotals]) -> dict[str, Any]:
    return {t: {"appropriate": c.appropriate, "smaller_steps": c.smaller_steps,
                "percent_appropriate": c.percent_appropriate} for t, c in totals.items()}


def published_json(pub: Published) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "year": pub.year,
        "as_at": iso(pub.as_at),
        "position": pub.position,
        "phases": [
            {"phase": p.phase,
             "classes": [{"class": c.class_id, "label": c.label, "terms": {t: _cell_json(x) for t, x in c.terms.items()}}
                         for c in p.classes],
             "totals": _totals_json(p.totals)}
            for p in pub.phases
        ],
        "totals": _totals_json(pub.totals),
        "source": pub.source,
    }
    if pub.note:
        doc["note"] = pub.note
    if pub.suppress_below is not None:
        n = pub.suppress_below
        doc["suppression"] = {"below": n, "markers": {f"<{n}": f"fewer than {n} pupils",
                                                      "c": f"withheld so that counts under {n} cannot be worked out "
                                                           f"(a withheld total may itself be under {n})"}}
    return doc


def published_csv(pub: Published) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["phase", "class"] + [f"t{t[1:]}_{k}" for t in pub.terms for k in ("appropriate", "smaller_steps")])
    for block in pub.phases:
        for row in block.classes:
            writer.writerow([block.phase, row.label] + [v for t in pub.terms for v in _pair(row.terms[t])])
    for block in pub.phases:
        writer.writerow([block.phase, "Total"] + [_total(v) for c in block.totals.values()
                                                 for v in (c.appropriate, c.smaller_steps)])
    writer.writerow(["Whole school", "Total"] + [_total(v) for c in pub.totals.values() for v in (c.appropriate, c.smaller_steps)])
    return buf.getvalue().rstrip("\n")


# -- text ------------------------------------------------------------------------------------------
def published_text(pub: Published) -> str:
    w = 14
    out = [f"EHCP progress {pub.year}: pupils making appropriate progress (App) and smaller steps of progress (SS)",
           *_heading(pub), ""]
    if not pub.phases:
        out.append(f"No classes were open in {pub.year} as the ledger stood then.")
        return "\n".join(out)
    head1 = f"{'':<{w}}" + "".join(f"| {('Term ' + t[1:]):^15} " for t in pub.terms)
    head2 = f"{'Class':<{w}}" + "".join(f"| {'App':>6} {'SS':>6}   " for _ in pub.terms)

    def totals_lines(label: str, totals: dict[str, PubTotals]) -> list[str]:
        return [f"{label:<{w}}" + "".join(f"| {_total(c.appropriate):>6} {_total(c.smaller_steps):>6}   " for c in totals.values()),
                f"{'% appropriate':<{w}}" + "".join(f"| {_percent(c):>13}   " for c in totals.values())]

    for block in pub.phases:
        out += [block.phase, head1, head2, "-" * len(head2)]
        for row in block.classes:
            out.append(f"{row.label:<{w}}" + "".join(f"| {a:>6} {s:>6}   " for a, s in (_pair(row.terms[t]) for t in pub.terms)))
        out.append("-" * len(head2))
        out += totals_lines("Total", block.totals)
        out.append("")
    out += totals_lines("Whole school", pub.totals)
    out.append("")
    out += pub.legend
    return "\n".join(out)


# -- Markdown --------------------------------------------------------------------------------------
def _md(text: object) -> str:
    return str(text).replace("|", "\\|")


def published_markdown(pub: Published) -> str:
    columns = [f"T{t[1:]} {k}" for t in pub.terms for k in ("appropriate", "smaller steps")]
    head = ["| Class | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]

    def totals_rows(label: str, totals: dict[str, PubTotals]) -> list[str]:
        counts = [_total(v) for c in totals.values() for v in (c.appropriate, c.smaller_steps)]
        percents = [v for c in totals.values() for v in (_percent(c), "")]
        return [f"| {label} | " + " | ".join(counts) + " |", "| % appropriate | " + " | ".join(percents) + " |"]

    out = [f"# EHCP progress {pub.year}", "",
           "Pupils making appropriate progress and pupils making smaller steps of progress, per class and term.", "",
           *(f"{line}  " for line in _heading(pub)), ""]
    for block in pub.phases:
        out += [f"## {_md(block.phase)}", "", *head]
        for row in block.classes:
            out.append(f"| {_md(row.label)} | " + " | ".join(v for t in pub.terms for v in _pair(row.terms[t])) + " |")
        out += totals_rows("Total", block.totals)
        out.append("")
    if pub.phases:
        out += ["## Whole school", "", *head, *totals_rows("Total", pub.totals), ""]
    out += [f"{line}  " for line in pub.legend]
    return "\n".join(out).rstrip() + "\n"


# -- Excel ----------------------------------------------------------------------------------------
def published_xlsx(pub: Published) -> bytes:
    """One sheet laid out like the school's Word table: per phase a heading, the term headings over
    their two columns, a header row, the classes, Total and % appropriate; then the whole school."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = pub.year
    bold, centre = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    shade = PatternFill("solid", fgColor="DDEBF7")
    width = 1 + 2 * len(pub.terms)
    ws.append([f"EHCP progress {pub.year}"])
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=14)
    ws.append(["Pupils making appropriate progress and pupils making smaller steps of progress, per class and term"])
    for line in _heading(pub) + pub.legend:
        ws.append([line])

    def put_totals(label: str, totals: dict[str, PubTotals]) -> None:
        ws.append([label] + [v for c in totals.values() for v in (c.appropriate, c.smaller_steps)])
        for col in range(1, width + 1):
            ws.cell(ws.max_row, col).font = bold
        ws.append(["% appropriate"])
        r = ws.max_row
        for i, c in enumerate(totals.values()):
            col = 2 + 2 * i
            p = c.percent_appropriate
            cell = ws.cell(r, col, value=p / 100 if isinstance(p, float) else p)
            if isinstance(p, float):
                cell.number_format = "0.0%"
            cell.alignment = centre
            ws.merge_cells(start_row=r, start_column=col, end_row=r, end_column=col + 1)

    for block in pub.phases:
        ws.append([])
        ws.append([block.phase])
        ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
        ws.append([""] + [v for t in pub.terms for v in (f"TERM {t[1:]}", None)])
        r = ws.max_row
        for i in range(len(pub.terms)):
            col = 2 + 2 * i
            ws.cell(r, col).font, ws.cell(r, col).alignment, ws.cell(r, col).fill = bold, centre, shade
            ws.merge_cells(start_row=r, start_column=col, end_row=r, end_column=col + 1)
        ws.append(["Class"] + [h for _ in pub.terms for h in STATUS_HEADINGS])
        r = ws.max_row
        for col in range(1, width + 1):
            ws.cell(r, col).font, ws.cell(r, col).alignment, ws.cell(r, col).fill = bold, centre, shade
        ws.row_dimensions[r].height = 45
        for row in block.classes:
            values: list[Any] = [row.label]
            for t in pub.terms:
                cell = row.terms[t]
                if cell.state == "not_open":
                    values += ["N/A", "N/A"]
                elif cell.state == "not_recorded":
                    values += [None, None]
                else:
                    values += [cell.appropriate, cell.smaller_steps]
            ws.append(values)
            for col in range(2, width + 1):
                ws.cell(ws.max_row, col).alignment = Alignment(horizontal="right")
        put_totals("Total", block.totals)
    if pub.phases:
        ws.append([])
        put_totals("Whole school", pub.totals)
    ws.column_dimensions["A"].width = 18
    for col in range(2, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = 16
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
