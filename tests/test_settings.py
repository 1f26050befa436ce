"""Settings: documented in .env.example, and refused in production when unsafe."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bff.cli import run
from bff.settings import DEVELOPMENT_INTERNAL_API_KEY, Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
STORE_KEY = "store-key-" + "r" * 32


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


def production_settings(*, internal_api_keys: str = STORE_KEY, **overrides: object) -> Settings:
    """Production settings with every other setting fixed, read from nothing but these."""
    values: dict[str, object] = {
        "bff_env": "production",
        "secret_key": "s" * 48,
        "totp_encryption_keys": Fernet.generate_key().decode(),
        "database_url": "postgres://bff@db/bff",
        "internal_api_keys": internal_api_keys,
        "cors_origins": "https://portal.example",
        "mail_url": "smtp://bff:secret@mail.example:587",
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg,arg-type]


def test_production_with_every_setting_fixed_is_runnable():
    """A complete production configuration has no problems."""

    settings = production_settings()

    assert settings.production_problems() == []
    assert not settings.graphiql_enabled
    assert not settings.introspection_enabled


def test_production_refuses_the_development_store_key():
    """`make run`'s printed store API key is never accepted in production, not even among others."""

    settings = production_settings(internal_api_keys=f"{STORE_KEY},{DEVELOPMENT_INTERNAL_API_KEY}")

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


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"totp_encryption_keys": "k" * 44}, "TOTP_ENCRYPTION_KEYS"),
        ({"internal_api_keys": "x"}, "INTERNAL_API_KEYS"),
        ({"cors_origins": "*"}, "CORS_ORIGINS"),
        ({"cors_origins": "http://localhost:5173,https://portal.example"}, "CORS_ORIGINS"),
        ({"redis_url": "redis://cache:6379/0"}, "EVENTS_CHANNEL"),
    ],
    ids=["totp-not-fernet", "short-store-key", "cors-star", "cors-localhost", "shared-channel"],
)
def test_production_names_each_broken_setting_the_server_would_have_started_with(
    overrides, setting
):
    problems = production_settings(**overrides).production_problems()

    assert len(problems) == 1
    assert problems[0].startswith(f"{setting}:")


def test_a_redis_deployment_with_its_own_events_channel_is_runnable():
    settings = production_settings(redis_url="redis://cache:6379/0", events_channel="bff:portal")

    assert settings.production_problems() == []


def test_production_refuses_mail_to_a_folder_or_in_clear():
    """file:// is development's; SMTP without TLS leaks mail and its links."""
    for url in ("file://mail", "smtp://relay.local:25?tls=none"):
        settings = production_settings(mail_url=url)

        assert settings.production_problems() == [
            "MAIL_URL: use smtp:// (STARTTLS) or smtps:// in production"
        ]
