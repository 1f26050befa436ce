"""Request bodies of the internal API, validated with pydantic (422 with details on failure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
)
from pydantic.alias_generators import to_camel

ShortText = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class Body(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, frozen=True, str_strip_whitespace=True
    )


class CardBody(Body):
    number: StrictStr | None = None
    verification_code: StrictStr | None = None


class PurchaseBody(Body):
    receipt_id: ShortText
    card_number: StrictStr
    store_id: ShortText
    total: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    occurred_at: AwareDatetime | None = None
    points_to_redeem: Annotated[StrictInt, Field(ge=0)] = 0

    @field_validator("total", mode="before")
    @classmethod
    def _exact_total(cls, value: object) -> object:
        # A binary float cannot carry money exactly: "1234.50" (or an integer) is required.
        # pydantic turns only ValueError into a validation error, hence not TypeError.
        if isinstance(value, float | bool):
            raise ValueError('send the total as a decimal string, e.g. "1234.50"')  # noqa: TRY004
        return value


class OfferBody(Body):
    title: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    description: Annotated[StrictStr, Field(max_length=10_000)]
    discount_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    exclusive: StrictBool = False
    member_email: Annotated[StrictStr, Field(min_length=3, max_length=320)] | None = None
