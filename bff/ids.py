"""Global ids ("Type:pk", base64url): the ids clients and store systems see for our rows."""

from __future__ import annotations

import base64
import binascii

from bff.errors import DomainError, ErrorCode

# Primary keys are BIGINT: a larger number names no row, and the databases refuse to compare it.
MAX_PRIMARY_KEY = 2**63 - 1


def to_global_id(type_name: str, pk: int) -> str:
    raw = f"{type_name}:{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """(type name, primary key) of a global id, or None when it is not one of ours."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        number = int(pk)
    except (ValueError, binascii.Error, UnicodeError):
        return None
    if not type_name or not 0 < number <= MAX_PRIMARY_KEY or str(number) != pk:
        return None
    return type_name, number


def expect_global_id(global_id: str, type_name: str, *, field: str) -> int:
    """The primary key of a global id of `type_name`; NOT_FOUND for anything else."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != type_name:
        raise DomainError(ErrorCode.NOT_FOUND, f"No {type_name.lower()} has this id.", field=field)
    return decoded[1]
