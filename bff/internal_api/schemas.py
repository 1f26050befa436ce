"""Request bodies of the internal API, validated with pydantic (422 with details on failure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)
from pydantic.alias_generators import to_camel

from bff.ids import from_global_id
from bff.loyalty.tiers import TierCode

_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
# Points columns are 32-bit integers in the database.
MAX_POINTS = 2**31 - 1


def _printable(value: str) -> str:
    # PostgreSQL refuses NUL in text: refused here as bad input rather than failing there.
    if not value.isprintable():
        raise ValueError("use printable characters only")
    return value


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


def _in_utc(value: datetime) -> datetime:
    # A time near year 1 or 9999 with an offset has no UTC equivalent Python can hold.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None


ShortText = Annotated[StrictStr, Field(min_length=1, max_length=64), AfterValidator(_printable)]
UtcTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
# A coupon code as printed (see loyalty.rewards); read without regard to case.
CouponCode = Annotated[
    StrictStr,
    Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$"),
    AfterValidator(str.upper),
]
Email = Annotated[StrictStr, Field(min_length=3, max_length=320), AfterValidator(_printable)]


class Body(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, frozen=True, str_strip_whitespace=True
    )


class CardBody(Body):
    number: StrictStr | None = None
    verification_code: StrictStr | None = None


def _exact_money(value: object) -> object:
    # A binary float cannot carry money exactly: "1234.50" (or an integer) is required.
    # pydantic turns only ValueError into a validation error, hence not TypeError.
    # Python's Decimal also reads "1_000", "1e3" and " 12": not what a receipt prints.
    if isinstance(value, float | bool) or (
        isinstance(value, str) and not _PLAIN_DECIMAL.fullmatch(value)
    ):
        raise ValueError('send the amount as a decimal string, e.g. "1234.50"')
    return value


# Global ids are short (a type name and a BIGINT, base64): anything longer is not one.
_ID_LENGTH = 64


def _offer_pk(value: object) -> int:
    decoded = from_global_id(value) if isinstance(value, str) and len(value) <= _ID_LENGTH else None
    if decoded is None or decoded[0] != "Offer":
        raise ValueError("not an offer id (the id that POST /internal/v1/offers answered)")
    return decoded[1]


def _each_once(values: list[int]) -> list[int]:
    if len(set(values)) != len(values):
        raise ValueError("name each offer once")
    return values


Money = Annotated[
    Decimal, BeforeValidator(_exact_money), Field(gt=0, max_digits=14, decimal_places=2)
]
# An offer's global id as POST /internal/v1/offers answered it, read as the offer's key.
OfferId = Annotated[int, BeforeValidator(_offer_pk)]
# A till applies a handful of offers to one receipt; the cap bounds the work of one request.
MAX_OFFERS_PER_PURCHASE = 20


class PurchaseBody(Body):
    receipt_id: ShortText
    card_number: StrictStr
    store_id: ShortText
    total: Money
    occurred_at: UtcTime | None = None
    points_to_redeem: Annotated[StrictInt, Field(ge=0, le=MAX_POINTS)] = 0
    coupon_codes: Annotated[list[CouponCode], Field(max_length=20)] = []
    offer_ids: Annotated[
        list[OfferId], Field(max_length=MAX_OFFERS_PER_PURCHASE), AfterValidator(_each_once)
    ] = []


class ReturnBody(Body):
    return_id: ShortText
    receipt_id: ShortText
    amount: Money
    occurred_at: UtcTime | None = None


class OfferBody(Body):
    title: Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(_printable)]
    description: Annotated[StrictStr, Field(max_length=10_000), AfterValidator(_without_nul)]
    discount_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    valid_from: UtcTime
    valid_until: UtcTime
    exclusive: StrictBool = False
    member_email: Email | None = None
    single_use: StrictBool = True
    minimum_tier: TierCode | None = None


class RewardBody(Body):
    title: Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(_printable)]
    description: Annotated[StrictStr, Field(max_length=10_000), AfterValidator(_without_nul)]
    cost: Annotated[StrictInt, Field(ge=1, le=MAX_POINTS)]
    stock: Annotated[StrictInt, Field(ge=0, le=MAX_POINTS)] | None = None
    valid_until: UtcTime | None = None
    minimum_tier: TierCode | None = None
    coupon_valid_days: Annotated[StrictInt, Field(ge=1, le=3660)] = 30
