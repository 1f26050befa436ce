"""Throttling: every attempt counts, delays then TOO_MANY_ATTEMPTS, temporary, DB or Redis."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager

from bff.app import build_app
from bff.db.connection import init_db
from bff.errors import DomainError, ErrorCode
from bff.identity.models import ThrottleCounter
from bff.identity.throttle import (
    ADDRESS_ALLOWANCE,
    HARD_MAX_FAILURES,
    DatabaseCounters,
    Factor,
    FallbackCounters,
    RedisCounters,
    Throttle,
    throttle_for,
)
from bff.redis_clients import connect_redis, shared_redis
from tests.conftest import make_settings
from tests.identity.conftest import PASSWORD, login

REDIS_URL = "redis://127.0.0.1:6379/0"


def aliased_logins(count, password):
    fields = "\n".join(
        f'l{i}: login(input: {{email: "anna@example.com", password: "{password}",'
        " sessionTransport: BEARER}) { token userErrors { code } }"
        for i in range(count)
    )
    return f"mutation {{\n{fields}\n}}"


async def test_101_aliased_logins_in_one_request_do_not_get_101_tries(
    client_with, member, settings
):
    """Each alias is an attempt: past THROTTLE_MAX_FAILURES the rest are refused unchecked."""
    http = await client_with(max_aliases=200, max_tokens=20_000)

    response = await http.post("/graphql", json={"query": aliased_logins(101, "wrong-guess-1234")})

    codes = [field["userErrors"][0]["code"] for field in response.json()["data"].values()]
    assert codes.count("INVALID_CREDENTIALS") == settings.throttle_max_failures
    assert codes.count("TOO_MANY_ATTEMPTS") == 101 - settings.throttle_max_failures
    locked = await login(http, member.email)
    assert locked["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_a_batch_of_operations_counts_every_login(client_with, member, settings):
    """Ten batched operations of ten aliases each: at most the limit get checked."""
    http = await client_with(max_aliases=200, max_tokens=20_000)
    batch = [{"query": aliased_logins(10, "wrong-guess-1234")} for _ in range(10)]

    response = await http.post("/graphql", json=batch)

    codes = [
        field["userErrors"][0]["code"]
        for result in response.json()
        for field in result["data"].values()
    ]
    assert len(codes) == 100
    assert codes.count("INVALID_CREDENTIALS") == settings.throttle_max_failures


async def test_too_many_aliases_are_refused_before_any_login_runs(client, member):
    """With the default alias limit, 101 aliased logins never execute."""

    response = await client.post("/graphql", json={"query": aliased_logins(101, PASSWORD)})

    assert "data" not in response.json() or response.json()["data"] is None
    assert await ThrottleCounter.all().count() == 0


async def failed_logins_from(client_with, addresses, *, max_failures=2):
    """One wrong-password login per address, each for a different account; their error codes."""
    codes = []
    for number, address in enumerate(addresses):
        http = await client_with(client_address=address, throttle_max_failures=max_failures)
        payload = await login(http, f"guess{number}@example.com", password="wrong-guess-1234")
        codes.append(payload["userErrors"][0]["code"])
    return codes


async def test_ipv6_addresses_of_one_64_prefix_share_one_address_counter(client_with):
    """A client rotating through its /64 is counted once; another /64 is a different client."""
    allowance = 2 * ADDRESS_ALLOWANCE
    same_prefix = [f"2001:DB8:0:1:{number:x}::{number + 1:x}" for number in range(allowance + 1)]

    codes = await failed_logins_from(client_with, same_prefix)
    [other] = await failed_logins_from(client_with, ["2001:db8:0:2::1"])

    assert codes == ["INVALID_CREDENTIALS"] * allowance + ["TOO_MANY_ATTEMPTS"]
    assert other == "INVALID_CREDENTIALS"


async def test_an_ipv4_mapped_address_is_the_same_client_as_its_ipv4_address(client_with):
    """::ffff:198.51.100.7 and 198.51.100.7 count against one address counter."""
    allowance = 2 * ADDRESS_ALLOWANCE
    spellings = ["198.51.100.7", "::ffff:198.51.100.7", "::FFFF:c633:6407"] * allowance

    codes = await failed_logins_from(client_with, spellings[: allowance + 1])

    assert codes == ["INVALID_CREDENTIALS"] * allowance + ["TOO_MANY_ATTEMPTS"]


async def test_the_lock_is_temporary(client, member, settings):
    """Once THROTTLE_WINDOW has passed since the last counted failure, login works again."""
    for _ in range(settings.throttle_max_failures + 1):
        await login(client, member.email, password="wrong-guess-1234")
    assert (await login(client, member.email))["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    later = datetime.now(UTC) - settings.throttle_window - timedelta(seconds=1)
    await ThrottleCounter.all().update(updated_at=later)

    payload = await login(client, member.email)

    assert payload["userErrors"] == []


async def test_a_success_clears_the_accounts_consecutive_failures(client, member, settings):
    """Failures below the limit, then a success: the count starts over."""
    for _ in range(settings.throttle_max_failures - 1):
        await login(client, member.email, password="wrong-guess-1234")

    await login(client, member.email)
    for _ in range(settings.throttle_max_failures - 1):
        await login(client, member.email, password="wrong-guess-1234")

    assert (await login(client, member.email))["userErrors"] == []


async def test_an_address_guessing_many_accounts_is_throttled(app, settings):
    """The per-address counter stops one client spreading guesses over many accounts."""
    throttle = Throttle(DatabaseCounters(settings), settings)
    limit = settings.throttle_max_failures * 10

    for i in range(limit):
        await throttle.check(factor=Factor.PASSWORD, account=f"user{i}", address="198.51.100.7")

    with pytest.raises(DomainError) as refused:
        await throttle.check(factor=Factor.PASSWORD, account="fresh", address="198.51.100.7")
    assert refused.value.code is ErrorCode.TOO_MANY_ATTEMPTS
    await throttle.check(factor=Factor.PASSWORD, account="fresh", address="198.51.100.8")


async def test_failures_past_the_free_ones_are_delayed(app, settings):
    """record_failure sleeps once the free failures are used up (and never before)."""
    slow = make_settings(
        settings.database_url, throttle_max_delay_seconds=0.05, throttle_free_failures=1
    )
    throttle = Throttle(DatabaseCounters(slow), slow)
    sleeps = []
    real_sleep = asyncio.sleep

    async def recording_sleep(seconds):
        sleeps.append(seconds)
        await real_sleep(0)

    asyncio.sleep = recording_sleep
    try:
        for _ in range(3):
            await throttle.check(factor=Factor.TOTP, account="m1", address=None)
            await throttle.record_failure(factor=Factor.TOTP, account="m1", address=None)
    finally:
        asyncio.sleep = real_sleep

    assert sleeps == [0.05, 0.05]


def test_the_account_limit_never_exceeds_100(settings):
    """A deployment cannot configure more than 100 consecutive failures per account."""

    throttle = Throttle(
        None,
        make_settings(
            settings.database_url, throttle_max_failures=500, throttle_account_max_failures=500
        ),
    )

    assert throttle.max_failures == HARD_MAX_FAILURES
    assert throttle.account_max_failures == HARD_MAX_FAILURES


@asynccontextmanager
async def redis_store(settings):
    """Redis counters under a prefix of their own, deleted afterwards."""
    redis = connect_redis(REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex}:"
    try:
        yield RedisCounters(redis, settings, prefix=prefix)
    finally:
        keys = [key async for key in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.fixture
async def redis_counters(settings):
    async with redis_store(settings) as store:
        yield store


@pytest.fixture(params=["database", "redis"])
async def counters(request, app, settings):
    """Each counter store in turn: the database table, then Redis."""
    if request.param == "database":
        yield DatabaseCounters(settings)
        return
    async with redis_store(settings) as store:
        yield store


async def test_concurrent_attempts_never_pass_the_limit_on_either_store(counters, settings):
    """101 attempts at the same moment: exactly THROTTLE_MAX_FAILURES are let through."""
    throttle = Throttle(counters, settings)

    async def attempt():
        try:
            await throttle.check(factor=Factor.PASSWORD, account="anna", address=None)
        except DomainError:
            return False
        return True

    results = await asyncio.gather(*(attempt() for _ in range(101)))

    assert results.count(True) == settings.throttle_max_failures


async def test_a_success_clears_the_accounts_counts_and_takes_one_back_from_the_address(
    counters, settings
):
    """Three attempts, then the right secret: the pair and the account start over, the address
    keeps the two attempts it did not take back."""
    throttle = Throttle(counters, settings)
    for _ in range(3):
        await throttle.check(factor=Factor.PASSWORD, account="anna", address="192.0.2.5")

    await throttle.record_success(factor=Factor.PASSWORD, account="anna", address="192.0.2.5")

    keys = [key for key, _, _ in throttle._keys(Factor.PASSWORD, "anna", "192.0.2.5")]
    assert [await counters.count(key) for key in keys] == [0, 0, 2]


async def test_concurrent_successes_on_the_same_keys_all_finish(counters, settings):
    """Twenty successes of one account from one address at once: none fails (no deadlock), and
    the address gives back no more than it counted."""
    throttle = Throttle(counters, settings)
    for _ in range(10):
        await throttle.check(factor=Factor.PASSWORD, account="anna", address="192.0.2.6")

    await asyncio.gather(
        *(
            throttle.record_success(factor=Factor.PASSWORD, account="anna", address="192.0.2.6")
            for _ in range(20)
        )
    )

    keys = [key for key, _, _ in throttle._keys(Factor.PASSWORD, "anna", "192.0.2.6")]
    assert [await counters.count(key) for key in keys] == [0, 0, 0]


async def test_redis_counters_expire_and_clear(redis_counters):
    """The Redis key lives THROTTLE_WINDOW after the last attempt and a success deletes it."""
    await redis_counters.increment("k", limit=5)
    await redis_counters.increment("k", limit=5)

    ttl = await redis_counters.redis.pttl(redis_counters.prefix + "k")
    count = await redis_counters.count("k")
    await redis_counters.clear("k")

    assert count == 2
    assert 0 < ttl <= redis_counters.window_ms
    assert await redis_counters.count("k") == 0


async def test_successes_do_not_use_up_the_address_allowance(app, settings):
    """Many members signing in from one office address are never throttled for succeeding."""
    throttle = Throttle(DatabaseCounters(settings), settings)

    for i in range(settings.throttle_max_failures * 10 + 5):
        await throttle.check(factor=Factor.PASSWORD, account=f"user{i}", address="192.0.2.1")
        await throttle.record_success(
            factor=Factor.PASSWORD, account=f"user{i}", address="192.0.2.1"
        )

    await throttle.check(factor=Factor.PASSWORD, account="last", address="192.0.2.1")


def test_redis_url_selects_the_redis_store_and_the_database_otherwise(settings):
    """Several processes share counters through Redis when REDIS_URL is set."""

    with_redis = throttle_for(make_settings(settings.database_url, redis_url=REDIS_URL))
    without = throttle_for(settings)

    assert isinstance(with_redis.store, FallbackCounters)
    assert isinstance(with_redis.store.primary, RedisCounters)
    assert isinstance(with_redis.store.fallback, DatabaseCounters)
    assert isinstance(without.store, DatabaseCounters)


async def test_the_apps_shutdown_closes_the_throttles_redis_connections(settings, migrated):
    """Logins counted in Redis open the shared client; the lifespan's shutdown disconnects it."""
    application = build_app(make_settings(settings.database_url, redis_url=REDIS_URL))
    transport = httpx.ASGITransport(app=application, client=("198.51.100.77", 50000))

    try:
        async with (
            LifespanManager(application),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
        ):
            await login(http, f"{uuid.uuid4().hex}@example.com")
            pool = shared_redis(REDIS_URL).connection_pool
            opened = [*pool._available_connections, *pool._in_use_connections]
    finally:
        await init_db(settings)  # that shutdown closed the test session's database too

    assert opened
    assert not any(connection.is_connected for connection in opened)
    assert shared_redis(REDIS_URL).connection_pool is not pool
