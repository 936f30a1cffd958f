"""The machine a run was taken on: cores, memory, load, Python and library versions."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

LIBRARIES = ("sqlalchemy", "pydantic", "duckdb", "pyarrow", "click", "psycopg", "eventsourcing")


def _memory_gb() -> str:
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        return f"{kb / 1024 / 1024:.1f} GB"
    except (OSError, StopIteration, ValueError):
        return "unknown"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> str:
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    libs = ", ".join(f"{n} {_version(n)}" for n in LIBRARIES)
    return (f"Machine: {os.cpu_count()} CPUs (nproc), {_memory_gb()} memory, load average {load} (1/5/15 min) "
            f"at the end of the run; {platform.platform()}; Python {sys.version.split()[0]}; {libs}.")
