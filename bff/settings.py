"""One settings object, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import itertools
import os
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Self
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105 (refused in production)
# The store API key `make run` serves with (its STORE_KEY): printed for anyone to copy, so
# production refuses it.
DEVELOPMENT_INTERNAL_API_KEY = "dev-store-key"
# Blue, Silver, Gold (bff.loyalty.tiers.TierCode): the settings name each, lowest first.
TIER_COUNT = 3


DEFAULT_EVENTS_CHANNEL = "bff:events"
# `bff generate-secrets` makes 43; a short key can be guessed through the API.
MIN_INTERNAL_API_KEY_LENGTH = 32


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key)
    except (ValueError, TypeError):
        return False
    return True


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of the BFF; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_ignore_empty=True
    )

    bff_env: Environment = Environment.DEVELOPMENT
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    totp_encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    database_url: str = "sqlite://bff.sqlite3"
    database_pool_max: int = 20
    redis_url: str | None = None

    graphiql: bool | None = None
    introspection: bool | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:5173", "http://127.0.0.1:5173"]
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 1_000_000
    request_body_timeout: timedelta = timedelta(seconds=10)
    max_query_depth: int = 12
    max_query_bytes: int = 50_000
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_directives: int = 10
    max_operations_per_request: int = 10
    max_page_size: int = 100
    trusted_documents_only: bool = False
    trusted_documents_manifest: str = "clients/manifest.json"
    persisted_queries_max: int = 1_000
    persisted_query_max_bytes: int = 20_000
    persisted_queries_cache_bytes: int = 10_000_000
    persisted_queries_redis_bytes: int = 50_000_000
    persisted_queries_ttl: timedelta = timedelta(days=7)
    persisted_query_registrations_per_address: int = 50
    compiled_execution: bool = True
    compiled_execution_threshold: int = Field(default=20, ge=1)
    compiled_execution_cache_size: int = Field(default=256, ge=0)
    web_dist: str = "clients/web/dist"
    log_json: bool | None = None
    log_level: str = "INFO"

    session_idle_timeout: timedelta = timedelta(days=7)
    session_absolute_lifetime: timedelta = timedelta(days=30)
    two_factor_challenge_ttl: timedelta = timedelta(minutes=5)
    terms_version: str = "2026-01"
    # One core fewer than the machine has: hashing never starves the event loop of CPU.
    password_hashes_in_flight: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) - 1), ge=1
    )
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65_536
    argon2_parallelism: int = 1
    throttle_free_failures: int = 5
    throttle_max_failures: int = 20
    throttle_account_max_failures: int = 100
    throttle_window: timedelta = timedelta(minutes=15)
    throttle_max_delay_seconds: float = 2.0
    register_per_address_per_window: int = 20

    internal_api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    max_cards_per_member: int = 5
    currency_units_per_point: Decimal = Decimal(10)
    points_return_window: timedelta = timedelta(days=14)
    points_lifetime: timedelta = timedelta(days=365)
    points_expiring_soon: timedelta = timedelta(days=30)
    purchase_clock_skew: timedelta = timedelta(minutes=5)
    program_name: str = "Metropolia"
    tier_names: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["Blue", "Silver", "Gold"]
    )
    tier_thresholds: Annotated[list[Decimal], NoDecode] = Field(
        default_factory=lambda: [Decimal(0), Decimal(150_000), Decimal(500_000)]
    )
    tier_multipliers: Annotated[list[Decimal], NoDecode] = Field(
        default_factory=lambda: [Decimal("1.00"), Decimal("1.25"), Decimal("1.50")]
    )
    # A JSON list per tier, lowest first.
    tier_benefits: list[list[str]] = Field(
        default_factory=lambda: [
            ["Points on every purchase", "Personal offers"],
            ["1.25 points per point earned", "Offers for Silver and up"],
            ["1.5 points per point earned", "Offers for Gold", "Priority checkout"],
        ]
    )
    tier_window_full_months: int = Field(default=3, ge=0, le=24)

    subscription_init_timeout: timedelta = timedelta(seconds=10)
    max_subscriptions_per_connection: int = 10
    subscription_session_check_interval: timedelta = timedelta(seconds=60)
    events_channel: str = DEFAULT_EVENTS_CHANNEL
    tracing_enabled: bool = False
    tracing_otlp_endpoint: str | None = "http://localhost:4318/v1/traces"
    tracing_service_name: str = "member-portal-bff"
    metrics_enabled: bool | None = None
    metrics_token: SecretStr | None = None
    ws_max_frame_bytes_before_auth: int = 8_192
    ws_max_frame_bytes: int = 65_536
    ws_connections_per_address: int = 20

    # Messages (docs/messages.md): where mail goes, links in it, the worker and its retries.
    mail_url: str = "file://mail"
    mail_from: str = "Member portal <no-reply@example.com>"
    portal_url: str = "http://127.0.0.1:5173"
    public_url: str = "http://127.0.0.1:8000"
    push_url: str | None = None
    push_api_key: SecretStr | None = None
    worker_in_process: bool | None = None
    worker_concurrency: int = Field(default=10, ge=1)
    worker_poll_interval: timedelta = timedelta(seconds=5)
    outbox_relay_interval: timedelta = timedelta(seconds=5)
    job_heartbeat_interval: timedelta = timedelta(seconds=10)
    job_stalled_after: timedelta = timedelta(seconds=30)
    messages_retention: timedelta = timedelta(days=30)
    delivery_max_attempts: int = Field(default=8, ge=1)
    delivery_retry_base: timedelta = timedelta(seconds=30)
    email_verification_ttl: timedelta = timedelta(hours=24)
    password_reset_ttl: timedelta = timedelta(minutes=30)
    email_change_ttl: timedelta = timedelta(hours=24)
    mail_requests_per_window: int = Field(default=5, ge=1)

    @field_validator(
        "cors_origins",
        "trusted_proxies",
        "internal_api_keys",
        "totp_encryption_keys",
        "tier_names",
        "tier_thresholds",
        "tier_multipliers",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator(
        "session_idle_timeout",
        "session_absolute_lifetime",
        "two_factor_challenge_ttl",
        "throttle_window",
        "points_return_window",
        "points_lifetime",
        "points_expiring_soon",
        "purchase_clock_skew",
        "subscription_init_timeout",
        "request_body_timeout",
        "subscription_session_check_interval",
        "persisted_queries_ttl",
        "worker_poll_interval",
        "outbox_relay_interval",
        "job_heartbeat_interval",
        "job_stalled_after",
        "messages_retention",
        "delivery_retry_base",
        "email_verification_ttl",
        "password_reset_ttl",
        "email_change_ttl",
        mode="before",
    )
    @classmethod
    def _seconds(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return value

    @model_validator(mode="after")
    def _three_tiers(self) -> Self:
        """One name, threshold, multiplier and benefit list per tier; the lowest tier starts at
        0 and each threshold is above the one before."""
        tiers = (self.tier_names, self.tier_thresholds, self.tier_multipliers, self.tier_benefits)
        if any(len(values) != TIER_COUNT for values in tiers):
            raise ValueError(
                f"TIER_NAMES, TIER_THRESHOLDS, TIER_MULTIPLIERS and TIER_BENEFITS need {TIER_COUNT}"
                " entries each (Blue, Silver, Gold)"
            )
        thresholds = self.tier_thresholds
        if thresholds[0] != 0 or any(a >= b for a, b in itertools.pairwise(thresholds)):
            raise ValueError("TIER_THRESHOLDS must start at 0 and rise")
        if any(multiplier < 1 for multiplier in self.tier_multipliers):
            raise ValueError("TIER_MULTIPLIERS must be at least 1")
        return self

    @property
    def is_production(self) -> bool:
        return self.bff_env is Environment.PRODUCTION

    @property
    def graphiql_enabled(self) -> bool:
        return not self.is_production if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return not self.is_production if self.introspection is None else self.introspection

    @property
    def metrics_on(self) -> bool:
        return not self.is_production if self.metrics_enabled is None else self.metrics_enabled

    @property
    def json_logs(self) -> bool:
        return self.is_production if self.log_json is None else self.log_json

    @property
    def runs_worker_in_process(self) -> bool:
        return not self.is_production if self.worker_in_process is None else self.worker_in_process

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def production_problems(self) -> list[str]:
        """What keeps this configuration from running in production, one line per setting."""
        if not self.is_production:
            return []
        problems = []
        secret = self.secret_key.get_secret_value()
        if secret == DEVELOPMENT_SECRET_KEY or len(secret) < 32:  # noqa: PLR2004 (256-bit minimum)
            problems.append("SECRET_KEY: set a random value of at least 32 characters")
        if not self.totp_encryption_keys:
            problems.append("TOTP_ENCRYPTION_KEYS: set at least one Fernet key")
        elif not all(_is_fernet_key(key.get_secret_value()) for key in self.totp_encryption_keys):
            problems.append(
                "TOTP_ENCRYPTION_KEYS: each key must be a Fernet key (`bff generate-secrets`)"
            )
        problems.extend(self._origin_problems())
        problems.extend(self._shared_redis_problems())
        if self.metrics_on and not self.metrics_token:
            problems.append("METRICS_TOKEN: set one (scrapers send it as a bearer token)")
        if self.uses_sqlite:
            problems.append("DATABASE_URL: use PostgreSQL (postgres://...), not SQLite")
        if self.mail_url.startswith("file:") or "tls=none" in self.mail_url:
            problems.append("MAIL_URL: use smtp:// (STARTTLS) or smtps:// in production")
        if self.graphiql_enabled:
            problems.append("GRAPHIQL: must be false in production")
        if self.introspection_enabled:
            problems.append("INTROSPECTION: must be false in production")
        problems.extend(self._internal_api_key_problems())
        return problems

    def _internal_api_key_problems(self) -> list[str]:
        keys = [key.get_secret_value() for key in self.internal_api_keys]
        if not keys:
            return ["INTERNAL_API_KEYS: set at least one key for the store systems"]
        if DEVELOPMENT_INTERNAL_API_KEY in keys:
            return [
                (
                    f"INTERNAL_API_KEYS: {DEVELOPMENT_INTERNAL_API_KEY} is `make run`'s "
                    "development key; set keys of your own (`bff generate-secrets`)"
                )
            ]
        if any(len(key) < MIN_INTERNAL_API_KEY_LENGTH for key in keys):
            return [
                (
                    f"INTERNAL_API_KEYS: each key needs at least {MIN_INTERNAL_API_KEY_LENGTH} "
                    "random characters (`bff generate-secrets`)"
                )
            ]
        return []

    def _shared_redis_problems(self) -> list[str]:
        if self.redis_url and self.events_channel == DEFAULT_EVENTS_CHANNEL:
            return [
                (
                    "EVENTS_CHANNEL: set a channel of this deployment's own (e.g. "
                    "bff:events:portal); another deployment on the same Redis would get its events"
                )
            ]
        return []

    def _origin_problems(self) -> list[str]:
        if "*" in self.cors_origins:
            return ["CORS_ORIGINS: list the portal's origins; `*` would let any site call it"]
        local = [
            origin
            for origin in self.cors_origins
            if urlsplit(origin).hostname in {"localhost", "127.0.0.1", "::1"}
        ]
        if local:
            names = ", ".join(local)
            return [f"CORS_ORIGINS: {names} are development origins; list the portal's https ones"]
        return []


class ConfigurationError(Exception):
    """Raised when the settings cannot run in the selected environment."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
