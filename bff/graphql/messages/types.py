"""GraphQL types of messages: `Notification`, `PushDevice`, their payloads and inputs."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from bff.graphql.context import Info
from bff.graphql.errors import UserError
from bff.graphql.messages.loaders import NotificationByIdLoader
from bff.graphql.node import register_node
from bff.graphql.relay import Node, node_id
from bff.messages import models
from bff.outbox import MessageKind
from bff.outbox.models import Notification as NotificationRow


@strawberry.enum
class NotificationKind(Enum):
    POINTS_CREDITED = "POINTS_CREDITED"
    POINTS_EXPIRING = "POINTS_EXPIRING"
    CARD_STATUS_CHANGED = "CARD_STATUS_CHANGED"
    PERSONAL_OFFER = "PERSONAL_OFFER"
    TIER_CHANGED = "TIER_CHANGED"
    COUPON_ISSUED = "COUPON_ISSUED"
    NEW_SIGN_IN = strawberry.enum_value(
        "NEW_SIGN_IN", description="Security notices below cannot be switched off."
    )
    PASSWORD_CHANGED = "PASSWORD_CHANGED"  # noqa: S105 (a kind name)
    TWO_FACTOR_DISABLED = "TWO_FACTOR_DISABLED"
    EMAIL_CHANGE_REQUESTED = "EMAIL_CHANGE_REQUESTED"


@strawberry.enum
class PushPlatform(Enum):
    ANDROID = "ANDROID"
    IOS = "IOS"
    WEB = "WEB"


@strawberry.type
class Notification(Node):
    pk: strawberry.Private[int]
    id: strawberry.ID
    kind: NotificationKind
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_model(cls, row: NotificationRow) -> Self:
        return cls(
            pk=row.id,
            id=node_id("Notification", row.id),
            kind=NotificationKind(MessageKind(row.kind).value),
            title=row.title,
            body=row.body,
            created_at=row.created_at,
            read_at=row.read_at,
        )


@strawberry.type
class PushDevice(Node):
    pk: strawberry.Private[int]
    id: strawberry.ID
    platform: PushPlatform
    name: str | None
    created_at: datetime
    last_seen_at: datetime

    @classmethod
    def from_model(cls, row: models.PushDevice) -> Self:
        return cls(
            pk=row.id,
            id=node_id("PushDevice", row.id),
            platform=PushPlatform(row.platform.value),
            name=row.name,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
        )


@strawberry.type
class PushDevicePayload:
    device: PushDevice | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(
    description=(
        "ok: the request was taken. requestPasswordReset answers the same whether or not the "
        "address is known."
    )
)
class RequestAcceptedPayload:
    ok: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Null marks every notification read."
    )


@strawberry.input
class RegisterPushDeviceInput:
    platform: PushPlatform
    token: str
    name: str | None = None


@strawberry.input
class PushDeviceIdInput:
    device_id: strawberry.ID


@strawberry.input
class TokenInput:
    token: str


@strawberry.input
class RequestPasswordResetInput:
    email: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str


@strawberry.input
class RequestEmailChangeInput:
    new_email: str
    password: str


async def notification_node(info: Info, pk: int) -> Notification | None:
    member = await info.context.member()
    row = await info.context.loader(NotificationByIdLoader).load(pk)
    if member is None or row is None or row.member_id != member.id:
        return None
    return Notification.from_model(row)


register_node("Notification", notification_node)
