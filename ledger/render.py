"""One renderer for every read command: ``--format text|json|csv``.

JSON is one document on stdout and nothing else; CSV is RFC 4180 with a header row; text is for
people and may change between versions (scripts should use JSON or CSV).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from typing import Any

from ledger.readmodel import Cell, Counts, HistoryRow, Report

FORMATS = ("text", "json", "csv")


def iso(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc)
    spec = "seconds" if utc.microsecond == 0 else "microseconds"
    return utc.isoformat(timespec=spec).replace("+00:00", "Z")


def _percent(counts: Counts) -> str:
    p = counts.percent_appropriate
    return "" if p is None else f"{p:.1f}%"


# -- report --------------------------------------------------------------------------------------
def _cell_json(cell: Cell) -> dict[str, Any]:
    if cell.state == "not_open":
        return {"state": "not_open"}
    return {"state": cell.state, "appropriate": cell.appropriate, "smaller_steps": cell.smaller_steps,
            "unjudged": cell.unjudged}


def _with_moves(cell: dict[str, Any], r: Report, class_id: str, term: str) -> dict[str, Any]:
    if r.target_moves is None or cell["state"] == "not_open":
        return cell
    moved, total = r.target_moves.get((class_id, term), (0, 0))
    return {**cell, "targets": total, "targets_moved": moved}


def _moves_text(r: Report) -> list[str]:
    """The --targets section: per class and term, approved targets of judged pupils that moved up."""
    if r.target_moves is None:
        return []
    out = ["", "Targets that moved up at least one stage (of approved targets of the pupils judged)"]
    for block in r.phases:
        for row in block.classes:
            cells = []
            for t, cell in row.terms.items():
                moved, total = r.target_moves.get((row.class_id, t), (0, 0))
                share = f"{moved}/{total} ({100 * moved / total:.0f}%)" if total else ("N/A" if cell.state == "not_open" else "-")
                cells.append(f"{t} {share:<14}")
            out.append(f"  {row.label:<14}" + "  ".join(cells))
    return out


def _totals_json(totals: dict[str, Counts]) -> dict[str, Any]:
    return {
        t: {"appropriate": c.appropriate, "smaller_steps": c.smaller_steps,
            "percent_appropriate": None if c.percent_appropriate is None else round(c.percent_appropriate, 1)}
        for t, c in totals.items()
    }


def report_json(r: Report) -> dict[str, Any]:
    return {
        "year": r.year,
        "as_at": iso(r.as_at),
        "position": r.position,
        "phases": [
            {
                "phase": p.phase,
                "classes": [
                    {"class": c.class_id, "label": c.label,
                     "terms": {t: _with_moves(_cell_json(x), r, c.class_id, t) for t, x in c.terms.items()}}
                    for c in p.classes
                ],
                "totals": _totals_json(p.totals),
            }
            for p in r.phases
        ],
        "totals": _totals_json(r.totals),
        "source": r.source,  # "events" (pupil-level judgements) or "aggregate" (the school's historic table)
        **({"note": r.note} if r.note else {}),
    }


def _cell_text(cell: Cell) -> tuple[str, str]:
    if cell.state == "not_open":
        return "N/A", "N/A"
    if cell.state == "not_recorded":
        return "", ""
    return str(cell.appropriate), str(cell.smaller_steps)


def _totals_text(label: str, totals: dict[str, Counts], blocks: list, w: int) -> list[str]:
    """A totals row and its percentages; a term in which none of the classes has figures is blank
    like its cells (nothing was recorded: 0 would say every pupil was counted and none judged)."""
    recorded = {t: any(row.terms[t].state == "recorded" for b in blocks for row in b.classes) for t in totals}
    counts = "".join(f"| {c.appropriate:>6} {c.smaller_steps:>6}   " if recorded[t] else f"| {'':>6} {'':>6}   "
                     for t, c in totals.items())
    percents = "".join(f"| {_percent(c) if recorded[t] else '':>13}   " for t, c in totals.items())
    return [f"{label:<{w}}" + counts, f"{'% appropriate':<{w}}" + percents]


def report_text(r: Report) -> str:
    terms = list(r.totals)
    w = 14
    out = [f"EHCP progress {r.year}: pupils making appropriate progress (App) and smaller steps of progress (SS)",
           f"as at {iso(r.as_at)} (ledger position {r.position})", *([r.note] if r.note else []), ""]
    if not r.phases:
        out.append(f"No classes were open in {r.year} as the ledger stood then.")
        return "\n".join(out)
    head1 = f"{'':<{w}}" + "".join(f"| {('Term ' + t[1:]):^15} " for t in terms)
    head2 = f"{'Class':<{w}}" + "".join(f"| {'App':>6} {'SS':>6}   " for _ in terms)
    unjudged_notes = []
    for block in r.phases:
        out += [block.phase, head1, head2, "-" * len(head2)]
        for row in block.classes:
            cells = "".join(f"| {a:>6} {s:>6}   " for a, s in (_cell_text(row.terms[t]) for t in terms))
            out.append(f"{row.label:<{w}}" + cells)
            for t in terms:
                cell = row.terms[t]
                if cell.state != "not_open" and cell.unjudged:
                    unjudged_notes.append(f"{row.label} {t}: {cell.unjudged} on roll with no judgement")
        out.append("-" * len(head2))
        out += _totals_text("Total", block.totals, [block], w)
        out.append("")
    out += _totals_text("Whole school", r.totals, r.phases, w)
    out.append("")
    out.append("N/A: the class did not exist that term; blank: the class was open but no judgements were recorded.")
    out += _moves_text(r)
    if unjudged_notes:
        out.append("Not yet judged: " + "; ".join(unjudged_notes))
    return "\n".join(out)


def report_csv(r: Report) -> str:
    """The seed's shape: one row per class, N/A for not open, empty for not recorded; then totals."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    terms = list(r.totals)
    moves = r.target_moves
    extra = [f"t{t[1:]}_{k}" for t in terms for k in ("targets", "targets_moved")] if moves is not None else []
    writer.writerow(["phase", "class"] + [f"t{t[1:]}_{k}" for t in terms for k in ("appropriate", "smaller_steps")] + extra)
    for block in r.phases:
        for row in block.classes:
            cells = [v for t in terms for v in _cell_text(row.terms[t])]
            if moves is not None:
                cells += [v for t in terms for v in reversed(moves.get((row.class_id, t), (0, 0)))]
            writer.writerow([block.phase, row.label] + cells)
    for block in r.phases:
        writer.writerow([block.phase, "Total"] + [v for c in block.totals.values() for v in (c.appropriate, c.smaller_steps)])
    writer.writerow(["Whole school", "Total"] + [v for c in r.totals.values() for v in (c.appropriate, c.smaller_steps)])
    return buf.getvalue().rstrip("\n")


