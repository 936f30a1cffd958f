"""Benchmarks of the ledger against its limits (raw SQLite, bare DuckDB) and its peer (eventsourcing).

    python -m bench [--quick] [--sizes 10k,100k,1m] [--out docs/benchmarks.md]

Builds synthetic ledgers with a realistic mix (``bench.synth``), runs each measurement a few times
(``bench.cases``; memory and start-up in subprocesses, ``bench.child``) and prints one markdown table:
every figure is the median of the runs with their min and max, and every comparison is a ratio of two
measurements made in the same run. ``--quick`` is the smoke run the test suite makes. The peer
library is an optional extra: ``pip install -e '.[bench]'``.
"""
