"""The EHCP progress ledger: termly judgements as immutable, hash-chained events."""

__version__ = "0.1.0"
