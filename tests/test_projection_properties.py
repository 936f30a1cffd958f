"""Hypothesis properties of the DuckDB read model against a plain-Python reference fold.

Each example builds a random but valid ledger through the application services: a few classes in
one to three phases with random from-terms and closes, pupils enrolling, moving and leaving by
import, judgements and revisions by command and by import, term dates sometimes set, with a fake
clock walking through the 2023-24 school year. Sometimes the ledger is a trust's, with a second
school (``OAK``) using the same class and pupil ids, so each school's figures must stay its own.
Commands the rules refuse are skipped (and must write nothing), so the log only holds what the
services accepted.

The properties:

(a) the DuckDB report equals ``reference_fold.reference_report`` at the head, at random positions
    and at random ``--as-at`` moments written as a date, a naive local time, ``Z`` or an offset;
(b) the report at position p equals the report of a separate ledger holding only events up to p;
(c) catching up in random batches equals a full rebuild (every table, and the reports);
(e) importing a file again writes nothing.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FakeClock
from ledger.bootstrap import ledger_for_store
from ledger.domain.calendar import AcademicYear, Term
from ledger.errors import Conflict, LedgerError, NotFound
from ledger.events import judgement_stream
from ledger.readmodel import Cell
from ledger.services import commands, imports, queries
from ledger.services.context import Ledger
from ledger.store import open_store
from ledger.store.base import EventStore
from ledger.store.mapper import StoredEvent, format_time
from projections.duckdb_model import TABLES, DuckDbProjection
from reference_fold import reference_report

SETTINGS = settings(
    max_examples=30, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

YEARS = (2022, 2023, 2024)  # the report is checked for 2023-24 and the years either side
CLASS_IDS = ["1AJ", "1CW", "2MD", "3KS", "7RB", "9TT", "12S"]
PHASES = ["EYFS/KS1/KS2", "KS3/KS4", "KS5"]
PUPILS = [f"P-{n:03d}" for n in range(1, 11)]
TERMS_2023 = [Term.parse(f"2023-24/T{n}") for n in (1, 2, 3)]
FROM_TERMS = ["2022-23/T3", "2023-24/T1", "2023-24/T1", "2023-24/T2", "2023-24/T3", "2024-25/T1"]
CLOSE_TERMS = ["2022-23/T3", "2023-24/T1", "2023-24/T2", "2023-24/T3", "2024-25/T1"]
ZONES = ["Europe/London", "UTC", "Pacific/Auckland", "America/New_York"]
REASONS = ["long absence", "new EHCP targets", "moderation", "illness in term"]
PUPIL_HEADER = ["pupil_id", "class", "enrolled_on", "left_on"]
JUDGEMENT_HEADER = ["pupil_id", "class", "term", "status", "reason"]
DAY0 = date(2023, 7, 1)


@dataclass
class School:
    code: str  # "" for the ledger's own school
    manager: Ledger  # dm1, data-manager: classes, pupils, term dates
    judge: Ledger  # hd1, head: judgements and revisions
    classes: list[str]
    phases: list[str]


@dataclass
class World:
    store: EventStore
    clock: FakeClock
    folder: Path
    schools: dict[str, School] = field(default_factory=dict)
    active: str = ""
    imported: list[tuple[str, str, Path, str | None]] = field(default_factory=list)  # school, kind, file, reason
    files: int = 0
    # Generator hints, read through the services and kept until the next successful write.
    _memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def school(self) -> School:
        return self.schools[self.active]

    @property
    def ledger(self) -> Ledger:
        return self.school.manager

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        key = (self.active, key)
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def klass(self, class_id: str):  # noqa: ANN201
        return self.memo(("class", class_id), lambda: self.ledger.klass(class_id)[1])

    def pupil(self, pupil_id: str):  # noqa: ANN201
        return self.memo(("pupil", pupil_id), lambda: self.ledger.pupil(pupil_id)[1])

    def calendar(self, year_start: int):  # noqa: ANN201
        return self.memo(("calendar", year_start), lambda: self.ledger.calendar(AcademicYear(year_start))[1])

    def close(self) -> None:
        for school in self.schools.values():
            for led in (school.manager, school.judge):
                if led._read_model is not None:
                    led._read_model.close()
        self.store.close()


def _attempt(world: World, action: Callable[[], Any]) -> bool:
    """Run one command; a refusal is fine but must write nothing."""
    world.clock.advance(seconds=1)  # each command at its own recorded time
    before = world.store.head()
    try:
        action()
    except LedgerError as exc:
        # One writer at a time: a conflict here would be a bug, not a refusal. The one exception: a
        # file imported again with the same --revise --reason after the ledger moved on plans new
        # revisions under the import's old command id, and the store refuses to reuse it.
        assert not isinstance(exc, Conflict) or str(exc).startswith("command id import-judgements:"), str(exc)
        assert world.store.head() == before, f"a refused command wrote to the ledger: {exc}"
        return False
    world._memo.clear()
    return True


def _write_csv(world: World, header: list[str], rows: list[list[str]]) -> Path:
    world.files += 1
    path = world.folder / f"import-{world.files}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _draw_day(data: st.DataObject, after: date | None = None) -> date:
    """A date after ``after`` (or from July 2023), mostly inside the 2023-24 year."""
    low = max((after - DAY0).days + 1 if after else 0, 0)
    return DAY0 + timedelta(days=data.draw(st.integers(min_value=low, max_value=low + 240)))


def _open_classes(world: World, day: date) -> list[str]:
    """Classes that exist in the term a placement starting on ``day`` falls in (a generator hint)."""
    term = world.calendar(AcademicYear.containing(day).start_year).term_on(day)
    return [c for c in CLASS_IDS if (state := world.klass(c)) is not None and state.is_open_in(term)]


def _pick_class(world: World, data: st.DataObject, day: date, but: str | None = None, odds: int = 15) -> str:
    good = [c for c in _open_classes(world, day) if c != but]
    if good and data.draw(st.integers(0, odds)):  # mostly a class that exists then; sometimes any
        return data.draw(st.sampled_from(good))
    return data.draw(st.sampled_from(world.school.classes))


def _pupil_rows(world: World, data: st.DataObject, pupil: str) -> list[list[str]]:
    """Rows for one pupil: maybe their recorded history again, plus one new step."""
    placements = world.pupil(pupil).placements
    rows: list[list[str]] = []
    if placements and data.draw(st.booleans()):
        rows = [[pupil, p.class_id, p.start.isoformat(), p.last_day.isoformat() if p.last_day else ""]
                for p in placements]
    current = placements[-1] if placements else None
    step = data.draw(st.sampled_from(["move", "move", "leave"]))
    if current is None or current.last_day is not None:  # (re-)enrol
        for _ in range(3):  # prefer a day on which some class exists
            on = _draw_day(data, current.last_day if current else None)
            if _open_classes(world, on):
                break
        rows.append([pupil, _pick_class(world, data, on), on.isoformat(), ""])
        return rows
    same = [current.class_id, current.start.isoformat()]
    rows = [r for r in rows if r[1:3] != same]
    if step == "leave":
        left = current.start + timedelta(days=data.draw(st.integers(0, 250)))
        rows.append([pupil, *same, left.isoformat()])
    else:
        for _ in range(3):
            on = current.start + timedelta(days=data.draw(st.integers(1, 200)))
            if set(_open_classes(world, on)) - {current.class_id}:
                break
        if data.draw(st.booleans()):  # state the old placement's last day too: a move, not leaving
            rows.append([pupil, *same, (on - timedelta(days=1)).isoformat()])
        rows.append([pupil, _pick_class(world, data, on, but=current.class_id), on.isoformat(), ""])
    return rows


def _some_pupil(world: World, data: st.DataObject) -> str:
    """Mostly a pupil on the roll; sometimes any."""
    placed = [p for p in PUPILS if world.pupil(p).placements]
    if placed and data.draw(st.integers(0, 9)):
        return data.draw(st.sampled_from(placed))
    return data.draw(st.sampled_from(PUPILS))


def _some_term(world: World, data: st.DataObject) -> Term:
    """Mostly a 2023-24 term that has started by the clock; sometimes any."""
    calendar = world.calendar(2023)
    started = [t for t in TERMS_2023 if calendar.dates(t)[0] <= world.ledger.today()]
    if started and data.draw(st.integers(0, 5)):
        return data.draw(st.sampled_from(started))
    return data.draw(st.sampled_from(TERMS_2023))


def _judged(world: World) -> list[tuple[str, Term]]:
    streams = {world.ledger.scoped(judgement_stream(p, str(t))): (p, t) for p in PUPILS for t in TERMS_2023}
    versions = world.store.stream_versions(list(streams))
    return [key for stream, key in streams.items() if versions[stream]]


def _some_judged(world: World, data: st.DataObject) -> tuple[str, Term]:
    """Mostly a pupil and term with a judgement to revise; sometimes any."""
    found = world.memo("judged", lambda: _judged(world))
    if found and data.draw(st.integers(0, 9)):
        return data.draw(st.sampled_from(found))
    return data.draw(st.sampled_from(PUPILS)), data.draw(st.sampled_from(TERMS_2023))


def _some_unjudged(world: World, data: st.DataObject) -> tuple[str, Term]:
    """Mostly a pupil on roll in a term that has started, with no judgement for it yet; sometimes any."""
    calendar, today = world.calendar(2023), world.ledger.today()
    judged = set(world.memo("judged", lambda: _judged(world)))
    open_pairs = [(p, t) for p in PUPILS for t in TERMS_2023
                  if calendar.dates(t)[0] <= today and (p, t) not in judged
                  and world.pupil(p).classes_during(*calendar.dates(t))]
    if open_pairs and data.draw(st.integers(0, 5)):
        return data.draw(st.sampled_from(open_pairs))
    return _some_pupil(world, data), _some_term(world, data)


def _judgement_row(world: World, data: st.DataObject, pupil: str) -> list[str] | None:
    """A row for a term, in one of the classes the pupil was in then (or any they were ever in)."""
    state = world.pupil(pupil)
    if not state.placements:
        return None
    term = _some_term(world, data)
    first, last = world.calendar(2023).dates(term)
    during = state.classes_during(first, last) or list(state.placements)
    status = data.draw(st.sampled_from(["appropriate", "smaller-steps"]))
    reason = data.draw(st.sampled_from(REASONS)) if status == "smaller-steps" else ""
    return [pupil, data.draw(st.sampled_from(during)).class_id, str(term), status, reason]


def _import(world: World, kind: str, path: Path, reason: str | None = None) -> None:
    school = world.school

    def run() -> None:
        if kind == "pupils":
            imports.import_pupils(school.manager, path)
        else:
            imports.import_judgements(school.judge, path, revise_reason=reason)
        world.imported.append((school.code, kind, path, reason))

    _attempt(world, run)


def _open_class(world: World, data: st.DataObject, class_id: str) -> None:
    from_term = data.draw(st.sampled_from([None, *FROM_TERMS]))
    mark = data.draw(st.sampled_from([None, None, "PMLD", "ASC"]))
    phase = data.draw(st.sampled_from(world.school.phases))
    _attempt(world, lambda: commands.open_class(
        world.ledger, class_id, phase, mark, Term.parse(from_term) if from_term else None))


def _start_school(world: World, data: st.DataObject, code: str) -> None:
    manager = ledger_for_store(world.store, projection=None, actor="dm1", school=code)
    commands.init(manager, school=f"School {code or 'own'}", timezone=data.draw(st.sampled_from(ZONES)))
    commands.add_staff(manager, "hd1", "head")
    judge = ledger_for_store(world.store, projection=None, actor="hd1", school=code)
    world.schools[code] = School(
        code, manager, judge,
        classes=data.draw(st.lists(st.sampled_from(CLASS_IDS), min_size=1, max_size=5, unique=True)),
        phases=data.draw(st.lists(st.sampled_from(PHASES), min_size=1, max_size=3, unique=True)),
    )
    world.active = code
    for class_id in world.school.classes[: data.draw(st.integers(1, len(world.school.classes)))]:
        _open_class(world, data, class_id)
    # A first roll, as a school would import at the start of the year.
    rows = []
    for pupil in PUPILS[: data.draw(st.integers(0, len(PUPILS)))]:
        offset = timedelta(days=data.draw(st.integers(0, 30)))
        days = [start + offset for start in (date(2023, 9, 1), date(2024, 1, 2), date(2024, 4, 2))]
        on = next((d for d in days if _open_classes(world, d)), days[0])
        rows.append([pupil, _pick_class(world, data, on, odds=100), on.isoformat(), ""])
    if rows:
        _import(world, "pupils", _write_csv(world, PUPIL_HEADER, rows))


OPS = (["tick"] * 4 + ["open", "close", "dates"] + ["pupils"] * 3 + ["record"] * 6 + ["revise"] * 3
       + ["judgements"] * 3)


def build_world(data: st.DataObject, folder: Path) -> World:
    """A random ledger (sometimes a trust's with two schools) built through the services."""
    start = datetime(2023, 8, 20, tzinfo=timezone.utc) + timedelta(hours=data.draw(st.integers(0, 24 * 150)))
    clock = FakeClock(start)
    store = open_store(f"sqlite:///{folder / 'events.db'}", clock=clock, must_exist=False)
    world = World(store, clock, folder)
    codes = data.draw(st.sampled_from([[""], [""], ["", "OAK"]]))
    for code in codes:
        _start_school(world, data, code)

    for op in data.draw(st.lists(st.sampled_from(OPS), min_size=12, max_size=40)):
        world.active = data.draw(st.sampled_from(codes))
        school = world.school
        if op == "tick":
            clock.advance(days=data.draw(st.integers(0, 75)), minutes=data.draw(st.integers(0, 24 * 60)))
        elif op == "open":
            _open_class(world, data, data.draw(st.sampled_from(school.classes)))
        elif op == "close":
            class_id = data.draw(st.sampled_from(school.classes))
            after = Term.parse(data.draw(st.sampled_from(CLOSE_TERMS)))
            _attempt(world, lambda: commands.close_class(school.manager, class_id, after))
        elif op == "dates":
            term = data.draw(st.sampled_from(TERMS_2023))
            first, last = term.default_dates()
            s = first + timedelta(days=data.draw(st.integers(0, 12)))
            e = last - timedelta(days=data.draw(st.integers(0, 40)))
            _attempt(world, lambda: commands.set_term_dates(school.manager, term, s, e))
        elif op == "pupils":
            chosen = data.draw(st.lists(st.sampled_from(PUPILS), min_size=1, max_size=3, unique=True))
            rows = data.draw(st.permutations([r for p in chosen for r in _pupil_rows(world, data, p)]))
            path = _write_csv(world, PUPIL_HEADER, rows)
            _import(world, "pupils", path)
            if data.draw(st.booleans()):  # the same file again at once: nothing new
                before = store.head()
                _import(world, "pupils", path)
                assert store.head() == before
        elif op == "record":
            pupil, term = _some_unjudged(world, data)
            status = data.draw(st.sampled_from(["appropriate", "smaller-steps"]))
            reason = data.draw(st.sampled_from(REASONS)) if status == "smaller-steps" else None
            class_id = data.draw(st.sampled_from([None, None, None, *school.classes]))
            _attempt(world, lambda: commands.record_judgement(school.judge, pupil, term, status, reason, class_id))
        elif op == "revise":
            pupil, term = _some_judged(world, data)
            status = data.draw(st.sampled_from(["appropriate", "smaller-steps"]))
            reason = data.draw(st.sampled_from(REASONS))
            _attempt(world, lambda: commands.revise_judgement(school.judge, pupil, term, status, reason))
        elif op == "judgements":
            chosen = dict.fromkeys(_some_pupil(world, data) for _ in range(data.draw(st.integers(1, 4))))
            rows = [r for p in chosen if (r := _judgement_row(world, data, p)) is not None]
            if rows:
                path = _write_csv(world, JUDGEMENT_HEADER, rows)
                _import(world, "judgements", path, data.draw(st.sampled_from([None, None, "moderation meeting"])))
    world.active = ""
    return world


def _events(store: EventStore) -> list[StoredEvent]:
    events = list(store.read_all())
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    return events


def _year(y: int) -> str:
    return f"{y}-{(y + 1) % 100:02d}"


def _same(actual: Any, expected: Any) -> None:
    assert asdict(actual) == asdict(expected)


def _recorded(events: list[StoredEvent], position: int, fallback: datetime) -> datetime:
    """The moment a position stands for: its event's time; position 0 is just before the first event."""
    if position:
        return events[position - 1].recorded_time
    return events[0].recorded_time - timedelta(microseconds=1) if events else fallback


def _as_at_text(data: st.DataObject, moment: datetime, tz: ZoneInfo) -> tuple[str, datetime]:
    """``moment`` written as --as-at would be, and the instant the contract says that means."""
    form = data.draw(st.sampled_from(["date", "naive", "zulu", "offset"]))
    if form == "date":  # the end of that day, in the ledger's time zone
        day = moment.astimezone(tz).date()
        return day.isoformat(), datetime.combine(day, time(23, 59, 59, 999999), tzinfo=tz).astimezone(timezone.utc)
    if form == "naive":  # local time in the ledger's time zone
        wall = moment.astimezone(tz).replace(microsecond=0, tzinfo=None)
        return wall.isoformat(), wall.replace(tzinfo=tz).astimezone(timezone.utc)
    instant = moment.replace(microsecond=0)
    if form == "zulu":
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ"), instant
    return instant.astimezone(ZoneInfo("Asia/Kolkata")).isoformat(), instant


# -- (a) the DuckDB report equals the reference fold -------------------------------------------------
@SETTINGS
@given(data=st.data())
def test_report_matches_reference_fold_at_head_and_in_the_past(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = build_world(data, Path(tmp))
        try:
            events = _events(world.store)
            head, now = len(events), world.clock()
            positions = data.draw(st.lists(st.integers(0, head), min_size=1, max_size=3))
            first, last = events[0].recorded_time, events[-1].recorded_time
            span = int((last - first).total_seconds()) + 4 * 86400
            moments = [first - timedelta(days=2) + timedelta(seconds=data.draw(st.integers(0, span)))
                       for _ in range(3)]
            for code, school in world.schools.items():
                led = school.manager
                for y in YEARS:
                    _same(queries.report(led, _year(y)), reference_report(events, y, head, now, code))
                for p in positions:
                    for y in YEARS:
                        expected = reference_report(events, y, p, _recorded(events, p, now), code)
                        _same(queries.report(led, _year(y), position=p), expected)
                for moment in moments:
                    text, instant = _as_at_text(data, moment, ZoneInfo(led.timezone_name))
                    position = sum(1 for e in events if e.recorded_time <= instant)
                    for y in YEARS:
                        actual = queries.report(led, _year(y), as_at=text)
                        assert (actual.position, actual.as_at) == (position, instant), text
                        _same(actual, reference_report(events, y, position, instant, code))
        finally:
            world.close()


# -- (b) the report at position p equals a ledger that holds only events up to p ----------------------
@SETTINGS
@given(data=st.data())
def test_report_at_position_equals_truncated_ledger(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = build_world(data, Path(tmp))
        stores: list[EventStore] = []
        copies: list[Ledger] = []
        try:
            events = _events(world.store)
            for p in data.draw(st.lists(st.integers(0, len(events)), min_size=1, max_size=3, unique=True)):
                copy_store = open_store(f"sqlite:///{Path(tmp) / f'copy-{p}.db'}", clock=world.clock, must_exist=False)
                stores.append(copy_store)
                copy_store.create_schema()
                copy_store.insert_verbatim(events[:p])
                assert copy_store.head().position == p
                if p:
                    assert copy_store.head().hash == events[p - 1].hash
                for code, school in world.schools.items():
                    copy = ledger_for_store(copy_store, projection=None, actor="dm1", school=code)
                    copies.append(copy)
                    if p:
                        assert queries.verify(copy) == p
                    if code and not any(e.event_type == "LedgerCreated" and e.school == code for e in events[:p]):
                        # A school created after p is unknown to the truncated ledger, and refused there.
                        with pytest.raises(NotFound):
                            queries.report(copy, _year(YEARS[0]), position=p)
                        continue
                    for y in YEARS:
                        whole = queries.report(school.manager, _year(y), position=p)
                        truncated = queries.report(copy, _year(y), position=p)
                        if p == 0:  # an empty ledger has no first event to stand just before: it says now
                            truncated = replace(truncated, as_at=whole.as_at)
                        _same(whole, truncated)
                        # as at the moment of event p, when no later event shares that moment
                        if p and (p == len(events) or events[p].recorded_time > events[p - 1].recorded_time):
                            text = format_time(events[p - 1].recorded_time)
                            _same(queries.report(school.manager, _year(y), as_at=text),
                                  queries.report(copy, _year(y), as_at=text))
                    for pupil in PUPILS[:5]:
                        # A pupil the school never enrolled is refused; one enrolled after p is unknown to the
                        # truncated ledger, while the whole ledger knows them and shows nothing recorded then.
                        if not school.manager.pupil(pupil)[1].placements:
                            with pytest.raises(NotFound):
                                queries.history(school.manager, pupil, position=p)
                            continue
                        then = queries.history(copy, pupil) if copy.pupil(pupil)[1].placements else []
                        assert queries.history(school.manager, pupil, position=p) == then
        finally:
            for c in copies:
                if c._read_model is not None:
                    c._read_model.close()
            for s in stores:
                s.close()
            world.close()


# -- (c) catching up in random batches equals a full rebuild -----------------------------------------
def _tables(projection: DuckDbProjection) -> dict[str, list[tuple]]:
    out = {}
    for table in TABLES:
        names = ", ".join(table.column_names)
        out[table.name] = projection.con.execute(f"SELECT {names} FROM {table.name} ORDER BY {names}").fetchall()
    out["meta"] = sorted(projection.con.execute("SELECT k, v FROM meta").fetchall())
    return out


@SETTINGS
@given(data=st.data())
def test_batched_catch_up_equals_full_rebuild(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = build_world(data, Path(tmp))
        projections: list[DuckDbProjection] = []
        try:
            events = _events(world.store)
            n = len(events)
            cuts = sorted(data.draw(st.lists(st.integers(1, max(1, n - 1)), max_size=8, unique=True)))
            bounds = [0, *[c for c in cuts if c < n], n]
            positions = {0, n, *data.draw(st.lists(st.integers(0, n), max_size=3))}
            for code, school in world.schools.items():
                full = DuckDbProjection(world.store, None, code)
                batched = DuckDbProjection(world.store, Path(tmp) / f"batched{code}.duckdb", code)
                projections += [full, batched]
                assert full.rebuild() == n
                for lo, hi in zip(bounds, bounds[1:]):
                    batched.apply_batch(events[lo:hi])
                    assert batched.position == hi
                assert _tables(batched) == _tables(full)
                assert batched.catch_up() == n  # nothing left to do
                assert _tables(batched) == _tables(full)

                tz = school.manager.timezone_name
                for p in positions:
                    at = _recorded(events, p, world.clock())
                    for y in YEARS:
                        expected = reference_report(events, y, p, at, code)
                        _same(batched.report(y, p, at, tz), expected)
                        _same(full.report(y, p, at, tz), expected)

                # the file is a cache: reopened, it resumes where it stopped
                batched.close()
                projections.remove(batched)
                reopened = DuckDbProjection(world.store, Path(tmp) / f"batched{code}.duckdb", code)
                projections.append(reopened)
                assert reopened.position == n
                assert _tables(reopened) == _tables(full)
        finally:
            for projection in projections:
                projection.close()
            world.close()


# -- (e) importing the same file again writes nothing -------------------------------------------------
@SETTINGS
@given(data=st.data())
def test_importing_the_same_file_again_writes_nothing(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = build_world(data, Path(tmp))
        try:
            # Every file that was accepted once, imported again now (in any order), writes nothing:
            # it is either nothing new, or refused because the ledger has moved on since.
            for code, kind, path, _reason in data.draw(st.permutations(world.imported)):
                school = world.schools[code]
                before = world.store.head()
                try:
                    if kind == "pupils":
                        result = imports.import_pupils(school.manager, path)
                    else:
                        result = imports.import_judgements(school.judge, path)
                    assert result.written == 0 and not result.kinds, (path.read_text(), result.summary)
                    assert "nothing new to write" in result.summary
                except LedgerError as exc:
                    assert not isinstance(exc, Conflict), str(exc)
                assert world.store.head() == before, path.read_text()

            # Each school's roll and judgements in force, restated as files, imported twice: nothing new.
            for code, school in world.schools.items():
                world.active = code
                pupil_rows, judgement_rows = [], []
                for pupil in PUPILS:
                    for pl in world.pupil(pupil).placements:
                        pupil_rows.append([pupil, pl.class_id, pl.start.isoformat(),
                                           pl.last_day.isoformat() if pl.last_day else ""])
                    for term in TERMS_2023:
                        j = school.manager.judgement(pupil, term)[1]
                        if j is not None:
                            judgement_rows.append([pupil, j.class_id, str(term), j.status, j.reason or "restated"])
                files = []
                if pupil_rows:
                    files.append(("pupils", _write_csv(world, PUPIL_HEADER, pupil_rows)))
                if judgement_rows:
                    files.append(("judgements", _write_csv(world, JUDGEMENT_HEADER, judgement_rows)))
                for kind, path in files + files:
                    before = world.store.head()
                    try:
                        if kind == "pupils":
                            result = imports.import_pupils(school.manager, path)
                        else:
                            result = imports.import_judgements(school.judge, path)
                        assert result.written == 0, (path.read_text(), result.summary)
                    except LedgerError as exc:
                        # only a class closed since, or a placement cut short since, may refuse it
                        assert not isinstance(exc, Conflict), str(exc)
                        for problem in getattr(exc, "problems", [str(exc)]):
                            assert "is not open in" in problem or "is not on the roll of" in problem, problem
                    assert world.store.head() == before
        finally:
            world.close()


# -- the reference itself, pinned to numbers worked out by hand ----------------------------------------
def test_reference_fold_on_a_known_ledger(ledger: Ledger, clock: FakeClock, tmp_path: Path) -> None:
    commands.add_staff(ledger, "hd1", "head")
    commands.open_class(ledger, "1AJ", "KS1", None, Term.parse("2023-24/T1"))
    commands.open_class(ledger, "7RB", "KS3/KS4", None, Term.parse("2023-24/T2"))
    commands.open_class(ledger, "2MD", "KS1", "PMLD", Term.parse("2023-24/T1"))
    commands.close_class(ledger, "2MD", Term.parse("2023-24/T2"))
    roll = tmp_path / "roll.csv"
    roll.write_text(
        "pupil_id,class,enrolled_on,left_on\n"
        "P-1,1AJ,2023-09-04,2024-01-09\nP-1,7RB,2024-01-10,\n"
        "P-2,1AJ,2023-09-04,\n"
        "P-3,2MD,2023-09-04,2024-02-01\n"
        "P-4,1AJ,2024-05-01,\n"
    )
    imports.import_pupils(ledger, roll)
    ledger.actor = "hd1"
    t1, t2 = Term.parse("2023-24/T1"), Term.parse("2023-24/T2")
    commands.record_judgement(ledger, "P-1", t1, "appropriate")
    commands.record_judgement(ledger, "P-2", t1, "smaller-steps", "long absence")
    commands.record_judgement(ledger, "P-3", t1, "appropriate")
    commands.revise_judgement(ledger, "P-2", t1, "appropriate", "moderated")
    commands.record_judgement(ledger, "P-1", t2, "smaller-steps", "new EHCP")
    events = list(ledger.store.read_all())
    expected = reference_report(events, 2023, len(events), clock())  # 1 July 2024: T3 is running
    _same(queries.report(ledger, "2023-24"), expected)

    assert [b.phase for b in expected.phases] == ["KS1", "KS3/KS4"]
    assert [c.class_id for c in expected.phases[0].classes] == ["1AJ", "2MD"]
    by_class = {c.class_id: c for block in expected.phases for c in block.classes}
    assert by_class["2MD"].label == "2MD (PMLD)"
    assert by_class["1AJ"].terms == {
        "T1": Cell("recorded", 2, 0, 0),  # P-1 and P-2 (revised to appropriate)
        "T2": Cell("not_recorded", 0, 0, 1),  # P-2 on roll on 31 March, unjudged
        "T3": Cell("not_recorded", 0, 0, 2),  # P-2 and P-4 on roll today
    }
    assert by_class["2MD"].terms == {
        "T1": Cell("recorded", 1, 0, 0),
        "T2": Cell("not_recorded", 0, 0, 0),  # P-3 left on 1 February
        "T3": Cell("not_open"),
    }
    assert by_class["7RB"].terms == {
        "T1": Cell("not_open"),
        "T2": Cell("recorded", 0, 1, 0),
        "T3": Cell("not_recorded", 0, 0, 1),
    }
    assert (expected.totals["T1"].appropriate, expected.totals["T1"].smaller_steps) == (3, 0)
    assert (expected.phases[0].totals["T1"].appropriate, expected.phases[1].totals["T2"].smaller_steps) == (3, 1)
    assert (expected.totals["T2"].appropriate, expected.totals["T2"].smaller_steps) == (0, 1)

    # Before the revision (position of P-2's revision minus one), P-2 counted as smaller steps.
    revision = next(e.position for e in events if e.event_type == "JudgementRevised")
    before = reference_report(events, 2023, revision - 1, events[revision - 2].recorded_time)
    assert before.phases[0].classes[0].terms["T1"] == Cell("recorded", 1, 1, 0)
    _same(queries.report(ledger, "2023-24", position=revision - 1), before)
