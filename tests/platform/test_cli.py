"""The operator's command line: help, schema drift check, configuration check, serve."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bff.cli import run
from bff.demo import DEMO_EMAIL
from bff.settings import DEVELOPMENT_INTERNAL_API_KEY, get_settings
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """Settings read afresh from the environment, with no .env file around."""
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_help_lists_every_command(capsys):
    """`bff --help` names what an operator can do."""

    with pytest.raises(SystemExit) as exited:
        run(["--help"])

    out = capsys.readouterr().out
    assert exited.value.code == 0
    for command in (
        "serve",
        "migrate",
        "seed-demo",
        "prune",
        "export-schema",
        "check-config",
        "generate-secrets",
    ):
        assert command in out


def test_export_schema_check_passes_when_the_file_matches_the_code(tmp_path, capsys):
    """A schema file written by export-schema is up to date."""
    path = tmp_path / "schema.graphql"
    run(["export-schema", "--output", str(path)])

    code = run(["export-schema", "--check", str(path)])

    assert code == 0
    assert "is up to date" in capsys.readouterr().out


def test_export_schema_check_fails_with_a_diff_when_the_file_drifted(tmp_path, capsys):
    """A schema file that differs from the code fails the check and shows the difference."""
    path = tmp_path / "schema.graphql"
    run(["export-schema", "--output", str(path)])
    path.write_text(path.read_text().replace("type Query {", "type Query {\n  removed: Int"))

    code = run(["export-schema", "--check", str(path)])

    captured = capsys.readouterr()
    assert code == 1
    assert "-  removed: Int" in captured.out
    assert "run `make schema` and commit it" in captured.err


def test_check_config_accepts_development_defaults(environment, capsys):
    """Development runs with defaults: exit 0."""

    code = run(["check-config"])

    assert code == 0
    assert capsys.readouterr().out.strip() == "development: ok"


def test_check_config_names_each_unsafe_production_setting(environment, capsys):
    """Production with defaults exits 1 and lists the settings to fix."""
    environment.setenv("BFF_ENV", "production")

    code = run(["check-config"])

    out = capsys.readouterr().out
    assert code == 1
    assert "SECRET_KEY" in out
    assert "DATABASE_URL" in out
    assert out.strip().endswith("production: not runnable")


def test_check_config_accepts_a_complete_production_configuration(environment, capsys):
    """Production with real secrets and PostgreSQL exits 0."""
    for name, value in {
        "BFF_ENV": "production",
        "SECRET_KEY": "s" * 48,
        "TOTP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgres://bff@db/bff",
        "INTERNAL_API_KEYS": "store-key-" + "r" * 32,
        "CORS_ORIGINS": "https://portal.example",
        "MAIL_URL": "smtp://bff:secret@mail.example:587",
    }.items():
        environment.setenv(name, value)

    code = run(["check-config"])

    assert code == 0
    assert capsys.readouterr().out.strip() == "production: ok"


def _wait_until_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        if server.poll() is not None:
            pytest.fail("the server exited during start-up")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"the server did not become ready at {url}")


def test_serve_logs_json_lines_and_shuts_down_gracefully_on_sigterm(tmp_path):
    """The real server writes JSON log lines with request ids; SIGTERM lets uvicorn finish, run
    the lifespan's shutdown (closing the pool) and exit.

    uvicorn re-raises the signal once shut down, so the exit status is the usual -SIGTERM.
    """
    env = {
        **os.environ,
        "BFF_ENV": "development",
        "DATABASE_URL": f"sqlite://{tmp_path / 'serve.sqlite3'}",
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
    }
    bff = [sys.executable, "-m", "bff.cli"]
    subprocess.run(  # noqa: S603 (our own command line)
        [*bff, "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True
    )
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 (our own command line)
            [*bff, "serve", "--port", str(port), "--graceful-timeout", "5"],
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_ready(f"http://127.0.0.1:{port}/readyz", server)
            answered = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "{ __typename }"},
                headers={"X-Request-ID": "served-1"},
            )

            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()

    # Every log line is JSON; only the GraphiQL address is printed as plain text.
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    messages = [record["message"] for record in records]
    graphql = [record for record in records if record.get("path") == "/graphql"]
    assert answered.json() == {"data": {"__typename": "Query"}}
    assert [(line["request_id"], line["status"]) for line in graphql] == [("served-1", 200)]
    assert code == -signal.SIGTERM
    assert "Application shutdown complete." in messages
    assert "database connections closed" in messages


def _bff(*args: str, database: Path) -> str:
    """Run the `bff` command line in a fresh process (as `make run` does); its output."""
    env = {
        **os.environ,
        "BFF_ENV": "development",
        "DATABASE_URL": f"sqlite://{database}",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST_KIB": "1024",
    }
    done = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "bff.cli", *args],
        env=env,
        cwd=database.parent,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _printed_password(output: str) -> str:
    match = re.search(rf"sign in as +{re.escape(DEMO_EMAIL)} / (\S+)", output)
    assert match, output
    return match.group(1)


def test_seed_demo_prints_a_working_demo_login_on_every_run(tmp_path):
    """`make run` runs `bff seed-demo --if-empty` each time: the second run loads nothing again
    but gives the demo member a new password and prints it, so a newcomer always has a login."""
    database = tmp_path / "demo.sqlite3"
    _bff("migrate", database=database)
    first = _bff("seed-demo", "--if-empty", database=database)

    second = _bff("seed-demo", "--if-empty", database=database)

    with sqlite3.connect(database) as db:
        (stored_hash,) = db.execute(
            "SELECT password_hash FROM member WHERE email = ?", (DEMO_EMAIL,)
        ).fetchone()
        (purchases,) = db.execute("SELECT COUNT(*) FROM purchase").fetchone()
    assert "demo data loaded" in first
    assert "new password" in second
    assert _printed_password(first) != _printed_password(second)
    assert PasswordHasher().verify(stored_hash, _printed_password(second))
    assert purchases == 200


def _makefile_store_key() -> str:
    match = re.search(r"^STORE_KEY \?= (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match
    return match.group(1)


def test_make_run_serves_the_store_api_with_the_development_key_production_refuses():
    """The key `make run` configures and prints is the one production names as unsafe."""

    key = _makefile_store_key()

    assert key == DEVELOPMENT_INTERNAL_API_KEY


async def test_the_store_key_make_run_prints_opens_the_internal_api(client_with):
    """The curl example `make run` prints issues a card with the key it configures."""
    key = _makefile_store_key()
    client = await client_with(internal_api_keys=[SecretStr(key)])

    response = await client.post(
        "/internal/v1/cards",
        headers={"X-Api-Key": key, "Content-Type": "application/json"},
        content="{}",
    )

    assert response.status_code == 201
    assert set(response.json()) == {"number", "verificationCode"}


def test_check_config_with_database_says_to_run_migrate_until_the_schema_is_current(tmp_path):
    database = tmp_path / "behind.sqlite3"
    env = {**os.environ, "BFF_ENV": "development", "DATABASE_URL": f"sqlite://{database}"}
    command = [sys.executable, "-m", "bff.cli", "check-config", "--database"]

    options = {"env": env, "cwd": tmp_path, "capture_output": True, "text": True}

    behind = subprocess.run(command, check=False, **options)  # noqa: S603 (our own command line)
    _bff("migrate", database=database)
    current = subprocess.run(command, check=False, **options)  # noqa: S603

    assert behind.returncode == 1
    assert "run `bff migrate`" in behind.stdout
    assert "0001_initial" in behind.stdout
    assert current.returncode == 0
    assert current.stdout.strip() == "development: ok"
