"""Password hashing and policy, below the API."""

from __future__ import annotations

import asyncio
import threading

import pytest
from argon2 import PasswordHasher

from bff.errors import DomainError, ErrorCode
from bff.identity.passwords import (
    PasswordHashing,
    check_member_password,
    hash_password,
    password_hashing,
    validate_new_password,
    verify_and_maybe_rehash,
)
from tests.conftest import make_settings
from tests.factories import create_member

STRONG = "violet-tractor-orbit-lantern"


async def test_a_hash_is_argon2id_and_verifies_only_its_password(settings):
    """The stored form is an argon2id hash that accepts the password and nothing else."""

    stored = await hash_password(STRONG, settings=settings)

    assert stored.startswith("$argon2id$")
    assert (
        await verify_and_maybe_rehash(password_hash=stored, password=STRONG, settings=settings)
    ) == (True, None)
    assert (
        await verify_and_maybe_rehash(
            password_hash=stored, password=STRONG.upper(), settings=settings
        )
    ) == (False, None)


async def test_an_unknown_account_costs_a_dummy_verify_and_fails(settings):
    """No hash (unknown email) still runs one verify and answers False."""

    ok, new_hash = await verify_and_maybe_rehash(
        password_hash=None, password=STRONG, settings=settings
    )

    assert (ok, new_hash) == (False, None)
    assert password_hashing(settings)._dummy_hash is not None


async def test_a_hash_with_older_parameters_is_upgraded_at_the_next_success(settings, app):
    """A member whose hash has weaker parameters gets a hash with the current ones."""
    old = make_settings(settings.database_url, argon2_time_cost=2)
    member = await create_member(password_hash=await hash_password(STRONG, settings=old))

    ok = await check_member_password(member, STRONG, settings=settings)

    assert ok
    assert "t=1," in member.password_hash
    assert not password_hashing(settings).needs_rehash(member.password_hash)


async def test_hashes_in_flight_never_exceed_the_cap():
    """Twelve concurrent hashes never run more than `in_flight` at once."""
    running = peak = 0
    lock = threading.Lock()

    class CountingHasher(PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            try:
                return super().hash(password, salt=salt)
            finally:
                with lock:
                    running -= 1

    hashing = PasswordHashing(
        hasher=CountingHasher(time_cost=1, memory_cost=8192, parallelism=1), in_flight=2
    )

    await asyncio.gather(*(hashing.hash(f"{STRONG}{i}") for i in range(12)))

    assert 1 <= peak <= 2


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pass", "at least 15"),
        ("x" * 300, "at most 256"),
        ("password12345678", "commonly used"),
        ("zxcvbnm,./asdfghjkl", "keyboard"),
        ("aaaaaaaaaaaaaaaaaaaa", "Repeats"),
    ],
)
async def test_weak_passwords_are_refused_with_a_reason(password, reason):
    """Too short, too long, common and guessable passwords give WEAK_PASSWORD and why."""

    with pytest.raises(DomainError) as refused:
        await validate_new_password(password)

    assert refused.value.code is ErrorCode.WEAK_PASSWORD
    assert refused.value.field == "password"
    assert reason.lower() in refused.value.message.lower()


@pytest.mark.parametrize(
    "password", [STRONG, "Ünïcödé пароль 長い秘密の言葉", "z" * 3 + STRONG * 9]
)
async def test_long_and_unicode_passwords_without_composition_rules_are_accepted(password):
    """Any characters count by code point, up to 256, with no composition rules."""

    await validate_new_password(password)
