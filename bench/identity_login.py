"""Login throughput, and how quiet the event loop stays while passwords are hashed.

Starts `bff serve` (uvicorn, one process) on a free loopback port against a fresh database
(SQLite in a temporary directory, or with --postgres a new PostgreSQL database that is dropped
afterwards), with the production argon2id parameters from the settings. Then, in one run:

1. idle: a cheap `me { email }` query, one at a time, gives its idle p99;
2. loaded: CONCURRENCY logins run at once, continuously, while the same `me` query is measured
   again; login throughput is counted over the same period.

Prints both p99s and their ratio (target: loaded p99 within 2x of idle p99).

    .venv/bin/python bench/identity_login.py [--postgres] [--concurrency 16] [--samples 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from bff.db.connection import close_db, init_db, migrate
from bff.identity.models import Member
from bff.identity.passwords import hash_password
from bff.settings import Settings

PG_ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-violet-tractor-orbit-lantern"
EMAIL = "bench@example.com"
ME = "query { me { email } }"
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { token userErrors { code } } }"
BFF = Path(sys.executable).with_name("bff")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


@asynccontextmanager
async def fresh_database(use_postgres: bool):
    if not use_postgres:
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite://{directory}/bench.sqlite3"
        return
    name = f"bff_bench_{uuid.uuid4().hex[:10]}"
    admin_dsn = PG_ADMIN_URL.replace("postgres://", "postgresql://", 1)
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def prepare(database_url: str) -> Settings:
    """Migrate and create the bench member with the production password parameters."""
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    await migrate(settings)
    await init_db(settings)
    try:
        now = datetime.now(UTC)
        await Member.create(
            email=EMAIL,
            password_hash=await hash_password(PASSWORD, settings=settings),
            first_name="Bench",
            last_name="Member",
            terms_version=settings.terms_version,
            terms_accepted_at=now,
            program_joined_at=now,
        )
    finally:
        await close_db()
    return settings


@asynccontextmanager
async def server(database_url: str, port: int):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        # Benchmark traffic comes from one address: keep the address throttle out of the way.
        "THROTTLE_MAX_FAILURES": "100",
    }
    with tempfile.TemporaryDirectory() as cwd:
        process = subprocess.Popen(  # noqa: ASYNC220 (started once, waited for below)
            [str(BFF), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for _ in range(100):
                    with suppress(httpx.TransportError):
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
                else:
                    raise RuntimeError(process.stderr.read().decode() if process.stderr else "")
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def login(http: httpx.AsyncClient) -> str:
    response = await http.post(
        "/graphql",
        json={
            "query": LOGIN,
            "variables": {
                "i": {"email": EMAIL, "password": PASSWORD, "sessionTransport": "BEARER"}
            },
        },
    )
    payload = response.json()["data"]["login"]
    if payload["userErrors"]:
        raise RuntimeError(payload["userErrors"])
    return str(payload["token"])


async def me_latencies(http: httpx.AsyncClient, token: str, samples: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        response = await http.post("/graphql", json={"query": ME}, headers=headers)
        latencies.append(time.perf_counter() - started)
        if response.json()["data"]["me"] is None:
            raise RuntimeError("the bench session stopped authenticating")
        await asyncio.sleep(0.005)
    return latencies


async def run(args: argparse.Namespace) -> None:
    async with fresh_database(args.postgres) as database_url:
        settings = await prepare(database_url)
        port = free_port()
        async with (
            server(database_url, port),
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                limits=httpx.Limits(max_connections=args.concurrency + 4),
                timeout=60,
            ) as http,
        ):
            token = await login(http)
            await me_latencies(http, token, 50)  # warm-up
            idle = await me_latencies(http, token, args.samples)

            logins = 0
            stop = asyncio.Event()

            async def login_worker() -> None:
                nonlocal logins
                while not stop.is_set():
                    await login(http)
                    logins += 1

            workers = [asyncio.create_task(login_worker()) for _ in range(args.concurrency)]
            await asyncio.sleep(1.0)  # let every worker be mid-login
            started, before = time.perf_counter(), logins
            loaded = await me_latencies(http, token, args.samples)
            elapsed, done = time.perf_counter() - started, logins - before
            stop.set()
            await asyncio.gather(*workers)

    idle_p99, loaded_p99 = p99(idle) * 1000, p99(loaded) * 1000
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"database: {backend}; argon2id t={settings.argon2_time_cost} "
        f"m={settings.argon2_memory_cost_kib} KiB p={settings.argon2_parallelism}; "
        f"hashes in flight <= {settings.password_hashes_in_flight}; cpus: {os.cpu_count()}"
    )
    print(
        f"login throughput: {done / elapsed:.1f} logins/s ({done} in {elapsed:.1f} s, "
        f"{args.concurrency} at once)"
    )
    print(f"me p50 idle:   {statistics.median(idle) * 1000:.2f} ms")
    print(f"me p50 loaded: {statistics.median(loaded) * 1000:.2f} ms")
    print(f"me p99 idle:   {idle_p99:.2f} ms")
    print(f"me p99 loaded: {loaded_p99:.2f} ms ({args.concurrency} logins at once)")
    print(f"ratio loaded/idle p99: {loaded_p99 / idle_p99:.2f}x (target <= 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL database")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--samples", type=int, default=400)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
