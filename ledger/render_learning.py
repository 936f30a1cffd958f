"""Rendering the learning-record reads (review, pupil page, frameworks) in text, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Any

from ledger.learning_events import AREAS
from ledger.render import iso
from ledger.services.learning_queries import PupilPage, Review


def _dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


def _csv(columns: list[str], records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
    return buf.getvalue().rstrip("\n")


# -- review --------------------------------------------------------------------------------------
_REVIEW_COLUMNS = ["pupil_id", "class", "status", "reason", "targets", "approved", "moved_up", "regressed",
                   "not_moved", "flags"]


def _review_record(line: Any) -> dict[str, Any]:
    record = asdict(line)
    record["class"] = record.pop("class_id")
    return record


def review_json(r: Review) -> str:
    return _dumps({
        "term": r.term, "class": r.class_id, "as_at": iso(r.as_at), "position": r.position,
        "pupils": [_review_record(line) for line in r.lines],
    })


def review_csv(r: Review) -> str:
    return _csv(_REVIEW_COLUMNS, [{**_review_record(line), "flags": "; ".join(line.flags)} for line in r.lines])


def review_text(r: Review) -> str:
    scope = f" class {r.class_id}" if r.class_id else ""
    out = [f"Termly review {r.term}{scope}: as at {iso(r.as_at)} (ledger position {r.position})", ""]
    if not r.lines:
        return "\n".join([*out, "No pupils on roll or judged in that term."])
    out.append(f"Pupils making smaller steps of progress ({len(r.smaller_steps)})")
    for line in r.smaller_steps:
        out.append(f"  {line.pupil_id:<10} {line.class_id:<8} {line.reason or '(no reason recorded)'}")
    out += ["", f"Flags before the data meeting ({len(r.flagged)} pupils)"]
    for line in r.flagged:
        for flag in line.flags:
            out.append(f"  {line.pupil_id:<10} {line.class_id:<8} {flag}")
    out += ["", "Targets this term (approved): moved up / regressed / not moved"]
    for line in r.lines:
        out.append(f"  {line.pupil_id:<10} {line.class_id:<8} {line.status or 'unjudged':<14} "
                   f"{line.approved} approved of {line.targets}: {line.moved_up} up, {line.regressed} down, "
                   f"{line.not_moved} not moved")
    return "\n".join(out)


# -- pupil page ----------------------------------------------------------------------------------
def pupil_record(p: PupilPage) -> dict[str, Any]:
    return {
        "pupil": p.pupil_id, "as_at": iso(p.as_at), "position": p.position, "class": p.current_class,
        "outcomes": [asdict(o) for o in p.outcomes],
        "targets": [
            {**{k: v for k, v in asdict(t).items() if k != "stages"},
             "stages": [{**asdict(s), "recorded_at": iso(s.recorded_at), "achieved_on": str(s.achieved_on)}
                        for s in t.stages]}
            for t in p.targets
        ],
        "judgements": [asdict(j) for j in p.judgements],
    }


def pupil_text(p: PupilPage) -> str:
    out = [f"Pupil {p.pupil_id}: class {p.current_class or '(not on roll)'}; as at {iso(p.as_at)} "
           f"(ledger position {p.position})", "", "EHCP outcomes"]
    out += [f"  {o.outcome_id:<14} {AREAS.get(o.area, o.area)}: {o.description}{' (closed)' if o.closed else ''}"
            for o in p.outcomes] or ["  none recorded"]
    out += ["", "Targets"]
    for t in p.targets:
        state = "withdrawn" if t.withdrawn else ("approved by " + str(t.approved_by) if t.approved else "awaiting approval")
        out.append(f"  {t.target_id} [{t.outcome_id}, {t.framework_id}, {', '.join(t.terms)}; {state}]")
        out.append(f"    {t.description}")
        out.append(f"    current stage: {t.current_stage or 'none recorded'}")
        previous: int | None = None
        for s in t.stages:
            # A reason may come with any stage; only a step below the one before is a regression.
            kind = "regression" if previous is not None and s.stage_index < previous else "reason"
            why = f" ({kind}: {s.reason})" if s.reason else ""
            previous = s.stage_index
            out.append(f"      {s.achieved_on}  {s.stage:<24} {s.note}{why}  [{s.actor}, position {s.position}]")
    if not p.targets:
        out.append("  none recorded")
    out += ["", "Judgements"]
    out += [f"  {j.term}  {j.class_id:<8} {j.status:<14} {j.reason or ''}" for j in p.judgements] or ["  none recorded"]
    return "\n".join(out)


def pupil_csv(p: PupilPage) -> str:
    """One row per stage recorded (targets with no stage get one row), for spreadsheets."""
    rows = []
    for t in p.targets:
        base = {"pupil_id": p.pupil_id, "target_id": t.target_id, "outcome_id": t.outcome_id,
                "framework": t.framework_id, "approved": t.approved, "withdrawn": t.withdrawn,
                "current_stage": t.current_stage}
        rows += [{**base, "stage": s.stage, "achieved_on": s.achieved_on, "note": s.note, "reason": s.reason}
                 for s in t.stages] or [base]
    return _csv(["pupil_id", "target_id", "outcome_id", "framework", "approved", "withdrawn", "current_stage",
                 "stage", "achieved_on", "note", "reason"], rows)


# -- frameworks ----------------------------------------------------------------------------------
def frameworks_records(items: list[tuple[str, str, list[str], bool]]) -> list[dict[str, Any]]:
    return [{"framework": f, "name": n, "stages": s, "shipped": b} for f, n, s, b in items]


RENDERERS = {
    "review": {"text": review_text, "json": review_json, "csv": review_csv},
    "pupil": {"text": pupil_text, "json": lambda p: _dumps(pupil_record(p)), "csv": pupil_csv},
    "frameworks": {
        "text": lambda items: "\n".join(
            f"{r['framework']:<14} {r['name']}: {' > '.join(r['stages'])}{'' if r['shipped'] else ' (school)'}"
            for r in frameworks_records(items)),
        "json": lambda items: _dumps({"frameworks": frameworks_records(items)}),
        "csv": lambda items: _csv(["framework", "name", "stages", "shipped"],
                                  [{**r, "stages": " > ".join(r["stages"])} for r in frameworks_records(items)]),
    },
}
