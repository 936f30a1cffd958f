"""Every event type the ledger can store, by stable type name (the mapper's lookup table)."""

from __future__ import annotations

from ledger.events import EVENT_TYPES as CORE_EVENT_TYPES
from ledger.events import Event
from ledger.learning_events import LEARNING_EVENT_TYPES
from ledger.figures_events import FIGURES_EVENT_TYPES

ALL_EVENT_TYPES: dict[str, type[Event]] = {**CORE_EVENT_TYPES, **LEARNING_EVENT_TYPES, **FIGURES_EVENT_TYPES}
