"""Turns domain events into stored rows and back.

The payload is stored as canonical JSON text (sorted keys, no spaces, UTF-8) rather than a JSON
column type, so that the bytes hashed into the chain are exactly the bytes kept, on every backend.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from ledger.errors import TamperingFound
from ledger.event_types import ALL_EVENT_TYPES
from ledger.events import Event

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
SCHOOL_PREFIX = re.compile(r"([A-Z0-9][A-Z0-9-]{1,15})/")


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_time(moment: datetime) -> str:
    """UTC, microseconds, ``Z``: fixed width, so text order is time order on every backend."""
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class NewEvent:
    """An event ready to append: its stored type, schema version and canonical payload."""

    event_type: str
    schema_version: int
    payload: str

    @classmethod
    def from_event(cls, event: Event) -> "NewEvent":
        return cls(event.type_name, event.schema_version, canonical_json(event.model_dump(mode="json")))


@dataclass(frozen=True)
class StoredEvent:
    position: int
    stream_id: str
    stream_version: int
    event_type: str
    schema_version: int
    payload: str
    recorded_at: str
    actor: str
    command_id: str
    hash: str

    @property
    def school(self) -> str:
        """The school code a trust ledger files this event under ("" for a single-school ledger).

        It is the stream's namespace, so it is covered by the hash like the rest of the stream id."""
        # Only a school code (capitals, digits, dashes) before the first "/" is a namespace: unscoped
        # stream ids start with a lower-case kind and may hold a "/" of their own (judgement-P-1-2023-24/T1).
        found = SCHOOL_PREFIX.match(self.stream_id)
        return found.group(1) if found else ""

    @property
    def recorded_time(self) -> datetime:
        return parse_time(self.recorded_at)

    def data(self) -> dict[str, Any]:
        return json.loads(self.payload)

    def to_event(self) -> Event:
        """The domain event, validated again on the way out."""
        cls = ALL_EVENT_TYPES.get(self.event_type)
        if cls is None or self.schema_version != cls.schema_version:
            raise TamperingFound(
                self.position, f"unknown event type {self.event_type} v{self.schema_version}"
            )
        try:
            return cls.model_validate_json(self.payload)
        except ValidationError as exc:
            raise TamperingFound(self.position, f"payload does not validate: {exc.errors()[0]['msg']}") from None


def to_new_event(event: Event) -> NewEvent:
    return NewEvent.from_event(event)
