"""`bff prune`: ended sessions, spent challenges and idle throttle counters are deleted."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from bff.identity.models import Session, SessionTransport, ThrottleCounter, TwoFactorChallenge
from bff.identity.tokens import new_token, token_hash
from tests.factories import create_member
from tests.identity.conftest import login


async def add_session(member, *, label, now, **times):
    values = {"created_at": now, "last_seen_at": now, "expires_at": now + timedelta(days=1)}
    values.update(times)
    await Session.create(
        member=member,
        token_hash=token_hash(new_token()),
        transport=SessionTransport.BEARER,
        user_agent=label,
        **values,
    )


async def add_challenge(member, *, label, now, **times):
    values = {"created_at": now, "expires_at": now + timedelta(minutes=5)}
    values.update(times)
    await TwoFactorChallenge.create(
        member=member,
        token_hash=token_hash(new_token()),
        transport=SessionTransport.BEARER,
        user_agent=label,
        **values,
    )


def run_prune(settings, cwd):
    """The real command line, as cron would run it, against the test database."""
    env = {
        **os.environ,
        "BFF_ENV": "development",
        "DATABASE_URL": settings.database_url,
        "SESSION_IDLE_TIMEOUT": str(int(settings.session_idle_timeout.total_seconds())),
        "THROTTLE_WINDOW": str(int(settings.throttle_window.total_seconds())),
    }
    return subprocess.run(
        [sys.executable, "-m", "bff.cli", "prune"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )


async def test_prune_deletes_what_can_never_be_used_again_and_keeps_the_rest(
    app, settings, tmp_path
):
    """Revoked, expired and idle sessions, used and expired challenges and counters idle past
    THROTTLE_WINDOW go; a live session, a pending challenge and a recent counter stay."""
    now = datetime.now(UTC)
    member = await create_member()
    await add_session(member, label="live", now=now)
    await add_session(member, label="revoked", now=now, revoked_at=now)
    await add_session(member, label="expired", now=now, expires_at=now - timedelta(seconds=1))
    idle_since = now - settings.session_idle_timeout - timedelta(minutes=1)
    await add_session(member, label="idle", now=now, last_seen_at=idle_since)
    await add_challenge(member, label="pending", now=now)
    await add_challenge(member, label="used", now=now, used_at=now)
    await add_challenge(member, label="expired", now=now, expires_at=now - timedelta(seconds=1))
    stale = now - settings.throttle_window - timedelta(minutes=1)
    await ThrottleCounter.create(key="recent", failures=3, updated_at=now)
    await ThrottleCounter.create(key="idle", failures=3, updated_at=stale)

    result = run_prune(settings, tmp_path)

    assert result.stdout.strip() == (
        "deleted 3 ended sessions, 2 used or expired two-factor challenges, "
        "1 idle throttle counters"
    )
    assert await Session.all().values_list("user_agent", flat=True) == ["live"]
    assert await TwoFactorChallenge.all().values_list("user_agent", flat=True) == ["pending"]
    assert await ThrottleCounter.all().values_list("key", flat=True) == ["recent"]


async def test_a_second_prune_finds_nothing_to_delete(app, settings, tmp_path):
    """Pruning is safe to repeat (cron may run it twice): nothing is left the second time."""
    member = await create_member()
    now = datetime.now(UTC)
    await add_session(member, label="revoked", now=now, revoked_at=now)
    run_prune(settings, tmp_path)

    again = run_prune(settings, tmp_path)

    assert again.stdout.strip() == (
        "deleted 0 ended sessions, 0 used or expired two-factor challenges, "
        "0 idle throttle counters"
    )


async def test_an_account_whose_idle_counter_was_pruned_is_counted_afresh(
    client, member, settings, tmp_path
):
    """Deleting an idle counter loses nothing: the next failed login starts it again at one."""
    await login(client, member.email, password="wrong-guess-1234")
    stale = datetime.now(UTC) - settings.throttle_window - timedelta(minutes=1)
    await ThrottleCounter.all().update(updated_at=stale)
    run_prune(settings, tmp_path)

    payload = await login(client, member.email, password="wrong-guess-1234")

    assert payload["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert await ThrottleCounter.all().values_list("failures", flat=True) == [
        1,
        1,
        1,
    ]  # pair, account, address
