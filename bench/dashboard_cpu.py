"""CPU per web-dashboard request, in process: the steady figure of `python -m bench`, without the
10,000-member seed. Seeds a temporary database (SQLite, or PostgreSQL with TEST_DATABASE_URL, as
the tests do) with one member (5 cards, 100 purchases, 12 offers activated) and times the
dashboard through httpx.ASGITransport.

    .venv/bin/python -m bench.dashboard_cpu [--requests 200] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from bff.app import build_app
from bff.db.connection import migrate
from tests.conftest import POSTGRES_ADMIN_URL, make_settings
from tests.test_client_operations import create_offers, member_with

DASHBOARD = (Path(__file__).parent.parent / "clients/web/operations/dashboard.graphql").read_text()


# The first that a file's path holds names it: ours before graphql-core's ("/graphql/").
PACKAGES = (
    "bff/graphql/compiled",
    "bff/graphql",
    "bff",
    "graphql",
    "strawberry",
    "tortoise",
    "aiodataloader",
    "asyncpg",
    "aiosqlite",
    "starlette",
    "httpx",
    "httpcore",
    "asyncio",
    "pypika",
    "orjson",
    "json",
)


def print_by_package(stats: pstats.Stats, requests: int) -> None:
    """Profiled CPU per request by the package whose code ran ("~": builtins and C code)."""
    totals: dict[str, float] = {}
    for (path, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        package = next((p for p in PACKAGES if f"/{p}/" in path), path.rsplit("/", 1)[-1])
        totals[package] = totals.get(package, 0.0) + own
    total = sum(totals.values())
    print(f"profiled CPU per request {total / requests * 1000:.2f} ms, by package:")
    for package, own in sorted(totals.items(), key=lambda item: -item[1])[:15]:
        print(f"  {package:24} {own / requests * 1000:6.2f} ms {own / total:6.1%}")


async def measure(database_url: str, requests: int, *, profile: bool) -> float:
    settings = make_settings(database_url)
    await migrate(settings)
    application = build_app(settings)
    async with LifespanManager(application):
        await create_offers(12)
        _, token, _ = await member_with(cards=5, purchases=100)
        transport = httpx.ASGITransport(app=application)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def run(count: int) -> None:
                for _ in range(count):
                    response = await client.post(
                        "/graphql", json={"query": DASHBOARD}, headers=headers
                    )
                    assert "errors" not in response.json(), response.text

            await run(20)
            if profile:
                # CPU time, not wall time: waiting for the database or a core is not work.
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                await run(requests)
                profiler.disable()
                stats = pstats.Stats(profiler)
                stats.sort_stats("tottime").print_stats(30)
                print_by_package(stats, requests)
            best = float("inf")
            for _ in range(5):
                started = time.process_time()
                await run(requests)
                best = min(best, (time.process_time() - started) / requests * 1000)
    return best


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if POSTGRES_ADMIN_URL:
        import uuid  # noqa: PLC0415

        import asyncpg  # noqa: PLC0415

        name = f"bff_cpu_{uuid.uuid4().hex[:12]}"
        admin_dsn = POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://", 1)
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
        try:
            best = await measure(f"{base}/{name}", args.requests, profile=args.profile)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    else:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite://{directory}/bff-cpu.sqlite3"
            best = await measure(url, args.requests, profile=args.profile)
    print(
        f"web dashboard, CPU per request (in process, best of 5 x {args.requests}): {best:.2f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
