"""Reading import files into rows that remember where they came from (file and line)."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import ImportRefused, InvalidInput


@dataclass(frozen=True)
class Row:
    where: str  # "file.csv:12", used as the prefix of every message about this row
    values: dict[str, str]

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s_]+", "_", name.strip().lstrip("\ufeff").lower())


def read_table(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> tuple[list[Row], str]:
    """The file's data rows and a digest of its bytes (the import's idempotency key)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InvalidInput(f"{path}:1: {exc}") from None
    if not header or not any(h.strip() for h in header):
        raise InvalidInput(f"{path}:1: no header row; the first line must name the columns {','.join(required)}")
    names = [_normalise_header(h) for h in header]
    missing = [c for c in required if c not in names]
    unknown = [h for h, n in zip(header, names) if n and n not in required + optional]
    problems = []
    if missing:
        problems.append(f"{path}:1: missing column(s) {', '.join(missing)}; expected {','.join(required + optional)}")
    if unknown:
        problems.append(f"{path}:1: unknown column(s) {', '.join(h.strip() for h in unknown)}")
    if problems:
        raise ImportRefused(str(path), problems)
    rows: list[Row] = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(names):
                problems.append(f"{path}:{line}: {len(values)} cells but the header has {len(names)} columns")
                continue
            rows.append(Row(f"{path}:{line}", dict(zip(names, values))))
    except csv.Error as exc:
        problems.append(f"{path}:{reader.line_num}: {exc}")
    if problems:
        raise ImportRefused(str(path), problems)
    if not rows:
        raise InvalidInput(f"{path}: no data rows under the header; nothing to import")
    return rows, hashlib.sha256(raw).hexdigest()
