"""Imports: all or nothing, every bad row reported as FILE:LINE, the same file twice writes nothing."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ledger.domain.calendar import AcademicYear, Calendar, Term, parse_date
from ledger.domain.classes import ClassState, require_open
from ledger.domain.figures import aggregate_refusal
from ledger.domain.horizon import check_date_ahead
from ledger.domain.judgements import JudgementState, check_status, decide_record, decide_revise, judged_class
from ledger.domain.pupils import PlacementRow, PupilState, plan_placements
from ledger.domain.staff import Action
from ledger.errors import InvalidInput, LedgerError
from ledger.events import Event, check_id, class_stream, judgement_stream, pupil_stream, visible_length
from ledger.figures_events import figures_stream
from ledger.services.context import Ledger
from ledger.services.tabular import Row, Rows, read_table, tracked
from ledger.store.base import StreamWrite


@dataclass
class ImportResult:
    source: str
    rows: int
    written: int = 0
    dry_run: bool = False
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def summary(self) -> str:
        verb = "would write" if self.dry_run else "wrote"
        if not self.kinds:
            return f"{self.source}: {self.rows} rows read, nothing new to write"
        detail = ", ".join(f"{n} {k}" for k, n in sorted(self.kinds.items()))
        return f"{self.source}: {self.rows} rows read, {verb} {sum(self.kinds.values())} events ({detail})"


class _Lookups:
    """Per-import caches, so each stream is read once however many rows name it."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._classes: dict[str, ClassState | None] = {}
        self._calendars: dict[int, Calendar] = {}
        self._figures: dict[int, bool] = {}

    def read_classes(self, class_ids: Iterable[str]) -> None:
        """Read every class the rows name in a few queries up front (``klass`` then needs none)."""
        missing = [c for c in dict.fromkeys(class_ids) if c not in self._classes]
        with self.ledger.preloaded(class_stream(c) for c in missing):
            self._classes.update({c: self.ledger.klass(c)[1] for c in missing})

    def klass(self, class_id: str) -> ClassState | None:
        if class_id not in self._classes:
            self._classes[class_id] = self.ledger.klass(class_id)[1]
        return self._classes[class_id]

    def calendar(self, year: AcademicYear) -> Calendar:
        if year.start_year not in self._calendars:
            self._calendars[year.start_year] = self.ledger.calendar(year)[1]
        return self._calendars[year.start_year]

    def has_figures(self, year: AcademicYear) -> bool:
        if year.start_year not in self._figures:
            self._figures[year.start_year] = self.ledger.stream(figures_stream(str(year)))[0] > 0
        return self._figures[year.start_year]

    def term_of(self, day: date) -> Term:
        return self.calendar(AcademicYear.containing(day)).term_on(day)


def finish_import(ledger: Ledger, result: ImportResult, writes: list[StreamWrite], digest: str, kind: str,
                  named: Iterable[str] = ()) -> ImportResult:
    """Write what the import planned, all in one append. ``named`` are the streams the file's rows
    name (written to or found already up to date)."""
    result.written = sum(len(w.events) for w in writes)
    if result.dry_run:
        return result
    if ledger.command_id:
        # The user's --command-id is the key, as for every other write: the store refuses it for
        # other content, and a retry of an import that succeeded finds its rows already written.
        if writes:
            ledger.append(writes, command_id=ledger.command_id)
        else:
            ledger.check_retry_within(named)
        return result
    if writes:
        # The id names the file and what it writes now: a retry after a lost reply is recognised,
        # and the same file imported again after the ledger changed is a new command, not a clash.
        planned = hashlib.sha256(
            "\n".join(f"{w.stream_id}:{w.expected_version}:{e.payload}" for w in writes for e in w.events).encode()
        ).hexdigest()[:16]
        ledger.append(writes, command_id=f"import-{kind}:{ledger.school}:{digest[:32]}:{planned}")
    return result


def import_pupils(ledger: Ledger, path: Path, *, dry_run: bool = False, sheet: str | None = None) -> ImportResult:
    ledger.authorise(Action.MANAGE_SCHOOL)
    rows, digest = read_table(path, ("pupil_id", "class", "enrolled_on"), ("left_on",), sheet=sheet)
    look = _Lookups(ledger)
    look.read_classes(row.get("class") for row in rows)
    problems: list[str] = []
    today = ledger.today()
    by_pupil: dict[str, list[tuple[Row, PlacementRow]]] = defaultdict(list)
    for row in tracked(rows):
        try:
            pupil_id = check_id("pupil_id", row.get("pupil_id"))
            class_id = row.get("class")
            start = check_date_ahead(parse_date(row.get("enrolled_on"), "enrolled_on"), today, "enrolled_on")
            left_on = (check_date_ahead(parse_date(row.get("left_on"), "left_on"), today, "left_on")
                       if row.get("left_on") else None)
            require_open(look.klass(class_id), class_id, look.term_of(start))
            if left_on is not None and left_on < start:
                raise InvalidInput(f"left_on {left_on} is before enrolled_on {start}")
            by_pupil[pupil_id].append((row, PlacementRow(class_id, start, left_on)))
        except LedgerError as exc:
            problems.append(f"{row.where}: {exc}")
    result = ImportResult(str(path), len(rows), dry_run=dry_run)
    writes: list[StreamWrite] = []
    with ledger.preloaded(pupil_stream(p) for p in by_pupil):  # one query per 500 pupils, not one each
        known = {p: ledger.pupil(p) for p in by_pupil}
    for pupil_id, placed in by_pupil.items():
        placed.sort(key=lambda rp: rp[1].start)
        version, state = known[pupil_id]
        new: list[Event] = []
        for i, (row, placement) in enumerate(placed):
            following = placed[i + 1][1] if i + 1 < len(placed) else None
            if following and placement.left_on and following.start == placement.left_on + timedelta(days=1):
                placement = PlacementRow(placement.class_id, placement.start, placement.left_on, moves_on=True)
            try:
                state, events = plan_placements(state, [placement])
            except LedgerError as exc:
                problems.append(f"{row.where}: {exc}")
                break
            new.extend(events)
        if new:
            result.kinds.update(type(e).type_name for e in new)
            writes.append(ledger.write(pupil_stream(pupil_id), version, new))
    rows.refuse_if_any(str(path), problems)
    return finish_import(ledger, result, writes, digest, "pupils", (pupil_stream(p) for p in by_pupil))


