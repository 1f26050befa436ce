"""`make fuzz` / `python -m fuzz`: schemathesis against /graphql, anonymous and signed in.

Serves the BFF on SQLite (a fresh database with the demo data, port 8690 unless FUZZ_PORT says
otherwise) with `bff serve`, then runs schemathesis's GraphQL fuzzer twice: anonymously, and with
the demo member's bearer token (the mutations that end that session left out, so the run stays
signed in). It fails on any server error (`fuzz/hooks.py`: an HTTP 5xx, or an unexpected
exception masked as INTERNAL_SERVER_ERROR) and prints how many cases ran. Generation is
deterministic, so a run repeats; `FUZZ_EXAMPLES` sets the cases per operation.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORT = int(os.environ.get("FUZZ_PORT", "8690"))
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "100")
STORE_KEY = "fuzz-store-key-" + "f" * 24
# Mutations that end the fuzzer's own session or account: the signed-in run keeps its token.
SESSION_ENDERS = (
    "logout|revokeSession|revokeOtherSessions|closeAccount|changePassword|disableTwoFactor"
)
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password, sessionTransport: BEARER}) { token }
}
"""


def serve(database: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BFF_ENV": "development",
        "DATABASE_URL": f"sqlite://{database}",
        "INTERNAL_API_KEYS": STORE_KEY,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST_KIB": "1024",
        # The fuzzer is one address sending thousands of requests: give it room.
        "THROTTLE_MAX_DELAY_SECONDS": "0",
        "REGISTER_PER_ADDRESS_PER_WINDOW": "100000",
        "WS_CONNECTIONS_PER_ADDRESS": "1000",
        "LOG_LEVEL": "WARNING",
    }
    bff = str(BIN / "bff")
    subprocess.run([bff, "migrate"], env=env, check=True, cwd=database.parent)
    seeded = subprocess.run(
        [bff, "seed-demo"], env=env, check=True, cwd=database.parent, capture_output=True, text=True
    )
    match = re.search(r"sign in as\s+(\S+) / (\S+)", seeded.stdout)
    if match is None:
        raise SystemExit(f"no demo login in:\n{seeded.stdout}")
    env["FUZZ_DEMO_EMAIL"], env["FUZZ_DEMO_PASSWORD"] = match.groups()
    server = subprocess.Popen([bff, "serve", "--port", str(PORT)], env=env, cwd=database.parent)
    server.demo = match.groups()  # type: ignore[attr-defined]
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


def token(email: str, password: str) -> str:
    response = httpx.post(
        f"http://127.0.0.1:{PORT}/graphql",
        json={"query": LOGIN, "variables": {"email": email, "password": password}},
    )
    value = response.json()["data"]["login"]["token"]
    if not value:
        raise SystemExit(f"demo login failed: {response.text}")
    return str(value)


def fuzz(name: str, extra: list[str], report: Path) -> dict[str, int]:
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"http://127.0.0.1:{PORT}/graphql",
        "--checks",
        "bff_no_server_error",
        "--max-examples",
        EXAMPLES,
        "--generation-deterministic",
        "--workers",
        "2",
        "--phases",
        "examples,fuzzing",
        "--suppress-health-check",
        "all",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        *extra,
    ]
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz.hooks", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, check=False, env=env, cwd=ROOT)
    cases = failures = 0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished") or {}
        recorder = finished.get("recorder") or {}
        cases += len(recorder.get("cases") or {})
        failures += sum(
            1
            for checks in (recorder.get("checks") or {}).values()
            for check in checks
            if check.get("status") == "FAILURE"
        )
    return {"exit": done.returncode, "cases": cases, "failures": failures}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bff-fuzz-") as folder:
        server = serve(Path(folder) / "fuzz.sqlite3")
        try:
            email, password = server.demo  # type: ignore[attr-defined]
            results = {
                "anonymous": fuzz("anonymous", [], Path(folder) / "anonymous.ndjson"),
                "signed in": fuzz(
                    "signed in",
                    [
                        "--header",
                        f"Authorization: Bearer {token(email, password)}",
                        "--exclude-name-regex",
                        f"^Mutation\\.({SESSION_ENDERS})$",
                    ],
                    Path(folder) / "signed-in.ndjson",
                ),
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    for name, result in results.items():
        print(f"{name:10}  {result['cases']} cases recorded  {result['failures']} server errors")
    return 0 if all(r["exit"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
