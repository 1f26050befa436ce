"""`make bench` / `python -m bench`: seed PostgreSQL, serve each variant with uvicorn (one worker),
drive them with wrk from another process on loopback in alternating rounds, and print per
workload: req/s, p50/p99, CPU per request of the served process and of PostgreSQL (both from
/proc), SQL statements and round trips per request; then one line per ratio to the floor:

    ratio web-dashboard generic/floor 0.52

Workloads: web-dashboard, mobile-home, login. Variants: floor (bench/floor.py, the same SQL and
JSON by hand through asyncpg), compiled (the app as deployed: the clients' documents on their
compiled plans), generic (the app with COMPILED_EXECUTION=false: Strawberry executing every
document, as GraphiQL's and unlisted documents run), naive (the generic app without DataLoader
batching and document caches).
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.seed import PASSWORD, member_token, seed
from bff.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "clients"
WORKLOADS = {
    "web-dashboard": ("WebDashboard", CLIENTS / "web" / "operations" / "dashboard.graphql"),
    "mobile-home": ("MobileHome", CLIENTS / "mobile" / "home.graphql"),
    "login": ("MobileLogin", CLIENTS / "mobile" / "login.graphql"),
}
SERVERS = {
    "floor": "bench.floor:build_floor_app",
    "compiled": "bff.app:build_app",
    "generic": "bff.app:build_app",
    "naive": "bench.naive:build_naive_app",
}
# What each variant's server gets in its environment on top of the bench's. The workloads send
# the files' text (not the manifest's, which adds __typename): compiled on first sight.
SERVER_ENV = {
    "compiled": {"COMPILED_EXECUTION": "true", "COMPILED_EXECUTION_THRESHOLD": "1"},
    "generic": {"COMPILED_EXECUTION": "false"},
    "naive": {"COMPILED_EXECUTION": "false"},
    "baseline": {"COMPILED_EXECUTION": "false"},
}
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Measure:
    """What the rounds of one variant on one workload added up to."""

    requests: int = 0
    seconds: float = 0.0
    bad: int = 0
    app_cpu: float = 0.0  # seconds
    db_cpu: float = 0.0
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def per_request_ms(self, cpu: float) -> float:
        return cpu / self.requests * 1000 if self.requests else float("nan")


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


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat; 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving `database`, found by their process titles
    ("postgres: <cluster>: <user> <database> <client> <state>"): no connection needed on a server
    whose connection slots other work may have taken."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        words = title.split()
        if words[:1] == ["postgres:"] and database in words[2:5]:
            pids.append(int(entry.name))
    return pids


def database_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving `database`."""
    return {pid: cpu_seconds(pid) for pid in backend_pids(database)}


