"""GraphQL types of the identity domain."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry
from strawberry.scalars import JSON

from bff.graphql.context import Info
from bff.graphql.errors import UserError
from bff.graphql.identity.loaders import LiveSessionsByMemberIdLoader
from bff.graphql.loyalty import member_fields as loyalty
from bff.graphql.loyalty.program import TierStatus, member_tier
from bff.graphql.loyalty.types import Card, PointsBalance, PointsEntry, Transaction
from bff.graphql.messages import member_fields as messages
from bff.graphql.messages.types import Notification, PushDevice
from bff.graphql.offers import member_fields as offers
from bff.graphql.offers.types import Offer
from bff.graphql.permissions import IsMember
from bff.graphql.profile import member_fields as profile
from bff.graphql.profile.types import Language, Preferences
from bff.graphql.relay import Connection, HasPk, Node, node_id
from bff.graphql.rewards import member_fields as rewards
from bff.graphql.rewards.types import Coupon
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
class Session(Node):
    id: strawberry.ID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str | None
    current: bool = strawberry.field(description="True for the session that made this request.")

    @classmethod
    def from_model(cls, session: models.Session, *, current_session_id: int | None) -> Self:
        return cls(
            id=node_id("Session", session.id),
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            expires_at=session.expires_at,
            user_agent=session.user_agent,
            current=session.id == current_session_id,
        )


async def live_sessions_of(root: HasPk, info: Info) -> list[Session]:
    """Only the member themself sees their devices; an empty list for anyone else."""
    session = await info.context.session()
    if session is None or session.member_id != root.pk:
        return []
    rows = await info.context.loader(LiveSessionsByMemberIdLoader).load(root.pk)
    return [Session.from_model(row, current_session_id=session.id) for row in rows]


@strawberry.type
class _MemberLeadingFields:
    """The fields of `Member` that the schema (the clients' contract) lists before `id`:
    Strawberry puts a base class's fields first, so they are declared here, ahead of `Node`."""

    pk: strawberry.Private[int]
    cards: list[Card] = strawberry.field(resolver=loyalty.cards)
    points: PointsBalance = strawberry.field(resolver=loyalty.points)
    points_history: Connection[PointsEntry] = strawberry.field(resolver=loyalty.points_history)
    transactions: Connection[Transaction] = strawberry.field(
        resolver=loyalty.purchases,
        description=(
            "Purchases on this member's cards, newest first. A cardId that is not one of the "
            "member's linked cards is a NOT_FOUND error."
        ),
    )
    offers: Connection[Offer] = strawberry.field(
        resolver=offers.offers,
        description=(
            "Offers this member can see: public, exclusive (ENROLLED only) and targeted to them."
        ),
        permission_classes=[IsMember],
    )


@strawberry.type
class Member(_MemberLeadingFields, Node):
    """A member with the fields of every domain: each resolver lives in its domain's package
    (graphql/<domain>/member_fields.py) and is named here, so this is the whole type."""

    registered_at: strawberry.Private[datetime]
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
    language: Language = strawberry.field(
        description="The language of the member's mail and notices (the portal adopts it)."
    )
    sessions: list[Session] = strawberry.field(
        resolver=live_sessions_of,
        description="The member's live sessions, most recently used first.",
    )
    preferences: Preferences = strawberry.field(resolver=profile.preferences)
    tier: TierStatus | None = strawberry.field(
        resolver=member_tier, description="The member's tier and progress; null unless ENROLLED."
    )
    data_export: JSON | None = strawberry.field(
        resolver=profile.data_export,
        description=(
            "Everything the portal holds on the member (profile, preferences, consent history, "
            "sessions, cards, purchases, points ledger) as one JSON document. Only for the "
            "signed-in member themself."
        ),
        permission_classes=[IsMember],
    )
    coupons: Connection[Coupon] = strawberry.field(
        resolver=rewards.coupons,
        description="Coupons bought with points, newest first; all statuses when status is null.",
        permission_classes=[IsMember],
    )
    notifications: Connection[Notification] = strawberry.field(
        resolver=messages.notifications, description="In-app notifications, newest first."
    )
    unread_notification_count: int = strawberry.field(resolver=messages.unread_notification_count)
    email_verified: bool = False
    push_devices: list[PushDevice] = strawberry.field(resolver=messages.push_devices)

    @classmethod
    def from_model(cls, member: models.Member) -> Self:
        return cls(
            pk=member.id,
            registered_at=member.created_at,
            id=node_id("Member", member.id),
            email=member.email or "",
            phone=member.phone,
            first_name=member.first_name,
            last_name=member.last_name,
            company_name=member.company_name,
            tax_id=member.tax_id,
            program_status=ProgramStatus(member.program_status.value),
            two_factor_enabled=member.totp_enabled_at is not None,
            language=Language(member.language),
            email_verified=member.email_verified_at is not None,
        )


@strawberry.type
class AuthPayload:
    member: Member | None = None
    token: str | None = strawberry.field(default=None, description="Only for BEARER sessions.")
    two_factor_challenge: str | None = strawberry.field(
        default=None,
        description=(
            "Set instead of a session when the member has two-factor authentication on: pass it "
            "to verifyTwoFactor."
        ),
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MemberPayload:
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    ok: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TwoFactorSetupPayload:
    secret: str | None = None
    provisioning_uri: str | None = strawberry.field(
        default=None, description="otpauth:// URI for authenticator apps."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmTwoFactorSetupPayload:
    recovery_codes: list[str] | None = strawberry.field(
        default=None, description="Ten one-time recovery codes, shown only once."
    )
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CloseAccountPayload:
    ok: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RegisterInput:
    email: str
    password: str
    first_name: str
    last_name: str
    phone: str | None = None
    company_name: str | None = None
    tax_id: str | None = None
    accept_terms: bool
    session_transport: SessionTransport | None = SessionTransport.COOKIE
    language: Language | None = strawberry.field(
        default=None,
        description=(
            "Of mail and notices; when null, the best match of the request's Accept-Language "
            "between Russian and English (Russian when neither is asked for)."
        ),
    )


@strawberry.input
class LoginInput:
    email: str
    password: str
    session_transport: SessionTransport | None = SessionTransport.COOKIE


@strawberry.input
class VerifyTwoFactorInput:
    challenge: str
    code: str = strawberry.field(description="A 6-digit TOTP code or one unused recovery code.")


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class RevokeSessionInput:
    session_id: strawberry.ID


@strawberry.input
class ConfirmTwoFactorSetupInput:
    code: str


@strawberry.input
class DisableTwoFactorInput:
    password: str
    code: str


@strawberry.input
class CloseAccountInput:
    password: str