def import_judgements(
    ledger: Ledger, path: Path, *, revise_reason: str | None = None, dry_run: bool = False, sheet: str | None = None
) -> ImportResult:
    ledger.authorise(Action.RECORD_JUDGEMENT)
    if revise_reason is not None:
        ledger.authorise(Action.REVISE_JUDGEMENT)
        if visible_length(revise_reason) < 3:
            raise InvalidInput("--revise needs --reason TEXT (at least 3 characters): why the judgements changed")
    rows, digest = read_table(path, ("pupil_id", "class", "term", "status", "reason"), sheet=sheet)
    look = _Lookups(ledger)
    look.read_classes(row.get("class") for row in rows)
    pupils: dict[str, PupilState] = {}
    problems: list[str] = []
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    writes: list[StreamWrite] = []
    result = ImportResult(str(path), len(rows), dry_run=dry_run)
    today = ledger.today()
    aggregate_years: set[AcademicYear] = set()
    keys = _row_keys(rows)  # read every stream the rows name in a few queries, not one per row
    with ledger.preloaded([*{pupil_stream(p) for p, _ in keys}, *(judgement_stream(p, str(t)) for p, t in keys)]):
        pupils.update({p: ledger.pupil(p)[1] for p in {p for p, _ in keys}})
        judged = {(p, str(t)): ledger.judgement(p, t) for p, t in keys}
    for row in tracked(rows):
        try:
            pupil_id, class_id = check_id("pupil_id", row.get("pupil_id")), row.get("class")
            term = Term.parse(row.get("term"))
            status, reason = row.get("status").lower(), row.get("reason") or None
            check_status(status, reason)
            key = (pupil_id, str(term))
            if key in seen:
                if seen[key][1] != status:
                    raise InvalidInput(f"pupil {pupil_id} has another row for {term} at {seen[key][0]} with a different status")
                continue
            seen[key] = (row.where, status)
            if look.has_figures(term.year):  # the year is kept as the school's aggregate figures
                if term.year not in aggregate_years:
                    aggregate_years.add(term.year)
                    raise aggregate_refusal(term.year, also=" (this row and every other row for that year)")
                continue
            if pupil_id not in pupils:
                pupils[pupil_id] = ledger.pupil(pupil_id)[1]
            dates = look.calendar(term.year).dates(term)
            judged_class(pupils[pupil_id], term, dates, class_id, look.klass(class_id))
            version, existing = judged[key] if key in judged else ledger.judgement(pupil_id, term)
            event = _judgement_event(existing, pupil_id, term, dates[0], today, class_id, status, reason, revise_reason)
            if event is not None:
                result.kinds[event.type_name] += 1
                writes.append(ledger.write(judgement_stream(pupil_id, str(term)), version, [event]))
        except LedgerError as exc:
            problems.append(f"{row.where}: {exc}")
    rows.refuse_if_any(str(path), problems)
    # The reason is part of what was asked, but hashed: command ids have a fixed maximum length.
    reason_digest = hashlib.sha256((revise_reason or "").encode()).hexdigest()[:16]
    return finish_import(ledger, result, writes, f"{digest}:{reason_digest}", "judgements",
                         (judgement_stream(p, str(t)) for p, t in keys))


def _row_keys(rows: Rows) -> set[tuple[str, Term]]:
    """(pupil id, term) of every row whose two fields parse; the others are reported by the main loop."""
    keys: set[tuple[str, Term]] = set()
    for row in rows:
        try:
            keys.add((check_id("pupil_id", row.get("pupil_id")), Term.parse(row.get("term"))))
        except LedgerError:
            pass
    return keys


def _judgement_event(
    existing: JudgementState | None, pupil_id: str, term: Term, term_start: date, today: date,
    class_id: str, status: str, reason: str | None, revise_reason: str | None,
) -> Event | None:
    if existing is None:
        return decide_record(None, pupil_id, term, term_start, today, class_id, status, reason)
    if existing.class_id != class_id:
        raise InvalidInput(f"pupil {pupil_id}'s judgement for {term} is recorded in class {existing.class_id}, not {class_id}")
    if existing.status == status:
        return None
    if revise_reason is None:
        raise InvalidInput(
            f"would change pupil {pupil_id}'s {term} judgement from {existing.status} to {status}; "
            "import with --revise --reason TEXT to record revisions"
        )
    return decide_revise(existing, pupil_id, term, status, revise_reason)
