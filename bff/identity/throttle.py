"""Throttling of guessable secrets (passwords, 2FA codes, card codes) per account and address.

Every attempt is counted *before* its secret is checked, with one atomic increment in the shared
store, so attempts packed into one request (aliases, batches) or spread over processes cannot all
pass the check before their failures are written.

The lockout model (docs/identity.md, "Lockout"): an attempt counts against three keys.
- (account, address): at most `throttle_max_failures` failures, then that pair waits until
  `throttle_window` has passed since its last attempt. A stranger guessing from one place stops
  himself, not the member.
- account, from anywhere: slowed down (exponential delays after `throttle_free_failures`, at most
  `throttle_max_delay_seconds`) and stopped only at `throttle_account_max_failures` (never more
  than 100, NIST SP 800-63B's ceiling), which takes many addresses to reach.
- address, across accounts: ten times the pair's allowance (offices and carriers share one).
A success clears the account's and the pair's counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from tortoise import connections
from tortoise.expressions import F

from bff import metrics
from bff.db.sql import Parameters, placeholders
from bff.errors import DomainError, ErrorCode
from bff.identity.models import ThrottleCounter
from bff.identity.tokens import text_bytes
from bff.redis_clients import REDIS_FAILURES, mark_redis_failed, redis_usable, shared_redis

if TYPE_CHECKING:
    from collections.abc import Sequence

    from redis.asyncio import Redis

    from bff.settings import Settings

# NIST SP 800-63B 5.2.2: no more than 100 consecutive failed attempts on one account.
HARD_MAX_FAILURES = 100
# Many members can share one address (offices, mobile carriers): it gets more room.
ADDRESS_ALLOWANCE = 10
FIRST_DELAY_SECONDS = 0.25
# An IPv6 subscriber is routinely given a whole /64: counting single addresses would hand them
# 2^64 fresh counters, so IPv6 clients are counted per /64.
IPV6_PREFIX_LENGTH = 64


class Factor(StrEnum):
    PASSWORD = "password"  # noqa: S105 (a factor name)
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"
    CARD_CODE = "card_code"
    # Every registration attempt counts, successful ones too (per client address only).
    REGISTRATION = "registration"
    # Persisted-query documents registered by hash (per client address only).
    QUERY_REGISTRATION = "query_registration"


class CounterStore(Protocol):
    """Counts per key; `increment` is atomic and stops counting once a key is over `limit`."""

    async def increment(self, key: str, *, limit: int) -> int: ...
    async def count(self, key: str) -> int: ...
    async def clear(self, key: str) -> None: ...
    async def release(self, key: str) -> None: ...
    async def settle(self, *, clear: Sequence[str], release: Sequence[str]) -> None: ...
    async def forget(self, key: str) -> None: ...


class DatabaseCounters:
    """Counters in the `throttle_counter` table: shared by every process on the database."""

    def __init__(self, settings: Settings) -> None:
        self.window = settings.throttle_window

    async def increment(self, key: str, *, limit: int) -> int:
        """The key's new count; `limit` + 1 once it is over the limit (the row then keeps its
        count and its time: a refused attempt does not push the lock further away)."""
        now = datetime.now(UTC)
        stale = now - self.window
        connection = connections.get("default")
        marks = placeholders(connection, 6)
        # One statement, atomic without a transaction: a new key starts at 1, a quiet one starts
        # over (the lock is temporary), a live one adds 1 unless it is already over the limit,
        # and RETURNING gives this attempt its own count.
        query = (
            'INSERT INTO "throttle_counter" ("key", "failures", "updated_at") '  # noqa: S608 (placeholders only)
            f"VALUES ({marks[0]}, 1, {marks[1]}) "
            'ON CONFLICT ("key") DO UPDATE SET "failures" = CASE WHEN '
            f'"throttle_counter"."updated_at" < {marks[2]} THEN 1 '
            'ELSE "throttle_counter"."failures" + 1 END, '
            f'"updated_at" = {marks[3]} '
            f'WHERE "throttle_counter"."failures" <= {marks[4]} '
            f'OR "throttle_counter"."updated_at" < {marks[5]} '
            'RETURNING "failures"'
        )
        # execute_query_dict fetches: Tortoise's execute_query drops RETURNING rows.
        rows = await connection.execute_query_dict(query, [key, now, stale, now, limit, stale])
        return int(rows[0]["failures"]) if rows else limit + 1

    async def count(self, key: str) -> int:
        counter = await ThrottleCounter.get_or_none(key=key)
        if counter is None or counter.updated_at < datetime.now(UTC) - self.window:
            return 0
        return counter.failures

    async def clear(self, key: str) -> None:
        # Zeroed, not deleted: a concurrent increment between its insert and its UPDATE must
        # still find the row.
        await ThrottleCounter.filter(key=key).update(failures=0)

    async def release(self, key: str) -> None:
        await ThrottleCounter.filter(key=key, failures__gt=0).update(failures=F("failures") - 1)

    async def settle(self, *, clear: Sequence[str], release: Sequence[str]) -> None:
        """`clear` and `release` in one statement. On PostgreSQL its rows are locked in key
        order first, so two of them on the same keys wait for each other, never deadlock."""
        if not clear and not release:
            return
        connection = connections.get("default")
        parameters = Parameters(connection)

        def among(keys: Sequence[str]) -> str:
            marks = ", ".join(parameters.mark(key) for key in keys)
            return f'"throttle_counter"."key" IN ({marks})' if keys else "1 = 0"

        locked = ""
        if connection.capabilities.dialect == "postgres":
            locked = (
                'WITH "locked" AS (SELECT "key" FROM "throttle_counter" '  # noqa: S608 (markers only)
                f'WHERE {among([*clear, *release])} ORDER BY "key" FOR UPDATE) '
            )
        # The markers in the order they appear: SQLite's are positional.
        taken_back = among(release)
        query = (
            f'{locked}UPDATE "throttle_counter" SET "failures" = '  # noqa: S608 (markers only)
            f'CASE WHEN {taken_back} THEN "throttle_counter"."failures" - 1 ELSE 0 END '
            f"WHERE ({among(clear)} "
            f'OR ({among(release)} AND "throttle_counter"."failures" > 0))'
        )
        if locked:
            query += ' AND "throttle_counter"."key" IN (SELECT "key" FROM "locked")'
        await connection.execute_query(query, parameters.values)

    async def forget(self, key: str) -> None:
        # Deleted (unlike `clear`): only for a closed account, whose attempts no longer matter.
        await ThrottleCounter.filter(key=key).delete()


_INCREMENT_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current > tonumber(ARGV[1]) then return current end
current = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return current
"""


