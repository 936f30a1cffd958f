"""The event store interface: the only thing the application layer knows about storage.

The contract, which every backend meets and ``tests/test_store_contract.py`` checks on each:

* ``append`` writes events to one or more streams atomically. Each :class:`StreamWrite` names the
  version the caller last saw for its stream (0 for a stream that does not exist yet); if any stream
  has moved on, nothing is written and :class:`~ledger.errors.Conflict` is raised. ``(stream_id,
  version)`` is unique in the database, so two writers can never both win.
* Every stored event gets the next global ``position`` (1, 2, 3... with no gaps, in commit order),
  a ``recorded_at`` from the store's own clock in UTC (never earlier than the previous event's), the
  ``actor`` and ``command_id`` of the command, and ``hash`` = SHA-256 over the previous event's
  hash and this event's canonical bytes (see :mod:`ledger.store.chain`).
* A retried command (same ``command_id``, same content) writes nothing and returns the events
  stored the first time; the same id with different content is refused with ``Conflict``.
* ``read_stream`` returns one stream oldest first; ``read_all`` returns the log after a position
  (``read_all_columns`` the same, as columns, for bulk readers).
* Stored events are never updated or deleted: the database itself refuses it.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ledger.store.mapper import NewEvent, StoredEvent

Clock = Callable[[], datetime]
LOG_COLUMNS = tuple(f.name for f in dataclasses.fields(StoredEvent))


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class StreamWrite:
    stream_id: str
    expected_version: int
    events: Sequence[NewEvent] = field(default_factory=tuple)


@dataclass(frozen=True)
class Head:
    """The end of the log: position 0 and an all-zero hash for an empty ledger."""

    position: int
    hash: str
    recorded_at: datetime | None


class EventStore(abc.ABC):
    """An append-only, hash-chained event log. See the module docstring for the full contract."""

    clock: Clock

    @abc.abstractmethod
    def append(
        self, writes: Sequence[StreamWrite], *, actor: str, command_id: str
    ) -> list[StoredEvent]:
        """Store every event of ``writes`` atomically, or raise ``Conflict`` and store none."""

    @abc.abstractmethod
    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        """One stream's events, oldest first (empty if the stream does not exist)."""

    def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Many streams at once, each oldest first, keyed by stream id (an empty list for a stream
        that does not exist). Bulk commands (imports) use it to read every stream they decide on in a
        few round trips instead of one per stream; backends override this one-at-a-time default."""
        return {sid: self.read_stream(sid) for sid in dict.fromkeys(stream_ids)}

    @abc.abstractmethod
    def read_command(self, command_id: str) -> list[StoredEvent]:
        """The events a command stored, in position order (empty if it never ran)."""

    @abc.abstractmethod
    def read_all(self, after: int = 0, limit: int | None = None) -> Iterator[StoredEvent]:
        """Events with position greater than ``after``, in position order."""

    def read_all_columns(self, after: int, limit: int, columns: Sequence[str] = LOG_COLUMNS) -> dict[str, Sequence[Any]]:
        """At most ``limit`` events after position ``after``, as columns: each of ``columns`` (names of
        :class:`StoredEvent` fields) mapped to its values in position order. For bulk readers (the
        projection) that would otherwise build an object per event only to take it apart again; this
        default transposes ``read_all``, backends override it with one query."""
        unknown = set(columns) - set(LOG_COLUMNS)
        if unknown:
            raise ValueError(f"not columns of the log: {sorted(unknown)}")
        events = list(self.read_all(after=after, limit=limit))
        return {c: [getattr(e, c) for e in events] for c in columns}

    @abc.abstractmethod
    def head(self) -> Head:
        """The last stored position and hash."""

    @abc.abstractmethod
    def recorded_head(self) -> tuple[int, str]:
        """The (position, hash) the store wrote beside the log at its last append, for ``verify``:
        it catches rows cut off the end, which the chain alone cannot see."""

    @abc.abstractmethod
    def stream_versions(self, stream_ids: Sequence[str]) -> dict[str, int]:
        """Current version of each named stream (0 when it does not exist)."""

    @abc.abstractmethod
    def insert_verbatim(self, stored: Iterable[StoredEvent]) -> int:
        """Append already-chained events unchanged (for copying a ledger); all or nothing."""

    @abc.abstractmethod
    def is_initialised(self) -> bool:
        """True once the ledger's schema exists (``ledger init`` has run)."""

    @abc.abstractmethod
    def create_schema(self) -> None:
        """Create tables, indexes and the triggers that refuse UPDATE and DELETE."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """Where the ledger lives, without any password."""
