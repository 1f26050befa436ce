"""RFC 8058 one-click unsubscribe from marketing mail: a signed link per member."""

from __future__ import annotations

import hashlib
import hmac

from bff.profile.services import update_preferences
from bff.settings import Settings


def _signature(member_id: int, settings: Settings) -> str:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"unsubscribe:{member_id}".encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe_url(*, member_id: int, settings: Settings) -> str:
    return f"{settings.public_url}/unsubscribe?token={member_id}.{_signature(member_id, settings)}"


async def unsubscribe(*, token: str, settings: Settings) -> bool:
    """Turn marketing mail off for the member the token names; False for a forged token."""
    member_part, _, signature = token.partition(".")
    if not member_part.isdigit() or len(member_part) > 18:  # noqa: PLR2004 (a BIGINT's digits)
        return False
    member_id = int(member_part)
    if not hmac.compare_digest(signature, _signature(member_id, settings)):
        return False
    await update_preferences(member_id=member_id, changes={"marketing_by_email": False})
    return True
