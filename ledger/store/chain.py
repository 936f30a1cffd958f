"""The hash chain: each event's hash covers the previous hash and the event's canonical bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ledger.errors import TamperingFound
from ledger.store.mapper import StoredEvent, canonical_json

GENESIS = "0" * 64


def canonical_bytes(
    position: int,
    stream_id: str,
    stream_version: int,
    event_type: str,
    schema_version: int,
    payload: str,
    recorded_at: str,
    actor: str,
    command_id: str,
) -> bytes:
    return canonical_json(
        [position, stream_id, stream_version, event_type, schema_version, payload, recorded_at, actor, command_id]
    ).encode("utf-8")


def link(previous_hash: str, body: bytes) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + body).hexdigest()


def event_hash(previous_hash: str, e: StoredEvent) -> str:
    return link(
        previous_hash,
        canonical_bytes(
            e.position, e.stream_id, e.stream_version, e.event_type, e.schema_version,
            e.payload, e.recorded_at, e.actor, e.command_id,
        ),
    )


def verify_chain(events: Iterable[StoredEvent], head: tuple[int, str] | None = None) -> int:
    """Walk the log; return the number of events, or raise naming the first position that fails.

    ``head`` is the (position, hash) the store recorded beside the log at its last append; it
    catches the one change the chain alone cannot see: rows cut off the end.
    """
    previous_hash = GENESIS
    previous_time = ""
    expected_position = 1
    count = 0
    for e in events:
        if e.position != expected_position:
            if e.position > expected_position:
                raise TamperingFound(expected_position, f"event is missing (the next stored is {e.position})")
            raise TamperingFound(e.position, "positions are out of order or repeated")
        if e.recorded_at < previous_time:
            raise TamperingFound(e.position, "recorded earlier than the event before it")
        if event_hash(previous_hash, e) != e.hash:
            raise TamperingFound(e.position, "hash does not match the event's content and link")
        previous_hash, previous_time = e.hash, e.recorded_at
        expected_position += 1
        count += 1
    if head is not None and head != (count, previous_hash if count else GENESIS):
        if head[0] > count:
            raise TamperingFound(count + 1, f"event is missing (the log should end at position {head[0]})")
        if head[0] < count:
            raise TamperingFound(head[0] + 1, "event was added behind the store's back (after the recorded head)")
        raise TamperingFound(count, "the last event does not match the log's recorded head")
    return count
