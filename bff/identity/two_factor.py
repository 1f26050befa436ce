"""TOTP (RFC 6238) with encrypted secrets, replay protection and one-time recovery codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from functools import cache

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bff.identity.tokens import text_bytes
from bff.settings import Settings

ISSUER = "Member portal"
STEP_SECONDS = 30
DIGITS = 6
# A code of the previous or the next step is accepted too (clock drift, typing time).
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
# 10 characters of base32: 50 bits each, shown as two groups of five.
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    # Development without TOTP_ENCRYPTION_KEYS (refused in production): derive one key.
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"bff totp secret encryption"
    ).derive(secret_key.encode())
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def secret_box(settings: Settings) -> MultiFernet:
    """The first TOTP_ENCRYPTION_KEYS key encrypts; every listed key decrypts (rotation)."""
    return _fernet(
        tuple(key.get_secret_value() for key in settings.totp_encryption_keys),
        settings.secret_key.get_secret_value(),
    )


def new_secret() -> str:
    return pyotp.random_base32()


def encrypt_secret(secret: str, *, settings: Settings) -> str:
    return secret_box(settings).encrypt(secret.encode()).decode()


def decrypt_secret(token: str, *, settings: Settings) -> str | None:
    try:
        return secret_box(settings).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def provisioning_uri(secret: str, *, account: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def is_totp_shaped(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step (within ±1 of now) whose code is `code`, or None."""
    if not is_totp_shaped(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_code_hash(code: str, *, settings: Settings) -> str:
    """Keyed SHA-256 of the code without separators or case (50 random bits: no slow hash)."""
    canonical = "".join(code.split()).replace("-", "").lower()
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, text_bytes(canonical), hashlib.sha256).hexdigest()
