"""The PostgreSQL client: Tortoise's asyncpg client on connections released without a reset query.

Tortoise takes a pooled connection for each statement outside a transaction and gives it back
after it; asyncpg's pool then sends a reset query (`SELECT pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL;`) before another task may use the connection: a second round trip for
every statement, which the dashboard paid seven times. The app leaves nothing for that query to
undo: it takes no advisory locks, declares no cursors outside transactions, never LISTENs on
PostgreSQL (the event bus is Redis) and never changes a session setting (`SET`; `SET LOCAL` ends
with its transaction). asyncpg still rolls back a transaction left open on release.

Tortoise finds the client through the engine module's `client_class` (`tortoise_config` names
this module as the engine of PostgreSQL URLs).
"""

from __future__ import annotations

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


class NoResetConnection(asyncpg.Connection):
    """A connection that goes back to the pool as it is (see the module's docstring)."""

    def get_reset_query(self) -> str:
        return ""


class PostgresClient(AsyncpgDBClient):
    # asyncpg-stubs make Connection generic in its record class, which the runtime class is not
    connection_class = NoResetConnection  # type: ignore[assignment]


client_class = PostgresClient
