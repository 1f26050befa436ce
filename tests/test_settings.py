"""Settings: documented in .env.example, and refused in production when unsafe."""

from __future__ import annotations

from pathlib import Path

import pytest

from bff.cli import run
from bff.settings import DEVELOPMENT_INTERNAL_API_KEY, Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent


def test_env_example_documents_every_setting_and_parses():
    """Each Settings field appears in .env.example, and the file itself is valid."""

    example = ROOT / ".env.example"
    names = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    }

    parsed = Settings(_env_file=example)  # type: ignore[call-arg]

    assert {name.upper() for name in Settings.model_fields} == names
    assert parsed.database_url == "sqlite://bff.sqlite3"


def test_production_refuses_default_secret_sqlite_and_graphiql():
    """Production names each unsafe setting instead of starting."""

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, bff_env="production", graphiql=True, introspection=True
    )

    problems = "\n".join(settings.production_problems())

    for setting in ("SECRET_KEY", "DATABASE_URL", "GRAPHIQL", "INTROSPECTION", "TOTP_ENCRYPTION"):
        assert setting in problems


def production_settings(*, internal_api_keys: str) -> Settings:
    """Production settings with every other setting fixed, read from nothing but these."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bff_env="production",
        secret_key="s" * 48,
        totp_encryption_keys="k" * 44,
        database_url="postgres://bff@db/bff",
        internal_api_keys=internal_api_keys,
    )


def test_production_with_every_setting_fixed_is_runnable():
    """A complete production configuration has no problems."""

    settings = production_settings(internal_api_keys="store-key")

    assert settings.production_problems() == []
    assert not settings.graphiql_enabled
    assert not settings.introspection_enabled


def test_production_refuses_the_development_store_key():
    """`make run`'s printed store API key is never accepted in production, not even among others."""

    settings = production_settings(internal_api_keys=f"store-key,{DEVELOPMENT_INTERNAL_API_KEY}")

    problems = settings.production_problems()

    assert len(problems) == 1
    assert problems[0].startswith("INTERNAL_API_KEYS:")
    assert DEVELOPMENT_INTERNAL_API_KEY in problems[0]


def test_serve_refuses_to_start_in_production_with_defaults(monkeypatch, capsys):
    """`bff serve` exits 2 and says which setting to fix."""

    monkeypatch.setenv("BFF_ENV", "production")
    monkeypatch.chdir(ROOT / "tests")

    get_settings.cache_clear()

    code = run(["serve"])

    get_settings.cache_clear()
    assert code == 2
    assert "SECRET_KEY" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["P7D", "604800"])
def test_durations_accept_iso_8601_and_seconds(value):
    """Durations in .env can be ISO 8601 or seconds."""

    settings = Settings(_env_file=None, session_idle_timeout=value)  # type: ignore[call-arg]

    assert settings.session_idle_timeout.days == 7
