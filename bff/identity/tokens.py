"""Opaque random tokens, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits from the OS CSPRNG


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def text_bytes(text: str) -> bytes:
    """UTF-8 of any string a client can send: JSON allows unpaired surrogates ("\\ud800"), which
    plain `encode()` refuses with an exception, so secrets and keys are hashed from this."""
    return text.encode("utf-8", "surrogatepass")


def token_hash(token: str) -> str:
    """SHA-256 hex: tokens carry 256 random bits, so a fast hash is enough (no dictionary)."""
    return hashlib.sha256(text_bytes(token)).hexdigest()