# -- trust ---------------------------------------------------------------------------------------
def trust_json(t: Any) -> dict[str, Any]:
    return {
        "year": t.year, "as_at": iso(t.as_at), "position": t.position,
        "schools": [{"school": r.school, "name": r.name, "report": report_json(r.report)} for r in t.reports],
        "totals": _totals_json(t.totals),
    }


def trust_text(t: Any) -> str:
    out = []
    for r in t.reports:
        out += [f"=== {r.name}" + (f" ({r.school})" if r.school else ""), report_text(r.report), ""]
    out.append(f"Trust totals {t.year}: " + "; ".join(
        f"{term} {c.appropriate} appropriate, {c.smaller_steps} smaller steps ({_percent(c) or 'no judgements'})"
        for term, c in t.totals.items()))
    return "\n".join(out)


def trust_csv(t: Any) -> str:
    lines = []
    for i, r in enumerate(t.reports):
        rows = report_csv(r.report).split("\n")
        lines += (["school," + rows[0]] if i == 0 else []) + [f"{r.school or r.name}," + row for row in rows[1:]]
    return "\n".join(lines)


# -- history ---------------------------------------------------------------------------------------
_HISTORY_COLUMNS = ("position", "recorded_at", "actor", "kind", "term", "class", "status", "reason", "supersedes_position")


def _history_record(h: HistoryRow) -> dict[str, Any]:
    return {"position": h.position, "recorded_at": iso(h.recorded_at), "actor": h.actor, "kind": h.kind,
            "term": h.term, "class": h.class_id, "status": h.status, "reason": h.reason,
            "supersedes_position": h.supersedes_position}


def history_text(pupil_id: str, rows: list[HistoryRow]) -> str:
    if not rows:
        return f"No judgements recorded for {pupil_id}."
    lines = [f"Judgement history for {pupil_id} (oldest first)",
             f"{'pos':>6}  {'recorded (UTC)':<20}  {'actor':<10} {'kind':<8} {'term':<11} {'class':<8} {'status':<14} reason"]
    for h in rows:
        note = f" (revises position {h.supersedes_position})" if h.supersedes_position else ""
        lines.append(
            f"{h.position:>6}  {h.recorded_at.strftime('%Y-%m-%d %H:%M:%S'):<20}  {h.actor:<10} {h.kind:<8} "
            f"{h.term:<11} {h.class_id:<8} {h.status:<14} {h.reason or ''}{note}"
        )
    return "\n".join(lines)


def render(kind: str, data: Any, fmt: str, **context: Any) -> str:
    """Render a read result; ``kind`` names which (report, history, verify, rows)."""
    if kind == "report":
        return {"text": report_text, "json": lambda r: _dumps(report_json(r)), "csv": report_csv}[fmt](data)
    if kind == "trust":
        return {"text": trust_text, "json": lambda t: _dumps(trust_json(t)), "csv": trust_csv}[fmt](data)
    if kind == "history":
        records = [_history_record(h) for h in data]
        if fmt == "json":
            return _dumps({"pupil": context["pupil_id"], "events": records})
        if fmt == "csv":
            return _csv(_HISTORY_COLUMNS, records)
        return history_text(context["pupil_id"], data)
    if kind == "verify":
        if fmt == "json":
            return _dumps({"intact": True, "events": data, **context})
        if fmt == "csv":
            return _csv(("intact", "events"), [{"intact": "true", "events": data}])
        return f"ledger intact: {data} events, hash chain verified"
    from ledger.render_leadership import RENDERERS as LEADERSHIP  # changes, compare, trend, audit...

    if kind in LEADERSHIP:
        return LEADERSHIP[kind][fmt](data)
    from ledger.render_learning import RENDERERS  # here, not at the top: it imports this module

    return RENDERERS[kind][fmt](data)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=lambda o: asdict(o) if is_dataclass(o) else str(o))


def _csv(columns: tuple[str, ...], records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
    return buf.getvalue().rstrip("\n")
