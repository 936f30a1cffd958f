"""The measurements. Each returns :class:`bench.measure.Row` objects; comparisons are ratios of two
measurements taken in the same repeat, one after the other, on the same rows."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from bench.measure import Row, label, percentile
from bench.synth import (
    SchoolPlan, SettableClock, at, build_ledger, extra_events, open_classes_fast, pupils_for, write_import_files,
)

REPO = Path(__file__).resolve().parent.parent
YEARS = 5


def _fresh_sqlite(path: Path) -> None:
    for p in path.parent.glob(path.name + "*"):
        p.unlink()


def _init(store, actor: str = "DM1") -> None:
    from ledger.bootstrap import ledger_for_store
    from ledger.services import commands

    commands.init(ledger_for_store(store, None, actor=actor))


# -- building the ledgers ---------------------------------------------------------------------------
class Built:
    """A synthetic ledger on disk (SQLite), with how long it took to build."""

    def __init__(self, size: int, path: Path, events: int, seconds: float, pupils: list[str], clock: SettableClock):
        self.size, self.path, self.events, self.seconds, self.pupils, self.clock = size, path, events, seconds, pupils, clock

    @property
    def name(self) -> str:
        return label(self.size)

    def open(self):  # noqa: ANN201
        from ledger.store import open_store

        return open_store(str(self.path), clock=self.clock)

    def later(self) -> datetime:
        """A moment after everything in the ledger, moved on each call (the store's clock)."""
        self.clock.moment += timedelta(minutes=1)
        return self.clock.moment


def build(size: int, workdir: Path, log=print) -> Built:  # noqa: ANN001
    from ledger.store import open_store

    path = workdir / f"ledger-{label(size)}.db"
    _fresh_sqlite(path)
    clock = SettableClock(at(datetime(2019, 8, 1).date()))
    store = open_store(str(path), clock=clock, must_exist=False)
    _init(store)
    plan = SchoolPlan(pupils_for(size, YEARS))
    start = time.perf_counter()
    marks = [0]

    def progress(n: int) -> None:
        if n - marks[0] >= 100_000:
            marks[0] = n
            log(f"  {label(size)}: {n:,} events appended ({time.perf_counter() - start:.0f} s)")

    events = build_ledger(store, plan, clock, progress=progress) + 2
    seconds = time.perf_counter() - start
    store.close()
    clock.moment = datetime(2024, 8, 20, 9, tzinfo=clock.moment.tzinfo)
    return Built(size, path, events, seconds, sorted(plan.final_roll), clock)


# -- bulk import ------------------------------------------------------------------------------------
_EQUIVALENT_DDL = [
    "CREATE TABLE events (position BIGINT PRIMARY KEY, stream_id VARCHAR(200) NOT NULL, "
    "stream_version INTEGER NOT NULL, event_type VARCHAR(64) NOT NULL, schema_version INTEGER NOT NULL, "
    "payload TEXT NOT NULL, recorded_at VARCHAR(27) NOT NULL, actor VARCHAR(64) NOT NULL, "
    "command_id VARCHAR(200) NOT NULL, hash VARCHAR(64) NOT NULL, UNIQUE (stream_id, stream_version))",
    "CREATE INDEX ix_events_command_id ON events (command_id)",
    "CREATE INDEX ix_events_recorded_at ON events (recorded_at)",
]


def _raw_executemany(path: Path, rows: list[tuple]) -> float:
    """The ceiling: the same rows into an equivalent table (same keys and indexes, same pragmas)."""
    _fresh_sqlite(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    for ddl in _EQUIVALENT_DDL:
        con.execute(ddl)
    start = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("COMMIT")
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def _per_event_floor(rows: list[tuple]) -> float:
    """What every event costs the import whatever its rules: validating the event model, writing
    its canonical JSON, and chaining its hash; no CSV, no domain rules, no SQL."""
    from ledger.store.chain import canonical_bytes, link
    from ledger.store.mapper import NewEvent, StoredEvent

    stored = [StoredEvent(*r) for r in rows]
    start = time.perf_counter()
    previous = "0" * 64
    for e in stored:
        new = NewEvent.from_event(e.to_event())
        previous = link(previous, canonical_bytes(e.position, e.stream_id, e.stream_version, new.event_type,
                                                  new.schema_version, new.payload, e.recorded_at, e.actor,
                                                  e.command_id))
    return time.perf_counter() - start


def _eventsourcing(path: Path, rows: list[tuple], per_stream_limit: int | None = None) -> tuple[float, int]:
    """The peer: the eventsourcing library's SQLite application recorder (global notification ids,
    one row per (originator id, version)), storing the same events: stream id, version, type as the
    topic and the same payload bytes as the state. All in one ``insert_events`` call (one
    transaction, like the ledger's one append per import), or one call per stream when
    ``per_stream_limit`` is given (how an application saving aggregates one at a time stores them),
    over the first ``per_stream_limit`` streams. Returns (seconds, events stored)."""
    from eventsourcing.persistence import StoredEvent as EsStoredEvent
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

    _fresh_sqlite(path)
    datastore = SQLiteDatastore(str(path), originator_id_type="text")
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    try:
        if per_stream_limit is None:
            start = time.perf_counter()
            recorder.insert_events([EsStoredEvent(r[1], r[2], r[3], r[5].encode("utf-8")) for r in rows])
            return time.perf_counter() - start, len(rows)
        streams: dict[str, list[tuple]] = defaultdict(list)
        for r in rows:
            streams[r[1]].append(r)
        chosen = list(streams.values())[:per_stream_limit]
        start = time.perf_counter()
        for group in chosen:
            recorder.insert_events([EsStoredEvent(r[1], r[2], r[3], r[5].encode("utf-8")) for r in group])
        return time.perf_counter() - start, sum(len(g) for g in chosen)
    finally:
        datastore.close()


def import_throughput(size: int, repeats: int, workdir: Path, log=print) -> list[Row]:  # noqa: ANN001
    from ledger.bootstrap import ledger_for_store
    from ledger.services import imports
    from ledger.store import open_store

    name = label(size)
    files = write_import_files(workdir / f"import-{name}", size)
    ours = Row("import through the application layer (pupils + judgements CSV)", name, "events/s")
    raw = Row("raw sqlite3 executemany, same rows, equivalent table", name, "events/s")
    peer = Row("eventsourcing SQLiteApplicationRecorder, same events, one insert_events", name, "events/s")
    peer_streams = Row("eventsourcing recorder, one insert_events per stream (first 1,000 streams)", name, "events/s")
    vs_raw = Row("ratio: import ÷ raw executemany", name, "×", goal="≥ 0.5×", check=lambda v: v >= 0.5)
    floor = Row("the import's fixed per-event work alone: model, canonical JSON, hash chain (no rules, no SQL)",
                name, "events/s")
    floor_vs_raw = Row("ratio: that fixed work alone ÷ raw executemany", name, "×")
    vs_peer = Row("ratio: import ÷ eventsourcing recorder (one call)", name, "×", goal="≥ 2×", check=lambda v: v >= 2)
    vs_peer_streams = Row("ratio: import ÷ eventsourcing recorder (per stream)", name, "×", goal="≥ 2×",
                          check=lambda v: v >= 2)
    try:
        import eventsourcing  # noqa: F401 - the peer, an optional extra
        has_peer = True
    except ImportError:
        has_peer = False
        for row in (peer, peer_streams, vs_peer, vs_peer_streams):
            row.note = "skipped: the peer is an optional extra, pip install -e '.[bench]'"
    for r in range(repeats):
        path = workdir / f"import-{name}.db"
        _fresh_sqlite(path)
        clock = SettableClock(datetime(2024, 7, 25, 9).astimezone())
        store = open_store(str(path), clock=clock, must_exist=False)
        _init(store)
        open_classes_fast(store, files.classes)
        ledger = ledger_for_store(store, None, actor="DM1")
        setup_head = store.head().position
        start = time.perf_counter()
        a = imports.import_pupils(ledger, files.pupils_csv)
        b = imports.import_judgements(ledger, files.judgements_csv)
        seconds = time.perf_counter() - start
        written = a.written + b.written
        store.close()
        con = sqlite3.connect(path)
        rows = con.execute("SELECT * FROM events WHERE position > ? ORDER BY position", [setup_head]).fetchall()
        con.close()
        assert len(rows) == written, (len(rows), written)
        ours.samples.append(written / seconds)
        raw_s = _raw_executemany(workdir / "raw.db", rows)
        raw.samples.append(len(rows) / raw_s)
        vs_raw.samples.append(ours.samples[-1] / raw.samples[-1])
        floor.samples.append(len(rows) / _per_event_floor(rows))
        floor_vs_raw.samples.append(floor.samples[-1] / raw.samples[-1])
        es_s = float("nan")
        if has_peer:
            es_s, es_n = _eventsourcing(workdir / "es.db", rows)
            peer.samples.append(es_n / es_s)
            ps_s, ps_n = _eventsourcing(workdir / "es-streams.db", rows, per_stream_limit=1000)
            peer_streams.samples.append(ps_n / ps_s)
            vs_peer.samples.append(ours.samples[-1] / peer.samples[-1])
            vs_peer_streams.samples.append(ours.samples[-1] / peer_streams.samples[-1])
        log(f"  import {name} run {r + 1}: {written} events in {seconds:.2f} s; raw {raw_s:.2f} s; "
            f"eventsourcing {es_s:.2f} s")
    ours.note = f"{written:,} events a run; n={repeats}"
    return [ours, raw, peer, peer_streams, vs_raw, floor, floor_vs_raw, vs_peer, vs_peer_streams]


# -- single appends ---------------------------------------------------------------------------------
def postgres_url() -> str | None:
    return os.environ.get("LEDGER_BENCH_POSTGRES_URL") or os.environ.get("LEDGER_TEST_POSTGRES_URL")


def _copy_into(source: Built, target_url: str):  # noqa: ANN202
    from ledger.store import open_store
    from ledger.store.base import system_clock

    src = source.open()
    dst = open_store(target_url, clock=system_clock, must_exist=False)
    dst.create_schema()
    dst.insert_verbatim(src.read_all())
    src.close()
    return dst


def _latencies(store, pupils: list[str], appends: int, tag: str) -> list[float]:  # noqa: ANN001
    writes = extra_events(appends, tag, pupils)
    out = []
    for i, w in enumerate(writes):
        start = time.perf_counter()
        store.append([w], actor="DM1", command_id=f"lat-{tag}-{i}")
        out.append(time.perf_counter() - start)
    return out


def append_latency(base: Built, repeats: int, appends: int, workdir: Path, log=print) -> list[Row]:  # noqa: ANN001
    rows = []
    backends: list[tuple[str, str | None, str]] = [("SQLite file", f"sqlite:///{workdir / 'latency.db'}", "")]
    pg = postgres_url()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    if pg:
        sep = "&" if "?" in pg else "?"
        backends.append(("PostgreSQL", f"{pg}{sep}options=-csearch_path%3D{schema}", ""))
    else:
        backends.append(("PostgreSQL", None, "skipped: set LEDGER_TEST_POSTGRES_URL"))
    for backend, url, why in backends:
        p50 = Row(f"single-event append p50 ({backend})", base.name, "ms")
        p99 = Row(f"single-event append p99 ({backend})", base.name, "ms")
        rows += [p50, p99]
        if url is None:
            p50.note = p99.note = why
            continue
        admin = None
        try:
            if backend == "PostgreSQL":
                import sqlalchemy as sa

                admin = sa.create_engine(pg)
                with admin.begin() as conn:
                    conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            else:
                _fresh_sqlite(workdir / "latency.db")
            store = _copy_into(base, url)
            for r in range(repeats):
                lat = _latencies(store, base.pupils, appends, f"{backend[:2]}{r}")
                p50.samples.append(1000 * percentile(lat, 50))
                p99.samples.append(1000 * percentile(lat, 99))
            store.close()
            p50.note = p99.note = f"{appends} appends a run on a copy of the {base.name} ledger; n={repeats}"
            log(f"  append latency {backend}: p50 {p50.median:.2f} ms, p99 {p99.median:.2f} ms")
        except Exception as exc:  # noqa: BLE001 - a missing server is reported in the table, not fatal
            p50.samples.clear()
            p99.samples.clear()
            p50.note = p99.note = f"skipped: {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
        finally:
            if admin is not None:
                try:
                    with admin.begin() as conn:
                        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                finally:
                    admin.dispose()
    return rows


# -- projection rebuild (subprocesses) --------------------------------------------------------------
def child(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "bench.child", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.child {args[0]} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def rebuild(base: Built, repeats: int, workdir: Path, goals: bool, log=print) -> tuple[list[Row], Path]:  # noqa: ANN001
    ours = Row("projection full rebuild (DuckDbProjection, new file)", base.name, "s")
    bare = Row("bare load: sqlite3 → Arrow → DuckDB, one go", base.name, "s")
    ratio = Row("ratio: rebuild ÷ bare load", base.name, "×", goal="≤ 2×" if goals else "",
                check=(lambda v: v <= 2) if goals else None)
    memory = Row("peak memory of the rebuild process (ru_maxrss)", base.name, "MB", goal="< 500 MB" if goals else "",
                 check=(lambda v: v < 500) if goals else None)
    bare_mem = Row("peak memory of the bare load process", base.name, "MB")
    out = workdir / f"projection-{base.name}.duckdb"
    for r in range(repeats):
        a = child("rebuild", str(base.path), str(out))
        b = child("bare", str(base.path), str(workdir / "bare.duckdb"))
        ours.samples.append(a["seconds"])
        bare.samples.append(b["seconds"])
        ratio.samples.append(a["seconds"] / b["seconds"])
        memory.samples.append(a["peak_mb"])
        bare_mem.samples.append(b["peak_mb"])
        log(f"  rebuild {base.name} run {r + 1}: {a['seconds']:.2f} s ({a['peak_mb']:.0f} MB); "
            f"bare {b['seconds']:.2f} s ({b['peak_mb']:.0f} MB)")
    (workdir / "bare.duckdb").unlink(missing_ok=True)
    memory.note = f"whole process, Python and DuckDB included; n={repeats}"
    return [ours, bare, ratio, memory, bare_mem], out


# -- catch-up -------------------------------------------------------------------------------------
def catch_up(ledgers: list[tuple[Built, Path]], repeats: int, new_events: int, log=print) -> list[Row]:  # noqa: ANN001
    """Append ``new_events`` to each ledger and time the projection's catch-up, interleaved."""
    from projections.duckdb_model import DuckDbProjection

    rows = [Row(f"catch-up of {new_events:,} new events", b.name, "ms") for b, _ in ledgers]
    opened = []
    for b, duck in ledgers:
        store = b.open()
        projection = DuckDbProjection(store, duck)
        projection.catch_up()
        opened.append((b, store, projection))
    for r in range(repeats):
        for (b, store, projection), row in zip(opened, rows):
            b.clock.moment = b.later()
            store.append(extra_events(new_events, f"cu{r}", b.pupils), actor="DM1", command_id=f"catch-up-{r}")
            start = time.perf_counter()
            projection.catch_up()
            row.samples.append(1000 * (time.perf_counter() - start))
    for _, store, projection in opened:
        projection.close()
        store.close()
    small, large = rows[0], rows[-1]
    ratio = Row(f"ratio: catch-up on {large.ledger} ÷ on {small.ledger}", f"{small.ledger} / {large.ledger}", "×",
                [l / s for l, s in zip(large.samples, small.samples)], goal="≈ 1× (within noise)",
                check=lambda v: v <= 1.5)
    log(f"  catch-up: {' / '.join(f'{r.ledger} {r.median:.0f} ms' for r in rows)}")
    return [*rows, ratio]


# -- reports --------------------------------------------------------------------------------------
def reports(base: Built, duck: Path, repeats: int, goals: bool, log=print) -> list[Row]:  # noqa: ANN001
    from ledger.bootstrap import ledger_for_store
    from ledger.services import queries

    store = base.open()
    ledger = ledger_for_store(store, duck)
    rows = []
    for title, as_at in (("report --year 2023-24, warm, in-process", None),
                         ("report --year 2023-24 --as-at 2024-02-15, warm", "2024-02-15")):
        row = Row(title, base.name, "ms", goal="< 100 ms" if goals else "", check=(lambda v: v < 100) if goals else None)
        cpu = Row(f"{title.split(',')[0]}: process CPU time (all threads)", base.name, "ms")
        queries.report(ledger, "2023-24", as_at)  # warm: projection caught up, DuckDB pages in memory
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = queries.report(ledger, "2023-24", as_at)
            row.samples.append(1000 * (time.perf_counter() - start))
            cpu.samples.append(1000 * (time.process_time() - start_cpu))
        classes = sum(len(p.classes) for p in result.phases)
        pupils = len(ledger.read_model.roll_on(result.position, datetime(2024, 3, 1).date()))
        row.note = f"{pupils:,} pupils on roll, {classes:,} classes; catch-up check included; n={repeats}"
        rows += [row, cpu]
    ledger.close()
    log(f"  reports: {', '.join(f'{r.median:.1f} ms' for r in rows)} (wall, CPU, wall, CPU)")
    return rows


# -- CLI start-up ---------------------------------------------------------------------------------
def cli_startup(repeats: int, log=print) -> list[Row]:  # noqa: ANN001
    script = Path(sys.executable).with_name("ledger")
    ledger_cmd = [str(script), "--help"] if script.exists() else [sys.executable, "-m", "cli", "--help"]
    click_cmd = [sys.executable, "-c", "import click"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}

    def run(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env, cwd=REPO)
        return 1000 * (time.perf_counter() - start)

    run(ledger_cmd), run(click_cmd)  # warm the file cache and the byte-code
    ours = Row("CLI start-up: ledger --help", "-", "ms")
    base = Row("bare python -c 'import click'", "-", "ms")
    ratio = Row("ratio: ledger --help ÷ import click", "-", "×", goal="≤ 2.5×", check=lambda v: v <= 2.5)
    for _ in range(repeats):
        b, o = run(click_cmd), run(ledger_cmd)
        base.samples.append(b)
        ours.samples.append(o)
        ratio.samples.append(o / b)
    heavy = child("cli-modules")["heavy"]
    loaded = Row("heavy modules imported by ledger --help", "-", "", goal="none", note=", ".join(heavy) or "none")
    loaded.samples = [float(len(heavy))]
    loaded.unit = "modules"
    loaded.check = lambda v: v == 0
    log(f"  CLI start-up: {ours.median:.0f} ms vs {base.median:.0f} ms; heavy modules: {heavy or 'none'}")
    return [ours, base, ratio, loaded]


def build_row(b: Built) -> Row:
    return Row("build: synthetic ledger appended through store.append (20k-event batches)", b.name, "events/s",
               [b.events / b.seconds], note=f"{b.events:,} events in {b.seconds:.0f} s; one run")
