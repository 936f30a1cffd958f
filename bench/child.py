"""Measurements that need a process of their own (peak memory, a cold interpreter).

    python -m bench.child rebuild LEDGER.db PROJECTION.duckdb   # DuckDbProjection from empty
    python -m bench.child bare LEDGER.db OUT.duckdb              # sqlite3 -> Arrow -> DuckDB, in one go
    python -m bench.child cli-modules                             # heavy modules `ledger --help` loads

Each prints one JSON line: seconds, peak resident memory (ru_maxrss) in MB, and details.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def rebuild(db: str, out: str) -> dict:
    from ledger.store import open_store
    from projections.duckdb_model import DuckDbProjection

    Path(out).unlink(missing_ok=True)
    store = open_store(db)
    before = peak_mb()
    start = time.perf_counter()
    projection = DuckDbProjection(store, Path(out))
    position = projection.catch_up()
    seconds = time.perf_counter() - start
    projection.close()
    store.close()
    return {"seconds": seconds, "peak_mb": peak_mb(), "start_mb": before, "position": position}


def bare(db: str, out: str) -> dict:
    """What a minimal loader does: every row with sqlite3, one Arrow table, one DuckDB insert."""
    import sqlite3

    import duckdb
    import pyarrow as pa

    Path(out).unlink(missing_ok=True)
    before = peak_mb()
    start = time.perf_counter()
    con = sqlite3.connect(db)
    cur = con.execute("SELECT * FROM events ORDER BY position")
    names = [d[0] for d in cur.description]
    columns = list(zip(*cur.fetchall()))
    table = pa.table({n: list(c) for n, c in zip(names, columns)})
    del columns
    duck = duckdb.connect(out)
    duck.register("incoming", table)
    duck.execute("CREATE TABLE events AS SELECT * FROM incoming")
    duck.close()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": peak_mb(), "start_mb": before, "rows": table.num_rows}


def cli_modules() -> dict:
    sys.argv = ["ledger", "--help"]
    import io
    from contextlib import redirect_stdout

    with redirect_stdout(io.StringIO()):
        try:
            import cli

            cli.main()
        except SystemExit:
            pass
    heavy = sorted(m for m in ("duckdb", "sqlalchemy", "pydantic", "pyarrow", "psycopg", "openpyxl", "docx")
                   if m in sys.modules)
    return {"heavy": heavy, "modules": len(sys.modules)}


def main(argv: list[str]) -> None:
    kind, *args = argv
    result = {"rebuild": rebuild, "bare": bare, "cli-modules": cli_modules}[kind](*args)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