@contextmanager
def server(kind: str, *, env: dict[str, str], cwd: Path = ROOT) -> Iterator[tuple[str, int]]:
    """uvicorn serving `kind` (one worker, in the process started) on a free loopback port, from
    the checkout `cwd` (another one for the baseline)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            SERVERS["generic" if kind == "baseline" else kind],
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=cwd,
        env={**env, **SERVER_ENV.get(kind, {}), "PYTHONPATH": str(cwd)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}).status_code:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{kind} did not start")
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(url: str, workload: str, *, seconds: int, connections: int, tokens: Path) -> dict[str, Any]:
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
    raw: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
    return raw


async def count_per_request(
    settings: Settings, token: str
) -> dict[str, dict[str, tuple[int, int]]]:
    """(statements, round trips) of one steady-state request per variant and workload, in
    process (the floor's statements: its round trips but asyncpg's reset on release)."""
    from asgi_lifespan import LifespanManager  # noqa: PLC0415

    from bench.floor import build_floor_app  # noqa: PLC0415
    from bench.naive import switch_loaders  # noqa: PLC0415
    from bff.app import build_app  # noqa: PLC0415
    from tests.sql_counter import count_round_trips, count_statements  # noqa: PLC0415

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    counts: dict[str, dict[str, tuple[int, int]]] = {}
    os.environ["DATABASE_URL"] = settings.database_url
    for kind in ("floor", "compiled", "generic", "naive"):
        compiled = kind == "compiled"
        application = (
            build_floor_app()
            if kind == "floor"
            # No outbox worker in this process: its polling would count as the request's SQL.
            else build_app(
                settings.model_copy(
                    update={
                        "compiled_execution": compiled,
                        "compiled_execution_threshold": 1,
                        "worker_in_process": False,
                    }
                )
            )
        )
        switch_loaders(batching=kind != "naive")
        counts[kind] = {}
        # Shutting down waits for the pool's connections: slow on a loaded machine.
        async with LifespanManager(application, startup_timeout=60, shutdown_timeout=60):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for workload in WORKLOADS:
                    body = body_of(workload).replace("{{EMAIL}}", "member2@bench.example")
                    # The first request may refresh the session's last_seen_at (once a minute):
                    # count the steady state, the request after it.
                    await client.post("/graphql", content=body, headers=headers)
                    # wrk keeps no cookies: each of its logins comes from a new device (a
                    # NEW_SIGN_IN notice too), not from the one the first login made known.
                    client.cookies.clear()
                    with count_statements() as log, count_round_trips() as trips:
                        response = await client.post("/graphql", content=body, headers=headers)
                    assert "errors" not in response.json(), response.text
                    # The floor's statements are its round trips but the pool's reset query.
                    resets = sum("RESET ALL" in sent for sent in trips)
                    statements = len(trips) - resets if kind == "floor" else log.count
                    counts[kind][workload] = (statements, len(trips))
    switch_loaders(batching=True)
    return counts


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


def same_body(url_a: str, url_b: str, workload: str, token: str) -> bool:
    """The same bytes from both servers (compiled and generic: one app, two executors)."""
    body = body_of(workload)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    a = httpx.post(f"{url_a}/graphql", content=body, headers=headers)
    b = httpx.post(f"{url_b}/graphql", content=body, headers=headers)
    return a.status_code == b.status_code and a.content == b.content


def settle(pid: int, *, limit: float = 30.0) -> None:
    """Wait until the process has been idle for half a second (or `limit` seconds passed)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.05:  # idle: under a tenth of a core
            return


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:  # noqa: C901, PLR0912, PLR0915 (one linear script)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--offers", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=8, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per workload")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DB_NAME", "bff_bench"))
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (e.g. a worktree of main) whose app runs as the variant baseline",
    )
    parser.add_argument(
        "--login-connections",
        type=int,
        default=4,
        help="login is argon2-bound: a few connections keep its queue within a measurement",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    workloads = [w for w in args.workloads.split(",") if w]

    base, _, _ = args.admin_url.rpartition("/")
    dsn = f"{base}/{args.database}"
    database_url = dsn.replace("postgresql://", "postgres://", 1)
    secret = secrets.token_urlsafe(16)
    # No messages worker inside the served app (development's default): its polling and the
    # seed's expiry notices would count as the app's CPU and statements.
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, worker_in_process=False
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "WORKER_IN_PROCESS": "false",
        "REDIS_URL": "",
        "PYTHONPATH": str(ROOT),
        # Four servers at once on a PostgreSQL that other work shares: ten connections each is
        # more than one worker at 32 concurrent requests keeps busy.
        "DATABASE_POOL_MAX": os.environ.get("DATABASE_POOL_MAX", "10"),
    }

    started = time.perf_counter()
    print(f"load average before: {load_average()}", flush=True)
    asyncio.run(fresh_database(args.admin_url, args.database))
    from bff.db.connection import migrate  # noqa: PLC0415

    asyncio.run(migrate(settings))
    print(
        asyncio.run(
            seed(dsn, members=args.members, offers=args.offers, secret=secret, settings=settings)
        ),
        flush=True,
    )
    counts = asyncio.run(count_per_request(settings, member_token(2, secret)))

    variants = list(SERVERS) + (["baseline"] if args.baseline else [])
    results = {(v, w): Measure() for v in variants for w in workloads}
    identical: dict[str, bool] = {}
    compiled_identical: dict[str, bool] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".tokens") as tokens, ExitStack() as stack:
        tokens.write("\n".join(member_token(i, secret) for i in range(1, args.members + 1)))
        tokens.flush()
        token_file = Path(tokens.name)
        served = {
            kind: stack.enter_context(
                server(kind, env=env, cwd=args.baseline if kind == "baseline" else ROOT)
            )
            for kind in variants
        }
        for workload in workloads:
            if workload != "login":
                identical[workload] = same_json(
                    served["generic"][0], served["floor"][0], workload, member_token(3, secret)
                )
                compiled_identical[workload] = same_body(
                    served["compiled"][0], served["generic"][0], workload, member_token(3, secret)
                )
        for workload in workloads:
            login = workload == "login"
            seconds = 2 * args.seconds if login else args.seconds
            connections = args.login_connections if login else args.connections
            for round_number in range(args.rounds):
                # Alternate, starting each round with another variant, so a change in the
                # machine's load falls on every variant alike.
                order = (
                    variants[round_number % len(variants) :]
                    + variants[: round_number % len(variants)]
                )
                for kind in order:
                    url, pid = served[kind]
                    if not login:  # login's queue of hashes would outlive a warm-up
                        wrk(
                            url,
                            workload,
                            seconds=1,
                            connections=connections,
                            tokens=token_file,
                        )
                        settle(pid)
                    app_before = cpu_seconds(pid)
                    db_before = database_cpu(args.database)
                    raw = wrk(
                        url,
                        workload,
                        seconds=seconds,
                        connections=connections,
                        tokens=token_file,
                    )
                    app_after = cpu_seconds(pid)
                    db_after = database_cpu(args.database)
                    measure = results[kind, workload]
                    measure.requests += raw["requests"]
                    measure.seconds += raw["seconds"]
                    measure.bad += raw["bad"] + raw["socket_errors"]
                    measure.app_cpu += app_after - app_before
                    measure.db_cpu += sum(
                        cpu - db_before.get(pid_, 0.0) for pid_, cpu in db_after.items()
                    )
                    measure.p50_ms.append(raw["p50_ms"])
                    measure.p99_ms.append(raw["p99_ms"])
                    # The requests wrk left in flight finish before the next variant runs.
                    settle(pid)
                    print(
                        f"  round {round_number + 1} {workload:13} {kind:8} "
                        f"{raw['requests'] / raw['seconds']:7.1f} req/s",
                        flush=True,
                    )

    print(
        f"\n== one uvicorn worker per variant, {args.connections} connections, "
        f"{args.rounds} x {args.seconds} s per variant and workload (login 2x), "
        f"{os.cpu_count()} cores shared by wrk, uvicorn, PostgreSQL and whatever else runs"
    )
    header = (
        f"{'variant':8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'app CPU ms':>10} "
        f"{'PG CPU ms':>9} {'statements':>10} {'round trips':>11} {'bad':>4}"
    )
    for workload in workloads:
        print(
            f"\n{workload}"
            + (
                f" (floor JSON identical: {'yes' if identical[workload] else 'NO'}; "
                f"compiled bytes identical to generic: "
                f"{'yes' if compiled_identical[workload] else 'NO'})"
                if workload in identical
                else ""
            )
        )
        print("  " + header)
        for kind in variants:
            m = results[kind, workload]
            statements, trips = (str(n) for n in counts.get(kind, {}).get(workload, ("-", "-")))
            latency = f"{max(m.p50_ms):7.1f} {max(m.p99_ms):7.1f}"
            print(
                f"  {kind:8} {m.requests_per_second:7.1f} {latency} "
                f"{m.per_request_ms(m.app_cpu):10.2f} {m.per_request_ms(m.db_cpu):9.2f} "
                f"{statements:>10} {trips:>11} {m.bad:4d}"
            )
    print()
    for workload in workloads:
        floor = results["floor", workload].requests_per_second
        for kind in variants:
            if kind != "floor":
                value = results[kind, workload].requests_per_second / floor if floor else 0.0
                print(f"ratio {workload} {kind}/floor {value:.2f}")
    print(f"\nload average after: {load_average()}; total {time.perf_counter() - started:.0f} s")
    bad = any(m.bad for m in results.values())
    if bad:
        print("BAD RESPONSES (errors, a null member or a non-200 status): see the bad column")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
