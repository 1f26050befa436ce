"""The Dockerfile and compose.yaml (docs/deploy.md) say what the deploy page promises. No image
is built here (the machine has no Docker daemon); these read the files."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bff.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_postgres_redis_a_migration_two_bff_processes_and_a_worker():
    services = compose()["services"]

    assert set(services) == {
        "postgres",
        "redis",
        "migrate",
        "bff-1",
        "bff-2",
        "worker",
        "messages",
    }
    assert services["migrate"]["command"] == ["bff", "migrate"]
    assert services["messages"]["command"] == ["bff", "worker"]
    assert "bff prune" in " ".join(services["worker"]["command"])
    assert services["bff-1"]["ports"] != services["bff-2"]["ports"]


def test_the_compose_settings_pass_the_production_checks():
    """Even its placeholders are shaped like real secrets, so `bff serve` starts."""
    environment = compose()["services"]["bff-1"]["environment"]
    values = {
        name.lower(): DEFAULT.sub(lambda match: match.group(1), str(value))
        for name, value in environment.items()
    }

    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]

    assert settings.is_production
    assert settings.production_problems() == []


def test_the_image_runs_as_an_unprivileged_user_with_the_manifest_and_a_portal_stage():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^USER 10001$", dockerfile, re.MULTILINE)
    assert "TRUSTED_DOCUMENTS_MANIFEST=/app/clients/manifest.json" in dockerfile
    assert "AS portal" in dockerfile
    assert "MARKED FOR THE PORTAL" in dockerfile
