"""Projection table for historic aggregate figures: one row per class and term of each recorded table.

Like every projection table it only grows: a revision adds the whole corrected table under its own
position, and the report reads the latest table for the year as the ledger stood at position p.
"""

from __future__ import annotations

from typing import Any, Protocol

import pyarrow as pa


class Batch(Protocol):
    def add(self, table: str, **values: Any) -> None: ...


TABLES: dict[str, list[tuple[str, str, pa.DataType]]] = {
    "historic_figures": [
        ("position", "BIGINT", pa.int64()), ("recorded_at", "VARCHAR", pa.string()),
        ("actor", "VARCHAR", pa.string()), ("kind", "VARCHAR", pa.string()),
        ("year_start", "INTEGER", pa.int32()), ("source", "VARCHAR", pa.string()),
        ("reason", "VARCHAR", pa.string()), ("class_order", "INTEGER", pa.int32()),
        ("phase", "VARCHAR", pa.string()), ("class_id", "VARCHAR", pa.string()),
        ("mark", "VARCHAR", pa.string()), ("term_n", "INTEGER", pa.int32()),
        ("state", "VARCHAR", pa.string()), ("appropriate", "INTEGER", pa.int32()),
        ("smaller_steps", "INTEGER", pa.int32()),
    ],
}


def _figures(kind: str):  # noqa: ANN202 - small factory
    def flatten(b: Batch, e: Any, d: dict[str, Any]) -> None:
        for order, c in enumerate(d["classes"]):
            for n in (1, 2, 3):
                t = c[f"t{n}"]
                b.add("historic_figures", position=e.position, recorded_at=e.recorded_at, actor=e.actor, kind=kind,
                      year_start=int(d["year"][:4]), source=d.get("source"), reason=d.get("reason"),
                      class_order=order, phase=c["phase"], class_id=c["class_id"], mark=c.get("mark"), term_n=n,
                      state=t["state"], appropriate=t.get("appropriate"), smaller_steps=t.get("smaller_steps"))
    return flatten


FLATTEN = {
    "HistoricFiguresRecorded": _figures("recorded"),
    "HistoricFiguresRevised": _figures("revised"),
}
