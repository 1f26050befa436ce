"""`make bench` / `python -m bench`: seed PostgreSQL, serve the BFF under uvicorn, drive it with
wrk from another process on loopback, and print throughput, latency and SQL statements per
request for the web dashboard, the mobile home and login, beside the floor (hand-written
asyncpg endpoints, same SQL, same JSON) and the naive schema (no loaders, no document caches).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.seed import PASSWORD, member_token, seed
from bff.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "clients"
WORKLOADS = {
    "dashboard": ("WebDashboard", CLIENTS / "web" / "dashboard.graphql"),
    "mobile home": ("MobileHome", CLIENTS / "mobile" / "home.graphql"),
    "login": ("MobileLogin", CLIENTS / "mobile" / "login.graphql"),
}
SERVERS = {
    "app": "bff.app:build_app",
    "naive": "bench.naive:build_naive_app",
    "floor": "bench.floor:build_floor_app",
}


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    bad: int

    def row(self) -> str:
        return (
            f"{self.requests_per_second:9.0f} req/s  "
            f"p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms"
        )


def ratio(a: Result, b: Result) -> float:
    return a.requests_per_second / b.requests_per_second if b.requests_per_second else float("inf")


def body_of(workload: str) -> str:
    operation, path = WORKLOADS[workload]
    body: dict[str, Any] = {"query": path.read_text(), "operationName": operation}
    if workload == "login":
        body["variables"] = {"email": "{{EMAIL}}", "password": PASSWORD}
    return json.dumps(body)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(kind: str, *, workers: int, env: dict[str, str]):
    """uvicorn serving `kind` on a free loopback port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            SERVERS[kind],
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}).status_code:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{kind} did not start")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(url: str, workload: str, *, seconds: int, connections: int, tokens: Path) -> Result:
    env = {
        **os.environ,
        "BENCH_BODY": body_of(workload),
        "BENCH_TOKENS": str(tokens),
        "BENCH_PATH": "/graphql",
    }
    output = subprocess.run(
        [
            "wrk",
            "-t1",  # one load thread: the other core is the server's
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",  # login queues behind the argon2 cap
            "-s",
            str(ROOT / "bench" / "wrk.lua"),
            url + "/graphql",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    raw = json.loads(line.removeprefix("BENCH "))
    return Result(
        requests_per_second=raw["requests"] / raw["seconds"],
        p50_ms=raw["p50_ms"],
        p99_ms=raw["p99_ms"],
        bad=raw["bad"] + raw["socket_errors"],
    )


async def count_statements(settings: Settings, token: str) -> dict[str, dict[str, int]]:
    """SQL statements of one request per workload, for the app and for the naive schema."""
    from asgi_lifespan import LifespanManager  # noqa: PLC0415

    from bench.naive import switch_loaders  # noqa: PLC0415
    from bff.app import build_app  # noqa: PLC0415
    from tests.sql_counter import count_statements as counting  # noqa: PLC0415

    counts: dict[str, dict[str, int]] = {"app": {}, "naive": {}}
    application = build_app(settings)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for kind, batching in (("app", True), ("naive", False)):
                switch_loaders(batching=batching)
                for workload in WORKLOADS:
                    body = body_of(workload).replace("{{EMAIL}}", "member2@bench.example")
                    # The first request also refreshes the session's last_seen_at (once a
                    # minute per session): count the steady state, the request after it.
                    await client.post(
                        "/graphql",
                        content=body,
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                        },
                    )
                    with counting() as log:
                        response = await client.post(
                            "/graphql",
                            content=body,
                            headers={
                                "Authorization": f"Bearer {token}",
                                "Content-Type": "application/json",
                            },
                        )
                    assert "errors" not in response.json(), response.text
                    counts[kind][workload] = log.count
            switch_loaders(batching=True)
    return counts


async def cpu_per_request(token: str) -> dict[str, dict[str, float]]:
    """CPU milliseconds of one request per variant and workload, in process and for one member
    (best of 3 x 20 requests, the in-process client included): steadier than req/s when other
    processes share the machine. Reads DATABASE_URL from the environment."""
    from asgi_lifespan import LifespanManager  # noqa: PLC0415

    from bench.floor import build_floor_app  # noqa: PLC0415
    from bench.naive import build_naive_app, switch_loaders  # noqa: PLC0415
    from bff.app import build_app  # noqa: PLC0415

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    cpu: dict[str, dict[str, float]] = {}
    # naive last: it switches the loaders and the document caches off for this process
    for kind, factory in (
        ("floor", build_floor_app),
        ("app", build_app),
        ("naive", build_naive_app),
    ):
        application = factory()
        cpu[kind] = {}
        async with LifespanManager(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for workload in ("dashboard", "mobile home"):
                    body = body_of(workload)
                    for _ in range(5):
                        await client.post("/graphql", content=body, headers=headers)
                    best = float("inf")
                    for _ in range(3):
                        started = time.process_time()
                        for _ in range(20):
                            await client.post("/graphql", content=body, headers=headers)
                        best = min(best, (time.process_time() - started) / 20 * 1000)
                    cpu[kind][workload] = best
    switch_loaders(batching=True)
    return cpu


async def fresh_database(admin_dsn: str, name: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def same_json(url_a: str, url_b: str, workload: str, token: str) -> bool:
    body = body_of(workload)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    a = httpx.post(f"{url_a}/graphql", content=body, headers=headers).json()
    b = httpx.post(f"{url_b}/graphql", content=body, headers=headers).json()
    return bool(a == b)


def main() -> int:  # noqa: C901, PLR0912, PLR0915 (one linear script)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--offers", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=8, help="per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--database", default="bff_bench")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    base, _, _ = args.admin_url.rpartition("/")
    dsn = f"{base}/{args.database}"
    database_url = dsn.replace("postgresql://", "postgres://", 1)
    secret = secrets.token_urlsafe(16)
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
        "PYTHONPATH": str(ROOT),
    }

    started = time.perf_counter()
    asyncio.run(fresh_database(args.admin_url, args.database))
    from bff.db.connection import migrate  # noqa: PLC0415

    asyncio.run(migrate(settings))
    print(
        asyncio.run(
            seed(dsn, members=args.members, offers=args.offers, secret=secret, settings=settings)
        )
    )
    statements = asyncio.run(count_statements(settings, member_token(1, secret)))
    os.environ["DATABASE_URL"] = database_url
    cpu = asyncio.run(cpu_per_request(member_token(2, secret)))

    results: dict[tuple[str, int, str], Result] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as tokens:
        tokens.write("\n".join(member_token(i, secret) for i in range(1, args.members + 1)))
        tokens.flush()
        token_file = Path(tokens.name)
        runs = [("app", 1), ("floor", 1), ("naive", 1), ("app", 2)]
        identical: dict[str, bool] = {}
        for kind, workers in runs:
            with server(kind, workers=workers, env=env) as url:
                if kind == "floor":
                    with server("app", workers=1, env=env) as app_url:
                        for workload in ("dashboard", "mobile home"):
                            identical[workload] = same_json(
                                app_url, url, workload, member_token(3, secret)
                            )
                for workload in WORKLOADS:
                    if kind == "naive" and workload == "login":
                        continue  # login has no relations to batch: the same as the app's
                    if workload != "login":
                        # no warm-up for login: its queue of hashes would outlive the warm-up
                        wrk(
                            url,
                            workload,
                            seconds=2,
                            connections=args.connections,
                            tokens=token_file,
                        )
                    result = wrk(
                        url,
                        workload,
                        # login is argon2-bound (a few per second): measure long enough to see it
                        seconds=args.seconds if workload != "login" else 2 * args.seconds,
                        connections=args.connections,
                        tokens=token_file,
                    )
                    results[kind, workers, workload] = result
                    print(f"  {kind:5} x{workers}  {workload:12} {result.row()}", flush=True)

    print()
    print(
        f"== {args.connections} concurrent clients, {args.seconds} s per run, "
        f"{os.cpu_count()} cores shared by wrk, uvicorn and PostgreSQL"
    )
    for workload in WORKLOADS:
        app = results["app", 1, workload]
        print(
            f"\n{workload}: {statements['app'][workload]} SQL statements per request "
            f"(naive: {statements['naive'][workload]})"
        )
        print(f"  BFF, 1 worker    {app.row()}")
        for label, key in (
            ("floor", ("floor", 1)),
            ("naive", ("naive", 1)),
            ("BFF, 2 workers", ("app", 2)),
        ):
            other = results.get((*key, workload))
            if other is not None:
                print(f"  {label:16} {other.row()}")
        floor = results["floor", 1, workload]
        print(f"  BFF / floor      {ratio(app, floor):6.0%}")
        naive = results.get(("naive", 1, workload))
        if naive is not None:
            print(f"  BFF / naive      {ratio(app, naive):6.1f}x")
        print(f"  2 / 1 workers    {ratio(results['app', 2, workload], app):6.2f}x")
        if workload in cpu["app"]:
            print(
                f"  CPU per request (in process): BFF {cpu['app'][workload]:.1f} ms, "
                f"floor {cpu['floor'][workload]:.1f} ms, naive {cpu['naive'][workload]:.1f} ms"
            )
        if workload in identical:
            print(f"  floor JSON identical to the BFF's: {'yes' if identical[workload] else 'NO'}")
    bad = {key: result.bad for key, result in results.items() if result.bad}
    if bad:
        print(f"\nBAD RESPONSES (errors, null member or non-200): {bad}")

    dashboard = results["app", 1, "dashboard"]
    targets = [
        (
            "dashboard >= 50% of floor",
            dashboard.requests_per_second
            >= 0.5 * results["floor", 1, "dashboard"].requests_per_second,
        ),
        (
            "dashboard >= 3x naive",
            dashboard.requests_per_second
            >= 3 * results["naive", 1, "dashboard"].requests_per_second,
        ),
        ("dashboard p99 < 50 ms", dashboard.p99_ms < 50),
    ]
    print(
        "\ntargets (1 worker): "
        + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets)
    )
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if all(ok for _, ok in targets) and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
