"""Event latency: from a till's purchase POST to the member's websocket receiving the new balance.

Two `bff serve` processes share a fresh PostgreSQL database and Redis. SUBSCRIBERS members each
hold one websocket (half on each process) subscribed to `pointsBalanceChanged`; purchases are
then posted at a steady RATE per second, alternating between the processes, each for a member
no other purchase touches, so every delivery is matched to its POST. Prints p50/p90/p99/max.

    python bench/event_latency.py [--subscribers 1000] [--rate 20] [--purchases 300]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres, where
a database is created and dropped) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/0).
Traffic stays on 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop
from websockets.asyncio.client import ClientConnection, connect

from bff.db.connection import close_db, init_db, migrate
from bff.identity.models import Member, Session, SessionTransport
from bff.identity.tokens import new_token, token_hash
from bff.loyalty.models import Card
from bff.loyalty.numbers import check_digit
from bff.settings import Settings

ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
API_KEY = "bench-internal-api-key"
BALANCE = "subscription { pointsBalanceChanged { pending lifetimeEarned } }"
BFF = Path(sys.executable).with_name("bff")
RESULTS = Path(__file__).resolve().parent / "results"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def fresh_database():
    name = f"bench_events_{uuid.uuid4().hex[:10]}"
    admin_dsn = ADMIN_URL.replace("postgres://", "postgresql://", 1)
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield f"{ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def seed(settings: Settings, count: int) -> list[tuple[str, str]]:
    """`count` members, each with a bearer session and a linked card: (token, card number)."""
    await migrate(settings)
    await init_db(settings)
    try:
        now = datetime.now(UTC)
        await Member.bulk_create(
            [
                Member(
                    email=f"bench{i}@example.com",
                    first_name="Bench",
                    last_name=str(i),
                    terms_version="2026-01",
                    terms_accepted_at=now,
                    program_joined_at=now,
                )
                for i in range(count)
            ],
            batch_size=500,
        )
        members = await Member.all().order_by("id").values_list("id", flat=True)
        tokens = [new_token() for _ in members]
        numbers = []
        for i in range(count):
            body = f"29{i:010d}"
            numbers.append(f"{body}{check_digit(body)}")
        await Session.bulk_create(
            [
                Session(
                    member_id=member_id,
                    token_hash=token_hash(token),
                    transport=SessionTransport.BEARER,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(days=1),
                )
                for member_id, token in zip(members, tokens, strict=True)
            ],
            batch_size=500,
        )
        await Card.bulk_create(
            [
                Card(number=number, code_hash="-" * 64, member_id=member_id, linked_at=now)
                for member_id, number in zip(members, numbers, strict=True)
            ],
            batch_size=500,
        )
    finally:
        await close_db()
    return list(zip(tokens, numbers, strict=True))


@asynccontextmanager
async def bff_process(env: dict[str, str], cwd: Path):
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(BFF), "serve", "--port", str(port), "--graceful-timeout", "2", env=env, cwd=cwd
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http, asyncio.timeout(60):
            while True:
                with suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
        yield url
    finally:
        process.terminate()
        await process.wait()


class Subscriber:
    """One member's websocket: records when the first balance after the initial one arrives."""

    def __init__(self, index: int, token: str) -> None:
        self.index = index
        self.token = token
        self.ready = asyncio.Event()
        self.delivered = asyncio.Event()
        self.delivered_at = 0.0
        self.payload: dict[str, Any] | None = None

    async def run(self, url: str, connections: asyncio.Semaphore) -> None:
        async with connections:
            ws = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=30)  # type: ignore[list-item]
        await self._session(ws)

    async def _session(self, ws: ClientConnection) -> None:
        async with ws:
            init = {"authorization": f"Bearer {self.token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": BALANCE}}
            await ws.send(json.dumps(subscribe))
            assert json.loads(await ws.recv())["type"] == "next"
            self.ready.set()
            message = json.loads(await ws.recv())
            self.delivered_at = time.perf_counter()
            self.payload = message
            self.delivered.set()
            await ws.send(json.dumps({"id": "1", "type": "complete"}))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def bench(subscribers: int, rate: float, purchases: int) -> dict[str, Any]:
    purchases = min(purchases, subscribers)
    async with AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(fresh_database())
        settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
        started = time.perf_counter()
        members = await seed(settings, subscribers)
        print(f"seeded {subscribers} members in {time.perf_counter() - started:.1f}s", flush=True)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "EVENTS_CHANNEL": f"bff:bench:{uuid.uuid4().hex}",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "INTERNAL_API_KEYS": API_KEY,
            "MAX_SUBSCRIPTIONS_PER_CONNECTION": "1",
            "LOG_LEVEL": "WARNING",
        }
        cwd = Path(tempfile.mkdtemp())  # no stray .env is read
        servers = [
            await stack.enter_async_context(bff_process(env, cwd)),
            await stack.enter_async_context(bff_process(env, cwd)),
        ]
        ws_urls = [url.replace("http://", "ws://") + "/graphql" for url in servers]

        people = [Subscriber(i, token) for i, (token, _) in enumerate(members)]
        connecting = asyncio.Semaphore(50)
        tasks = [asyncio.create_task(p.run(ws_urls[p.index % 2], connecting)) for p in people]
        started = time.perf_counter()
        async with asyncio.timeout(120):
            await asyncio.gather(*(p.ready.wait() for p in people))
        print(
            f"{subscribers} subscribers ready in {time.perf_counter() - started:.1f}s", flush=True
        )

        posted_at: dict[int, float] = {}
        answered_at: dict[int, float] = {}
        clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in servers]

        async def purchase(i: int) -> None:
            body = {
                "receiptId": f"B-{uuid.uuid4().hex}",
                "cardNumber": members[i][1],
                "storeId": "bench",
                "total": "100.00",
            }
            posted_at[i] = time.perf_counter()
            response = await clients[i % 2].post(
                "/internal/v1/purchases", json=body, headers={"X-Api-Key": API_KEY}
            )
            answered_at[i] = time.perf_counter()
            assert response.status_code == 201, response.text

        start = time.perf_counter()
        posts = []
        for i in range(purchases):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            posts.append(asyncio.create_task(purchase(i)))
        async with asyncio.timeout(60):
            await asyncio.gather(*posts)
            await asyncio.gather(*(people[i].delivered.wait() for i in range(purchases)))
        for client in clients:
            await client.aclose()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

        wrong = [
            i
            for i in range(purchases)
            if (people[i].payload or {}).get("payload", {}).get("data", {})
            != {"pointsBalanceChanged": {"pending": 10, "lifetimeEarned": 10}}
        ]
        latencies = [(people[i].delivered_at - posted_at[i]) * 1000 for i in range(purchases)]
        post_times = [(answered_at[i] - posted_at[i]) * 1000 for i in range(purchases)]
        # Negative when the websocket message beats the HTTP answer (published before replying).
        after_answer = [(people[i].delivered_at - answered_at[i]) * 1000 for i in range(purchases)]
        return {
            "subscribers": subscribers,
            "processes": 2,
            "purchases": purchases,
            "rate_per_second": rate,
            "wrong_payloads": len(wrong),
            "delivery_ms": {
                "p50": round(statistics.median(latencies), 1),
                "p90": round(percentile(latencies, 0.90), 1),
                "p99": round(percentile(latencies, 0.99), 1),
                "max": round(max(latencies), 1),
            },
            "post_response_ms": {
                "p50": round(statistics.median(post_times), 1),
                "p99": round(percentile(post_times, 0.99), 1),
            },
            "delivery_after_response_ms": {
                "p50": round(statistics.median(after_answer), 1),
                "p99": round(percentile(after_answer, 0.99), 1),
            },
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="purchases per second")
    parser.add_argument("--purchases", type=int, default=300)
    args = parser.parse_args()
    # uvloop, like the servers (uvicorn[standard]): 1,000 client websockets in one process.
    result = uvloop.run(bench(args.subscribers, args.rate, args.purchases))
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"event_latency-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
