"""The rules of the ledger: pure functions from folded stream state to new events or refusals.

Nothing here knows about databases, DuckDB or the command line.
"""
