"""The ledger's fixed vocabularies as plain tuples and dicts, free of pydantic.

The command line needs them to build its options (``--role``, ``--status``, ``--area``, ``--kind``)
before any command runs, and ``ledger --help`` must not pay for importing pydantic, SQLAlchemy or
DuckDB; the event models (:mod:`ledger.events`, :mod:`ledger.learning_events`) re-export them.
"""

from __future__ import annotations

ROLES: tuple[str, ...] = ("teacher", "line-manager", "ks-lead", "deputy-head", "head", "data-manager")
STATUSES: tuple[str, ...] = ("appropriate", "smaller-steps")
AREAS: dict[str, str] = {
    "communication-interaction": "Communication and interaction",
    "cognition-learning": "Cognition and learning",
    "semh": "Social, emotional and mental health",
    "sensory-physical": "Sensory and/or physical",
    "preparation-adulthood": "Preparation for adulthood",
}
# What `ledger report --format` can write.
REPORT_FORMATS: tuple[str, ...] = ("text", "json", "csv", "xlsx", "markdown")
# What `ledger changes --kind` can select.
CHANGE_KINDS: tuple[str, ...] = ("judgement", "stage", "target", "outcome", "figures")
