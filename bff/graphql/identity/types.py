"""GraphQL types of the identity domain."""

from __future__ import annotations

from enum import Enum
from typing import Self

import strawberry

from bff.graphql.points.member_fields import MemberLoyaltyFields
from bff.graphql.relay import Node, to_global_id
from bff.identity import models


@strawberry.enum
class ProgramStatus(Enum):
    ENROLLED = "ENROLLED"
    OPTED_OUT = "OPTED_OUT"


@strawberry.enum
class SessionTransport(Enum):
    COOKIE = strawberry.enum_value(
        "COOKIE",
        description=(
            "The session travels in an HttpOnly cookie; the token never appears in a response "
            "body (web)."
        ),
    )
    BEARER = strawberry.enum_value(
        "BEARER",
        description=(
            "The token is returned in the payload and sent back as "
            "'Authorization: Bearer <token>' (mobile)."
        ),
    )


@strawberry.type
class Member(MemberLoyaltyFields, Node):
    id: strawberry.ID
    email: str
    phone: str | None
    first_name: str
    last_name: str
    company_name: str | None
    tax_id: str | None = strawberry.field(
        description="Russian INN of the member's business (10 or 12 digits, checksum-validated)."
    )
    program_status: ProgramStatus
    two_factor_enabled: bool

    @classmethod
    def from_model(cls, member: models.Member) -> Self:
        return cls(
            pk=member.id,
            id=to_global_id("Member", member.id),
            email=member.email or "",
            phone=member.phone,
            first_name=member.first_name,
            last_name=member.last_name,
            company_name=member.company_name,
            tax_id=member.tax_id,
            program_status=ProgramStatus(member.program_status.value),
            two_factor_enabled=member.totp_enabled_at is not None,
        )
