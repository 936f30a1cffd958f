"""The benchmark harness runs (``python -m bench --quick``) and prints every row, so it never rots.

No timing is asserted: the figures depend on the machine. The eventsourcing library, the peer the
import is compared with, is an optional extra (``.[bench]``): without it those rows say "skipped".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

ROWS = [
    "CLI start-up: ledger --help",
    "bare python -c 'import click'",
    "ratio: ledger --help ÷ import click",
    "heavy modules imported by ledger --help",
    "import through the application layer",
    "raw sqlite3 executemany",
    "eventsourcing SQLiteApplicationRecorder",
    "eventsourcing recorder, one insert_events per stream",
    "ratio: import ÷ raw executemany",
    "ratio: import ÷ eventsourcing recorder (one call)",
    "build: synthetic ledger",
    "single-event append p50 (SQLite file)",
    "single-event append p99 (SQLite file)",
    "single-event append p50 (PostgreSQL)",
    "single-event append p99 (PostgreSQL)",
    "projection full rebuild",
    "bare load: sqlite3 → Arrow → DuckDB",
    "ratio: rebuild ÷ bare load",
    "peak memory of the rebuild process",
    "catch-up of 100 new events",
    "ratio: catch-up on",
    "report --year 2023-24, warm, in-process",
    "report --year 2023-24 --as-at 2024-02-15, warm",
]


def test_quick_benchmark_prints_every_row(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\nKept: the text around the generated block.\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out), "--workdir", str(tmp_path / "work")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for row in ROWS:
        assert row in done.stdout, f"missing row: {row}\n{done.stdout}"
    lines = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert all(line.count("|") == lines[0].count("|") for line in lines), "ragged table"
    doc = out.read_text()
    assert "Kept: the text around the generated block." in doc
    assert "Machine:" in doc and "ratio: rebuild ÷ bare load" in doc
    # With PostgreSQL configured (CI sets it) the append latency is measured there too, in a schema
    # of its own that is dropped afterwards.
    if os.environ.get("LEDGER_TEST_POSTGRES_URL"):
        pg = [line for line in lines if "(PostgreSQL)" in line]
        assert pg and all("skipped" not in line for line in pg), pg


def test_read_streams_is_read_stream_for_many(store) -> None:  # noqa: ANN001 - conftest's store, each backend
    """The batched read the imports use (added for the benchmarks' import throughput) returns exactly
    what one read_stream per stream would, in the order asked, and the base class's default agrees."""
    from ledger.store.base import EventStore, StreamWrite
    from ledger.store.mapper import NewEvent

    store.append(
        [StreamWrite("a", 0, (NewEvent("X", 1, "{}"), NewEvent("X", 1, '{"n":2}'))),
         StreamWrite("b", 0, (NewEvent("X", 1, "{}"),))],
        actor="t", command_id="c1",
    )
    store.append([StreamWrite("a", 2, (NewEvent("X", 1, '{"n":3}'),))], actor="t", command_id="c2")
    wanted = ["b", "a", "missing", "a"]
    got = store.read_streams(wanted)
    assert list(got) == ["b", "a", "missing"]
    assert got == {s: store.read_stream(s) for s in ("b", "a", "missing")}
    assert [e.stream_version for e in got["a"]] == [1, 2, 3]
    assert EventStore.read_streams(store, wanted) == got
