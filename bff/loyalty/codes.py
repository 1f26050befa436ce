"""The 6-digit verification code printed on a card, stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

CODE_LENGTH = 6
_CODE = re.compile(r"[0-9]{6}")


def is_valid_code(code: str) -> bool:
    return bool(_CODE.fullmatch(code))


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def code_hash(*, number: str, code: str, secret_key: str) -> str:
    """HMAC-SHA256 of number and code: a million codes are trivial to try offline without the
    server's key, so a plain hash would not protect them."""
    message = f"{number}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def code_matches(*, stored_hash: str, number: str, code: str, secret_key: str) -> bool:
    candidate = code_hash(number=number, code=code, secret_key=secret_key)
    return hmac.compare_digest(stored_hash, candidate)
