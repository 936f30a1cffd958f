"""Rendering the leadership queries (changes, compare, trend, smaller steps, audit, the judgements
export) in text, JSON and CSV. JSON is one document; CSV has a header row; text is for people."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

from ledger.leadership_views import ClassChange, JudgementChange
from ledger.readmodel import Cell, Counts
from ledger.render import iso
from ledger.services.leadership import (
    Audit, ChangeRow, Changes, Comparison, JudgementExport, PupilChange, SmallerSteps, Trend, TrendPoint,
    cell_differs,
)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


def _csv(columns: list[str], records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
    return buf.getvalue().rstrip("\n")


def _utc(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _pct(counts: Counts) -> float | None:
    p = counts.percent_appropriate
    return None if p is None else round(p, 1)


# -- changes -------------------------------------------------------------------------------------
_CHANGE_COLUMNS = ["position", "recorded_at", "actor", "change", "pupil_id", "term", "class", "item", "before",
                   "after", "reason", "note"]


def _change_record(r: ChangeRow) -> dict[str, Any]:
    return {"position": r.position, "recorded_at": iso(r.recorded_at), "actor": r.actor, "change": r.change,
            "pupil_id": r.pupil_id, "term": r.term, "class": r.class_id, "item": r.item, "before": r.before,
            "after": r.after, "reason": r.reason, "note": r.note}


def _counts(c: Changes) -> dict[str, int]:
    return dict(Counter(r.change for r in c.rows))


def _span(c: Changes) -> str:
    positions = (f"positions {c.first_position} to {c.last_position}" if c.last_position >= c.first_position
                 else "no positions")
    return f"from {iso(c.since)} to {iso(c.until)} ({positions})"


def _what(r: ChangeRow) -> str:
    if r.before and r.after:
        return f"{r.before} -> {r.after}"
    return r.after or ""


def changes_text(c: Changes) -> str:
    if not c.rows:
        return f"No changes recorded {_span(c)}."
    tally = ", ".join(f"{kind} {n}" for kind, n in _counts(c).items())
    out = [f"Changes recorded {_span(c)}: {tally}", "",
           f"{'pos':>6}  {'recorded (UTC)':<19}  {'actor':<10} {'change':<18} {'pupil':<10} {'term/item':<14} "
           f"{'class':<8} {'what':<30} why"]
    for r in c.rows:
        why = "; ".join(x for x in (r.reason, r.note) if x)
        out.append(f"{r.position:>6}  {_utc(r.recorded_at):<19}  {r.actor:<10} {r.change:<18} {r.pupil_id or '':<10} "
                   f"{(r.term or r.item or ''):<14} {r.class_id or '':<8} {_what(r):<30} {why}".rstrip())
    return "\n".join(out)


def changes_json(c: Changes) -> str:
    return _dumps({"from": iso(c.since), "to": iso(c.until), "first_position": c.first_position,
                   "last_position": c.last_position, "kinds": list(c.kinds), "counts": _counts(c),
                   "changes": [_change_record(r) for r in c.rows]})


# -- compare -------------------------------------------------------------------------------------
def _cell_short(cell: Cell) -> str:
    if cell.state == "not_open":
        return "N/A"
    if cell.state == "not_recorded":
        return "-"
    return f"{cell.appropriate}/{cell.smaller_steps}"


def _counts_short(c: Counts) -> str:
    return f"{c.appropriate}/{c.smaller_steps}"


def _pair(a: str, b: str) -> str:
    return f"{a:>7}          " if a == b else f"{a:>7} -> {b:<6} *"


def _pct_text(c: Counts) -> str:
    p = c.percent_appropriate
    return "-" if p is None else f"{p:.1f}%"


def _event_text(e: JudgementChange) -> str:
    verb = "revised" if e.kind == "revised" else "recorded"
    change = f"{e.previous_status} -> {e.status}" if e.kind == "revised" else e.status
    why = f": {e.reason}" if e.reason else ""
    return f"{change}, {verb} by {e.actor} at {_utc(e.recorded_at)} UTC (position {e.position}){why}"


def _pupil_text(p: PupilChange) -> list[str]:
    before = f"{p.before_status} in {p.before_class}" if p.before_status else "no judgement"
    after = f"{p.after_status} in {p.after_class}" if p.after_status else "no judgement"
    lines = [f"    {p.pupil_id}: {before} -> {after}"]
    lines += [f"      {_event_text(e)}" for e in p.events]
    return lines


def _class_event_text(c: ClassChange) -> str:
    what = f"opened from {c.term}" if c.kind == "opened" else f"closed after {c.term}"
    return f"    class {c.class_id} {what} by {c.actor} at {_utc(c.recorded_at)} UTC (position {c.position})"


def compare_text(c: Comparison) -> str:
    return "\n".join(line.rstrip() for line in _compare_lines(c))


def _compare_lines(c: Comparison) -> list[str]:
    terms = c.terms
    w = 14
    out = [f"EHCP progress {c.year} at two moments: appropriate/smaller steps per class and term",
           f"  A = as at {iso(c.a.as_at)} (ledger position {c.a.position})",
           f"  B = as at {iso(c.b.as_at)} (ledger position {c.b.position})",
           "Cells that differ are shown A -> B and marked *.", ""]
    if not c.rows:
        out.append(f"No classes were open in {c.year} at either moment.")
        return out
    head = f"{'Class':<{w}}" + "".join(f"| {('Term ' + t[1:]):<24}" for t in terms)
    for phase in dict.fromkeys(r.phase for r in c.rows):
        out += [phase, head, "-" * len(head)]
        for row in (r for r in c.rows if r.phase == phase):
            out.append(f"{row.label:<{w}}" + "".join(
                f"| {_pair(_cell_short(a), _cell_short(b)):<24}" for a, b in row.cells.values()))
        totals = c.phase_totals[phase]
        out.append(f"{'Total':<{w}}" + "".join(
            f"| {_pair(_counts_short(a), _counts_short(b)):<24}" for a, b in totals.values()))
        out.append(f"{'% appropriate':<{w}}" + "".join(
            f"| {_pair(_pct_text(a), _pct_text(b)):<24}" for a, b in totals.values()))
        out.append("")
    out.append(f"{'Whole school':<{w}}" + "".join(
        f"| {_pair(_counts_short(a), _counts_short(b)):<24}" for a, b in c.totals.values()))
    out.append(f"{'% appropriate':<{w}}" + "".join(
        f"| {_pair(_pct_text(a), _pct_text(b)):<24}" for a, b in c.totals.values()))
    out += ["", "N/A: the class did not exist that term; -: the class was open but nothing was recorded.", ""]
    diffs = c.differences()
    if not diffs:
        out.append("No cell differs between A and B.")
    else:
        out.append(f"Why {len(diffs)} cell(s) differ: the events recorded between A and B")
    labels = {r.class_id: r.label for r in c.rows}
    cells = {(r.class_id, t): v for r in c.rows for t, v in r.cells.items()}
    for class_id, term in diffs:
        a, b = cells[(class_id, term)]
        out.append(f"  {labels[class_id]} {term}: {_cell_short(a)} -> {_cell_short(b)} (appropriate/smaller steps)")
        for p in c.explain(class_id, term):
            out += _pupil_text(p)
        out += [_class_event_text(e) for e in c.class_events(class_id)]
    if c.figure_events:
        out += ["", f"Historic aggregate figures for {c.year} recorded between A and B"]
        out += [f"    {f.summary} (by {f.entry.actor} at {_utc(f.entry.recorded_at)} UTC, position {f.entry.position})"
                for f in c.figure_events]
    no_net = [p for p in c.pupil_changes if not p.net]
    if no_net:
        out += ["", "Judgement events between A and B that left the figures as they were"]
        for p in no_net:
            out += _pupil_text(p)
    return out


def _cell_json(cell: Cell) -> dict[str, Any]:
    if cell.state == "not_open":
        return {"state": "not_open"}
    return {"state": cell.state, "appropriate": cell.appropriate, "smaller_steps": cell.smaller_steps,
            "unjudged": cell.unjudged}


def _totals_json(c: Counts) -> dict[str, Any]:
    return {"appropriate": c.appropriate, "smaller_steps": c.smaller_steps, "percent_appropriate": _pct(c)}


def _event_json(e: JudgementChange) -> dict[str, Any]:
    return {"position": e.position, "recorded_at": iso(e.recorded_at), "actor": e.actor, "kind": e.kind,
            "class": e.class_id, "status": e.status,
            "previous_status": e.previous_status if e.kind == "revised" else None, "reason": e.reason}


def _pupil_json(p: PupilChange) -> dict[str, Any]:
    return {"pupil_id": p.pupil_id, "term": p.term,
            "before": {"status": p.before_status, "class": p.before_class} if p.before_status else None,
            "after": {"status": p.after_status, "class": p.after_class} if p.after_status else None,
            "events": [_event_json(e) for e in p.events]}


def _class_event_json(e: ClassChange) -> dict[str, Any]:
    return {"position": e.position, "recorded_at": iso(e.recorded_at), "actor": e.actor, "class": e.class_id,
            "kind": e.kind, "term": e.term}


def compare_json(c: Comparison) -> str:
    cells = {(r.class_id, t): v for r in c.rows for t, v in r.cells.items()}
    return _dumps({
        "year": c.year,
        "a": {"as_at": iso(c.a.as_at), "position": c.a.position},
        "b": {"as_at": iso(c.b.as_at), "position": c.b.position},
        "phases": [
            {"phase": phase,
             "classes": [
                 {"class": r.class_id, "label": r.label,
                  "terms": {t: {"a": _cell_json(a), "b": _cell_json(b), "differs": cell_differs(a, b)}
                            for t, (a, b) in r.cells.items()}}
                 for r in c.rows if r.phase == phase],
             "totals": {t: {"a": _totals_json(a), "b": _totals_json(b), "differs": a != b}
                        for t, (a, b) in c.phase_totals[phase].items()}}
            for phase in c.phase_totals
        ],
        "totals": {t: {"a": _totals_json(a), "b": _totals_json(b), "differs": a != b} for t, (a, b) in c.totals.items()},
        "differences": [
            {"class": class_id, "term": term, "a": _cell_json(cells[(class_id, term)][0]),
             "b": _cell_json(cells[(class_id, term)][1]),
             "pupils": [_pupil_json(p) for p in c.explain(class_id, term)],
             "class_events": [_class_event_json(e) for e in c.class_events(class_id)]}
            for class_id, term in c.differences()
        ],
        "no_net_change": [_pupil_json(p) for p in c.pupil_changes if not p.net],
        "figure_events": [{"position": f.entry.position, "recorded_at": iso(f.entry.recorded_at),
                           "actor": f.entry.actor, "event_type": f.entry.event_type, "summary": f.summary,
                           "reason": f.payload.get("reason")} for f in c.figure_events],
    })


def compare_csv(c: Comparison) -> str:
    records = []
    for r in c.rows:
        for t, (a, b) in r.cells.items():
            differs = cell_differs(a, b)
            why = "; ".join(
                f"{p.pupil_id} {p.before_status or 'none'} -> {p.after_status or 'none'} "
                f"({', '.join(f'{e.actor} pos {e.position}' for e in p.events)})"
                for p in c.explain(r.class_id, t)) if differs else ""
            records.append({
                "phase": r.phase, "class": r.label, "term": t,
                "a_state": a.state, "a_appropriate": a.appropriate if a.state != "not_open" else None,
                "a_smaller_steps": a.smaller_steps if a.state != "not_open" else None,
                "b_state": b.state, "b_appropriate": b.appropriate if b.state != "not_open" else None,
                "b_smaller_steps": b.smaller_steps if b.state != "not_open" else None,
                "differs": "yes" if differs else "no", "explained_by": why,
            })
    return _csv(["phase", "class", "term", "a_state", "a_appropriate", "a_smaller_steps", "b_state", "b_appropriate",
                 "b_smaller_steps", "differs", "explained_by"], records)


# -- trend ---------------------------------------------------------------------------------------
def _point_text(p: TrendPoint) -> str:
    if p.state == "not_open":
        return "N/A"
    return "-" if p.percent is None else f"{p.percent:.1f}%"


def trend_text(t: Trend) -> str:
    out = [f"Appropriate progress: % of pupils judged making appropriate progress, per term",
           f"as at {iso(t.as_at)} (ledger position {t.position})", ""]
    if not t.terms:
        out.append("No judgements or figures in the ledger as it stood then.")
        return "\n".join(out)
    w, cw = 18, 7
    years = list(dict.fromkeys(term.split("/")[0] for term in t.terms))
    per_year = {y: [term for term in t.terms if term.startswith(y + "/")] for y in years}

    def blocks(cell) -> str:  # noqa: ANN001 - one "| a b c " block per year
        return "".join("| " + " ".join(f"{cell(term):>{cw}}" for term in per_year[y]) + " " for y in years)

    head1 = f"{'':<{w}}" + "".join(f"| {y:<{(cw + 1) * len(per_year[y]) - 1}} " for y in years)
    head2 = f"{'':<{w}}" + blocks(lambda term: term.split("/")[1])
    out += [head1, head2, "-" * len(head2)]
    for line in t.lines:
        name = ("  " + line.label) if line.scope == "class" else line.label
        points = {p.term: p for p in line.points}
        out.append(f"{name:<{w}}" + blocks(lambda term: _point_text(points[term])))
    out += ["", "N/A: the class (or every class of the phase) did not exist that term; -: no judgements recorded."]
    out += [f"Note: {n}" for n in t.notes]
    return "\n".join(line.rstrip() for line in out)


def _point_json(p: TrendPoint) -> dict[str, Any]:
    if p.state == "not_open":
        return {"state": "not_open"}
    return {"state": p.state, "appropriate": p.appropriate, "smaller_steps": p.smaller_steps,
            "percent_appropriate": None if p.percent is None else round(p.percent, 1)}


def trend_json(t: Trend) -> str:
    return _dumps({"as_at": iso(t.as_at), "position": t.position, "terms": t.terms,
                   "lines": [{"scope": line.scope, "name": line.name, "label": line.label, "phase": line.phase,
                              "terms": {p.term: _point_json(p) for p in line.points}} for line in t.lines],
                   "notes": t.notes})


def trend_csv(t: Trend) -> str:
    records = [{"scope": line.scope, "name": line.label, "phase": line.phase, "term": p.term, **_point_json(p)}
               for line in t.lines for p in line.points]
    return _csv(["scope", "name", "phase", "term", "state", "appropriate", "smaller_steps", "percent_appropriate"],
                records)


# -- smaller steps -------------------------------------------------------------------------------
def smaller_steps_text(s: SmallerSteps) -> str:
    scope = f"class {s.class_id}" if s.class_id else "whole school"
    share = f" ({100 * s.total / s.judged:.1f}%)" if s.judged else ""
    out = [f"Pupils making smaller steps of progress, {s.term} ({scope}): {s.total} of {s.judged} judged{share}",
           f"as at {iso(s.as_at)} (ledger position {s.position})", ""]
    if not s.groups:
        out.append("No pupil: no judgement in force for that term is smaller steps.")
        return "\n".join(out)
    out.append(f"{'pupils':>6}  reason")
    for g in s.groups:
        out.append(f"{g.count:>6}  {g.reason}")
        out.append(f"{'':>8}" + ", ".join(f"{p} ({c})" for p, c in g.pupils))
    return "\n".join(out)


def smaller_steps_json(s: SmallerSteps) -> str:
    return _dumps({"term": s.term, "class": s.class_id, "as_at": iso(s.as_at), "position": s.position,
                   "judged": s.judged, "smaller_steps": s.total,
                   "reasons": [{"reason": g.reason, "count": g.count,
                                "pupils": [{"pupil_id": p, "class": c} for p, c in g.pupils]} for g in s.groups]})


def smaller_steps_csv(s: SmallerSteps) -> str:
    """One row per pupil, with their reason and how many pupils share it."""
    return _csv(["reason", "reason_count", "pupil_id", "class"],
                [{"reason": g.reason, "reason_count": g.count, "pupil_id": p, "class": c}
                 for g in s.groups for p, c in g.pupils])


# -- audit ---------------------------------------------------------------------------------------
_AUDIT_COLUMNS = ["position", "recorded_at", "actor", "event_type", "stream", "command_id", "summary"]


def _audit_filters(a: Audit) -> dict[str, Any]:
    return {"actor": a.actor, "since": a.since and iso(a.since), "until": a.until and iso(a.until),
            "types": list(a.event_types)}


def audit_text(a: Audit) -> str:
    filters = [f"{k} {v}" for k, v in _audit_filters(a).items() if v and k != "types"]
    if a.event_types:
        filters.append("type " + ", ".join(a.event_types))
    out = [f"Audit log: {len(a.lines)} event(s)" + (f" ({'; '.join(filters)})" if filters else "") +
           "; times are UTC"]
    if not a.lines:
        return out[0]
    out.append(f"{'pos':>6}  {'recorded (UTC)':<19}  {'actor':<10} {'event':<22} {'stream':<30} summary")
    for line in a.lines:
        e = line.entry
        out.append(f"{e.position:>6}  {_utc(e.recorded_at):<19}  {e.actor:<10} {e.event_type:<22} "
                   f"{e.stream_id:<30} {line.summary}")
    return "\n".join(out)


def audit_json(a: Audit) -> str:
    return _dumps({"filters": _audit_filters(a), "count": len(a.lines), "events": [
        {"position": line.entry.position, "recorded_at": iso(line.entry.recorded_at), "actor": line.entry.actor,
         "event_type": line.entry.event_type, "stream": line.entry.stream_id, "command_id": line.entry.command_id,
         "summary": line.summary, "payload": line.payload}
        for line in a.lines]})


def audit_csv(a: Audit) -> str:
    return _csv(_AUDIT_COLUMNS, [
        {"position": line.entry.position, "recorded_at": iso(line.entry.recorded_at), "actor": line.entry.actor,
         "event_type": line.entry.event_type, "stream": line.entry.stream_id, "command_id": line.entry.command_id,
         "summary": line.summary} for line in a.lines])


# -- judgements export ---------------------------------------------------------------------------
EXPORT_COLUMNS = ["pupil_id", "class", "term", "status", "reason"]


def _export_records(x: JudgementExport) -> list[dict[str, Any]]:
    return [{"pupil_id": j.pupil_id, "class": j.class_id, "term": j.term, "status": j.status, "reason": j.reason}
            for j in x.rows]


def export_text(x: JudgementExport) -> str:
    out = [f"Judgements in force for {x.year} as at {iso(x.as_at)} (ledger position {x.position}): {len(x.rows)}"]
    out += [f"{j.pupil_id:<10} {j.class_id:<8} {j.term:<11} {j.status:<14} {j.reason or ''}".rstrip() for j in x.rows]
    return "\n".join(out)


def export_json(x: JudgementExport) -> str:
    return _dumps({"year": x.year, "as_at": iso(x.as_at), "position": x.position,
                   "judgements": _export_records(x)})


RENDERERS = {
    "changes": {"text": changes_text, "json": changes_json,
                "csv": lambda c: _csv(_CHANGE_COLUMNS, [_change_record(r) for r in c.rows])},
    "compare": {"text": compare_text, "json": compare_json, "csv": compare_csv},
    "trend": {"text": trend_text, "json": trend_json, "csv": trend_csv},
    "smaller_steps": {"text": smaller_steps_text, "json": smaller_steps_json, "csv": smaller_steps_csv},
    "audit": {"text": audit_text, "json": audit_json, "csv": audit_csv},
    "judgements_export": {"text": export_text, "json": export_json,
                          "csv": lambda x: _csv(EXPORT_COLUMNS, _export_records(x))},
}
