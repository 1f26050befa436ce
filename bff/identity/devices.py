"""Known devices: a browser or app where the member signed in with their password before.

A successful password sign-in hands the client a device token (the GraphQL layer keeps it in a
long-lived HttpOnly cookie). It is keyed to the account with SECRET_KEY, so it proves that this
device once knew the password; nothing is stored. A sign-in presenting it is not held back by
the account-wide failure count that strangers elsewhere run up (docs/identity.md, "Lockout"):
only its own (account, address) and address counts apply.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from bff.identity.tokens import text_bytes

if TYPE_CHECKING:
    from bff.settings import Settings

_NONCE_BYTES = 12
_MAC_CHARS = 43


def _mac(account: str, nonce: str, settings: Settings) -> str:
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, text_bytes(f"device\n{account}\n{nonce}"), hashlib.sha256)
    return digest.hexdigest()[:_MAC_CHARS]


def device_token(account: str, settings: Settings) -> str:
    """A new token saying "this device signed in as `account`"."""
    nonce = secrets.token_urlsafe(_NONCE_BYTES)
    return f"{nonce}.{_mac(account, nonce, settings)}"


def is_known_device(token: str | None, account: str, settings: Settings) -> bool:
    """Whether `token` was made by device_token for this account (with this SECRET_KEY)."""
    if not token or len(token) > 128:  # noqa: PLR2004 (far above a real token)
        return False
    nonce, _, mac = token.partition(".")
    return bool(nonce) and hmac.compare_digest(
        mac.encode(), _mac(account, nonce, settings).encode()
    )
