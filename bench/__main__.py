"""``python -m bench [--quick] [--sizes 10k,100k,1m] [--out docs/benchmarks.md]``: see bench/__init__.py."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import cases, environment
from bench.measure import Row, label, parse_size, table

BEGIN, END = "<!-- bench:begin (written by python -m bench) -->", "<!-- bench:end -->"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="tiny ledgers and few repeats: a smoke run for CI")
    p.add_argument("--sizes", default=None, help="ledger sizes, e.g. 10k,100k,1m (default 10k,100k,1m; --quick 1k,2k)")
    p.add_argument("--out", type=Path, help="write the table into this markdown file (between bench markers)")
    p.add_argument("--workdir", type=Path, help="where the ledgers go (default: a temporary folder, removed)")
    p.add_argument("--budget-minutes", type=float, default=15.0,
                   help="skip a ledger whose build is estimated to take longer than this (default 15)")
    p.add_argument("--import-max", default="100k", help="largest ledger size whose import is measured (default 100k)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    sizes = sorted(parse_size(s) for s in (args.sizes or ("1k,2k" if quick else "10k,100k,1m")).split(","))
    reps = dict(imports=2, latency=2, appends=20, rebuild=2, catch=3, new=100, report=5, cli=3) if quick else \
        dict(imports=3, latency=3, appends=200, rebuild=3, catch=5, new=1000, report=20, cli=10)
    started = time.perf_counter()
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    notes: list[str] = []
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)

        log("CLI start-up")
        rows += cases.cli_startup(reps["cli"], log)

        import_max = parse_size(args.import_max)
        for size in sizes:
            if size <= import_max or quick:
                log(f"import throughput at {label(size)}")
                rows += cases.import_throughput(size, reps["imports"], workdir, log)
            else:
                notes.append(f"Import throughput is not measured at {label(size)} (over --import-max "
                             f"{args.import_max}); that ledger is built through store.append in batches.")

        built: list[cases.Built] = []
        for size in sizes:
            if built and not quick:
                last = built[-1]
                estimate = last.seconds * size / last.events
                if estimate > 60 * args.budget_minutes:
                    notes.append(f"The {label(size)} ledger was skipped: building it was estimated at "
                                 f"{estimate / 60:.0f} min (from the {last.name} build), over the "
                                 f"{args.budget_minutes:.0f} min budget.")
                    continue
            log(f"building the {label(size)} ledger")
            built.append(cases.build(size, workdir, log))
            rows.append(cases.build_row(built[-1]))

        small, large = built[0], built[-1]
        log(f"append latency on {small.name}")
        rows += cases.append_latency(small, reps["latency"], reps["appends"], workdir, log)

        goals = large.size >= 1_000_000
        if not goals:
            notes.append(f"The rebuild, catch-up and report goals are stated at 1M events; the largest ledger "
                         f"here is {large.name}, so those rows show figures without judging the goals.")
        log(f"projection rebuild at {large.name}")
        rebuild_rows, large_duck = cases.rebuild(large, reps["rebuild"], workdir, goals, log)
        rows += rebuild_rows
        if small is not large:
            log(f"projection rebuild at {small.name} (for catch-up)")
            small_duck = workdir / f"projection-{small.name}.duckdb"
            cases.child("rebuild", str(small.path), str(small_duck))
        else:
            small_duck = large_duck
        log("catch-up")
        pairs = [(small, small_duck)] + ([(large, large_duck)] if large is not small else [])
        catch_rows = cases.catch_up(pairs, reps["catch"], reps["new"], log)
        if not goals or len(pairs) == 1:
            catch_rows[-1].check, catch_rows[-1].goal = None, ""
        rows += catch_rows
        # The report's cost follows the school's size (pupils and classes in the year), so it is taken
        # on every ledger: the 10k one is about a real special school, the 1M one a 10,000-pupil school.
        for b in built:
            duck = {small.name: small_duck, large.name: large_duck}.get(b.name)
            if duck is None:
                duck = workdir / f"projection-{b.name}.duckdb"
                cases.child("rebuild", str(b.path), str(duck))
            log(f"reports on {b.name}")
            rows += cases.reports(b, duck, reps["report"], goals and b is large, log)

    minutes = (time.perf_counter() - started) / 60
    output = table(rows)
    print(output)
    for note in notes:
        print(f"\nNote: {note}")
    if args.out:
        write_doc(args.out, output, notes, argv if argv is not None else sys.argv[1:], minutes)
        log(f"wrote {args.out}")
    return 0


def write_doc(path: Path, output: str, notes: list[str], argv: list[str], minutes: float) -> None:
    block = "\n".join([
        BEGIN,
        f"Run: `python -m bench {' '.join(argv)}` on {time.strftime('%Y-%m-%d %H:%M %Z')}, "
        f"{minutes:.1f} min in all.",
        "",
        environment.describe(),
        "",
        output,
        "",
        *[f"- {n}" for n in notes],
        END,
    ])
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = (text or "# Benchmarks\n\n") + "\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
