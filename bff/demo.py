"""Demo data for `make run`: a member to sign in as (filled by the loyalty work)."""

from __future__ import annotations

from bff.settings import Settings


async def seed_demo(settings: Settings, *, only_if_empty: bool) -> str:
    del settings, only_if_empty
    return "no demo data yet"