_RELEASE_SCRIPT = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
"""


class RedisCounters:
    """Counters in Redis (when REDIS_URL is set), expiring a window after the last attempt."""

    def __init__(self, redis: Redis, settings: Settings, *, prefix: str = "bff:throttle:") -> None:
        self.redis = redis
        self.prefix = prefix
        self.window_ms = int(settings.throttle_window.total_seconds() * 1000)
        self._increment = redis.register_script(_INCREMENT_SCRIPT)
        self._release = redis.register_script(_RELEASE_SCRIPT)

    async def increment(self, key: str, *, limit: int) -> int:
        result = await self._increment(keys=[self.prefix + key], args=[limit, self.window_ms])
        return int(result)

    async def count(self, key: str) -> int:
        value = await self.redis.get(self.prefix + key)
        return int(value or 0)

    async def clear(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def release(self, key: str) -> None:
        await self._release(keys=[self.prefix + key])

    async def settle(self, *, clear: Sequence[str], release: Sequence[str]) -> None:
        for key in clear:
            await self.clear(key)
        for key in release:
            await self.release(key)

    async def forget(self, key: str) -> None:
        await self.clear(key)


class FallbackCounters:
    """Redis counters that fall back to the database while Redis is down or frozen.

    Every operation tries Redis (with the shared client's short timeouts) unless it failed
    moments ago, and on a failure runs on the database instead, so sign-in keeps working through
    an outage. Counts made during the outage live in the database and are not merged back: an
    outage at most restarts a caller's count once, which the per-account ceiling still bounds.
    """

    def __init__(self, url: str, primary: CounterStore, fallback: CounterStore) -> None:
        self.url = url
        self.primary = primary
        self.fallback = fallback

    async def increment(self, key: str, *, limit: int) -> int:
        if redis_usable(self.url):
            try:
                return await self.primary.increment(key, limit=limit)
            except REDIS_FAILURES as error:
                mark_redis_failed(self.url, error)
        return await self.fallback.increment(key, limit=limit)

    async def count(self, key: str) -> int:
        if redis_usable(self.url):
            try:
                return await self.primary.count(key)
            except REDIS_FAILURES as error:
                mark_redis_failed(self.url, error)
        return await self.fallback.count(key)

    async def clear(self, key: str) -> None:
        # Both: a count left in either store would still hold the account back.
        await self.fallback.clear(key)
        if redis_usable(self.url):
            try:
                await self.primary.clear(key)
            except REDIS_FAILURES as error:
                mark_redis_failed(self.url, error)

    async def release(self, key: str) -> None:
        if redis_usable(self.url):
            try:
                await self.primary.release(key)
            except REDIS_FAILURES as error:
                mark_redis_failed(self.url, error)
            else:
                return
        await self.fallback.release(key)

    async def settle(self, *, clear: Sequence[str], release: Sequence[str]) -> None:
        # As `clear` and `release` one by one: cleared in both stores, released in Redis unless
        # it fails, else in the database.
        released = False
        if redis_usable(self.url):
            try:
                await self.primary.settle(clear=clear, release=release)
            except REDIS_FAILURES as error:
                mark_redis_failed(self.url, error)
            else:
                released = True
        await self.fallback.settle(clear=clear, release=() if released else release)

    async def forget(self, key: str) -> None:
        await self.fallback.forget(key)
        if redis_usable(self.url):
            try:
                await self.primary.forget(key)
            except REDIS_FAILURES as error:
                mark_redis_failed(self.url, error)


def address_key(address: str) -> str:
    """The client as the throttle counts it: its IPv4 address (also when written IPv4-mapped),
    or the /64 of its IPv6 address, in one canonical spelling."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    network = ipaddress.IPv6Network((int(ip), IPV6_PREFIX_LENGTH), strict=False)  # no %zone
    return str(network)


class Throttle:
    """`check` before testing a secret, then `record_success` or `record_failure`.

    Call it outside any transaction: a count written inside one would vanish with its rollback.
    """

    def __init__(self, store: CounterStore, settings: Settings) -> None:
        self.store = store
        self.free_failures = settings.throttle_free_failures
        self.max_failures = min(settings.throttle_max_failures, HARD_MAX_FAILURES)
        self.account_max_failures = min(settings.throttle_account_max_failures, HARD_MAX_FAILURES)
        self.max_delay = settings.throttle_max_delay_seconds
        # Factors whose address counter has a limit of its own (no delays below it).
        self.address_limits: dict[str, int] = {
            Factor.REGISTRATION: settings.register_per_address_per_window,
            Factor.QUERY_REGISTRATION: settings.persisted_query_registrations_per_address,
        }
        self._key_secret = settings.secret_key.get_secret_value().encode()

    def _key(self, factor: str, kind: str, value: str) -> str:
        # Keyed hashes: the table holds no email or address, and keys cannot be guessed.
        digest = hmac.new(self._key_secret, text_bytes(f"{kind}:{value}"), hashlib.sha256)
        return f"{factor}:{kind}:{digest.hexdigest()[:40]}"

    def _keys(
        self, factor: str, account: str | None, address: str | None, *, known_device: bool = False
    ) -> list[tuple[str, int, int]]:
        """(key, failures before the lock, failures before delays) for each key of an attempt.
        A known device is not counted against (nor held back by) the account-wide key."""
        keys = []
        if account is not None and address is not None:
            pair = self._key(factor, "account-address", f"{account}\n{address_key(address)}")
            keys.append((pair, self.max_failures, self.free_failures))
            if not known_device:
                key = self._key(factor, "account", account)
                keys.append((key, self.account_max_failures, self.free_failures))
        elif account is not None:
            key = self._key(factor, "account", account)
            keys.append((key, self.max_failures, self.free_failures))
        if address is not None:
            key = self._key(factor, "address", address_key(address))
            if (limit := self.address_limits.get(factor)) is not None:
                keys.append((key, limit, limit))
            else:
                keys.append(
                    (
                        key,
                        self.max_failures * ADDRESS_ALLOWANCE,
                        self.free_failures * ADDRESS_ALLOWANCE,
                    )
                )
        return keys

    async def check(
        self,
        *,
        factor: str,
        account: str | None,
        address: str | None,
        known_device: bool = False,
    ) -> None:
        """Count this attempt; TOO_MANY_ATTEMPTS when the account or address is over its limit."""
        for key, limit, _ in self._keys(factor, account, address, known_device=known_device):
            if await self.store.increment(key, limit=limit) > limit:
                metrics.THROTTLED.labels(factor=str(factor)).inc()
                raise DomainError(
                    ErrorCode.TOO_MANY_ATTEMPTS, "Too many failed attempts. Try again later."
                )

    async def record_failure(
        self,
        *,
        factor: str,
        account: str | None,
        address: str | None,
        known_device: bool = False,
    ) -> None:
        """The attempt failed (it is already counted): slow the caller down past the free ones."""
        if self.max_delay <= 0:
            return
        over = 0
        for key, _, free in self._keys(factor, account, address, known_device=known_device):
            over = max(over, await self.store.count(key) - free)
        if over > 0:
            await asyncio.sleep(min(self.max_delay, FIRST_DELAY_SECONDS * 2 ** (over - 1)))

    async def record_success(
        self, *, factor: str, account: str | None, address: str | None
    ) -> None:
        """The secret was right: the account's consecutive failures start over, and the attempt
        counted against the address is taken back (one good account must not reset an address
        that is guessing others)."""
        clear = []
        if account is not None:
            clear.append(self._key(factor, "account", account))
        if account is not None and address is not None:
            clear.append(self._key(factor, "account-address", f"{account}\n{address_key(address)}"))
        release = []
        if address is not None:
            release.append(self._key(factor, "address", address_key(address)))
        await self.store.settle(clear=clear, release=release)

    async def forget_accounts(self, *accounts: str) -> None:
        """Delete every counter of these accounts (closure erases them)."""
        for account in accounts:
            for factor in Factor:
                await self.store.forget(self._key(factor, "account", account))


def throttle_for(settings: Settings) -> Throttle:
    """The throttle of these settings: Redis when REDIS_URL is set (the database while Redis is
    down), else the database."""
    store: CounterStore
    if settings.redis_url:
        redis = RedisCounters(shared_redis(settings.redis_url), settings)
        store = FallbackCounters(settings.redis_url, redis, DatabaseCounters(settings))
    else:
        store = DatabaseCounters(settings)
    return Throttle(store, settings)
