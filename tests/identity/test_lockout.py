"""The lockout model (docs/identity.md, "Lockout"): a stranger's wrong passwords cost the member
little. The (account, address) pair is stopped after THROTTLE_MAX_FAILURES, the account only
slows down until THROTTLE_ACCOUNT_MAX_FAILURES (at most 100, NIST's ceiling)."""

from __future__ import annotations

from tests.factories import create_member
from tests.identity.conftest import PASSWORD, login

WRONG = "wrong-guess-1234"


async def test_a_stranger_s_failures_lock_his_address_out_not_the_member(client_with, member):
    attacker = await client_with(client_address="198.51.100.66", throttle_max_failures=5)
    home = await client_with(client_address="203.0.113.44", throttle_max_failures=5)

    guesses = [await login(attacker, member.email, password=WRONG) for _ in range(20)]
    signed_in = await login(home, member.email)

    codes = [guess["userErrors"][0]["code"] for guess in guesses]
    assert codes[:5] == ["INVALID_CREDENTIALS"] * 5
    assert set(codes[5:]) == {"TOO_MANY_ATTEMPTS"}
    assert signed_in["userErrors"] == []
    assert signed_in["token"]


async def test_the_account_stops_at_its_ceiling_whatever_the_addresses(client_with, member):
    """Failures from many addresses add up on the account, to THROTTLE_ACCOUNT_MAX_FAILURES."""
    settings = {"throttle_max_failures": 3, "throttle_account_max_failures": 6}
    clients = [
        await client_with(client_address=f"198.51.100.{number}", **settings)
        for number in range(1, 4)
    ]
    home = await client_with(client_address="203.0.113.44", **settings)

    for http in clients:
        for _ in range(2):
            await login(http, member.email, password=WRONG)
    refused = await login(home, member.email)

    assert refused["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_a_success_from_the_member_s_address_starts_its_pair_over(client_with, member):
    home = await client_with(client_address="203.0.113.44", throttle_max_failures=3)

    for _ in range(2):
        await login(home, member.email, password=WRONG)
    first = await login(home, member.email)
    again = [await login(home, member.email, password=WRONG) for _ in range(2)]
    second = await login(home, member.email)

    assert first["userErrors"] == []
    assert all(g["userErrors"][0]["code"] == "INVALID_CREDENTIALS" for g in again)
    assert second["userErrors"] == []


async def test_a_device_the_member_signed_in_on_is_not_held_back_by_the_account_ceiling(
    client_with, member
):
    """Past THROTTLE_ACCOUNT_MAX_FAILURES from strangers, the member's own browser (its device
    cookie from an earlier sign-in) still signs in; a new device does not."""
    settings = {"throttle_max_failures": 3, "throttle_account_max_failures": 4}
    laptop = await client_with(client_address="203.0.113.44", **settings)
    earlier = await login(laptop, member.email)
    strangers = [
        await client_with(client_address=f"198.51.100.{number}", **settings)
        for number in range(1, 4)
    ]
    for http in strangers:
        for _ in range(2):
            await login(http, member.email, password=WRONG)
    new_phone = await client_with(client_address="203.0.113.45", **settings)

    from_new_phone = await login(new_phone, member.email)
    from_laptop = await login(laptop, member.email)  # (a success: the count starts over)

    assert earlier["userErrors"] == []
    assert "bff_device" in laptop.cookies
    assert from_laptop["userErrors"] == []
    assert from_new_phone["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_a_device_cookie_of_another_account_does_not_count(client_with, member):
    other = await create_member(password=PASSWORD)
    settings = {"throttle_max_failures": 3, "throttle_account_max_failures": 2}
    laptop = await client_with(client_address="203.0.113.44", **settings)
    await login(laptop, other.email)
    for number in range(1, 3):
        stranger = await client_with(client_address=f"198.51.100.{number}", **settings)
        await login(stranger, member.email, password=WRONG)

    refused = await login(laptop, member.email)

    assert refused["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"
