"""PostgreSQL backend: the server store for schools and trusts that outgrow one file.

Positions must be handed out in commit order, or a projection following the log could read
position N+1 before the transaction holding N commits and skip N for ever. Like the
``eventsourcing`` library, every append takes ``LOCK TABLE events IN EXCLUSIVE MODE``: appends
queue one behind another, while plain SELECTs (which take ACCESS SHARE) carry on. A trigger
refuses UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import sqlalchemy as sa

from ledger.store.base import Clock, system_clock
from ledger.store.sql import SqlEventStore


class PostgresEventStore(SqlEventStore):
    def __init__(self, url: str, *, clock: Clock = system_clock) -> None:
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        super().__init__(engine, clock=clock)

    def _lock_for_append(self, conn: sa.Connection) -> None:
        conn.exec_driver_sql("LOCK TABLE events IN EXCLUSIVE MODE")

    def _immutability_ddl(self) -> list[str]:
        return [
            "CREATE OR REPLACE FUNCTION ledger_events_immutable() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION USING MESSAGE = 'ledger events are immutable: ' || TG_OP || ' refused'; END $$",
            "CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION ledger_events_immutable()",
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_immutable()",
        ]
