"""GraphQL types of the profile domain: preferences and the profile inputs."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from bff.profile import models


@strawberry.enum(description="The language of the member's mail and notices.")
class Language(Enum):
    RU = strawberry.enum_value("ru", description="Russian (the default).")
    EN = strawberry.enum_value("en", description="English.")


@strawberry.type
class Preferences:
    notify_by_email: bool
    notify_by_sms: bool
    notify_by_push: bool
    marketing_by_email: bool
    marketing_by_sms: bool
    marketing_by_push: bool
    updated_at: datetime

    @classmethod
    def from_model(cls, row: models.Preferences) -> Self:
        return cls(
            notify_by_email=row.notify_by_email,
            notify_by_sms=row.notify_by_sms,
            notify_by_push=row.notify_by_push,
            marketing_by_email=row.marketing_by_email,
            marketing_by_sms=row.marketing_by_sms,
            marketing_by_push=row.marketing_by_push,
            updated_at=row.updated_at,
        )


@strawberry.input
class UpdateProfileInput:
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = strawberry.field(default=None, description="E.164; empty clears it.")
    company_name: str | None = strawberry.field(default=None, description="Empty clears it.")
    tax_id: str | None = strawberry.field(default=None, description="INN; empty clears it.")
    language: Language | None = strawberry.field(
        default=None,
        description=("Of mail and notices from now on; those already on their way keep theirs."),
    )


@strawberry.input
class UpdatePreferencesInput:
    notify_by_email: bool | None = None
    notify_by_sms: bool | None = None
    notify_by_push: bool | None = None
    marketing_by_email: bool | None = None
    marketing_by_sms: bool | None = None
    marketing_by_push: bool | None = None
