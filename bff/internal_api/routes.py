"""The store systems' JSON endpoints under /internal/v1, authenticated by `X-Api-Key` only."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bff import metrics
from bff.db.connection import one_connection
from bff.errors import DomainError, ErrorCode
from bff.ids import to_global_id
from bff.internal_api.schemas import CardBody, OfferBody, PurchaseBody, ReturnBody, RewardBody
from bff.json_text import JSONRefusedError, decode_json, json_problem
from bff.loyalty.cards import issue_card, scan_card
from bff.loyalty.numbers import normalize_number
from bff.loyalty.purchases import PurchaseRequest, PurchaseResult, record_purchase
from bff.loyalty.returns import ReturnRequest, record_return
from bff.loyalty.rewards import card_benefits, publish_reward
from bff.offers.services import create_offer
from bff.settings import Settings

B = TypeVar("B", bound=BaseModel)
Handler = Callable[[Request], Awaitable[JSONResponse]]

ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
STATUS_OF_ERROR: dict[ErrorCode, int] = {
    ErrorCode.INVALID_INPUT: 422,
    ErrorCode.CARD_INVALID_NUMBER: 422,
    ErrorCode.CARD_NOT_FOUND: 404,
    ErrorCode.MEMBER_NOT_FOUND: 404,
    ErrorCode.CARD_EXISTS: 409,
    ErrorCode.CARD_INACTIVE: 409,
    ErrorCode.INSUFFICIENT_POINTS: 409,
    ErrorCode.IDEMPOTENCY_CONFLICT: 409,
    ErrorCode.COUPON_NOT_FOUND: 404,
    ErrorCode.COUPON_NOT_ACTIVE: 409,
    ErrorCode.OFFER_NOT_AVAILABLE: 409,
    ErrorCode.RECEIPT_NOT_FOUND: 404,
    ErrorCode.RETURN_EXCEEDS_PURCHASE: 422,
}


class InvalidBodyError(Exception):
    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__("invalid body")
        self.details = details


def api_key_is_valid(presented: str | None, keys: list[str]) -> bool:
    """Compare with every configured key in constant time, without stopping at a match."""
    if not presented:
        return False
    candidate = presented.encode()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(candidate, key.encode())
    return matched


def error_response(error: DomainError) -> JSONResponse:
    status = STATUS_OF_ERROR.get(error.code, 409)
    if status == 422:  # noqa: PLR2004 (HTTP status)
        details = [{"field": error.field, "code": error.code, "message": error.message}]
        return JSONResponse({"error": "INVALID_INPUT", "details": details}, status_code=422)
    return JSONResponse({"error": error.code, "message": error.message}, status_code=status)


async def parse_body(request: Request, model: type[B]) -> B:
    try:
        data = decode_json(await request.body())
    except JSONRefusedError as error:
        raise InvalidBodyError(
            [
                {
                    "field": None,
                    "code": "INVALID_JSON",
                    "message": f"The body is refused: {error.msg}.",
                }
            ]
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidBodyError(
            [{"field": None, "code": "INVALID_JSON", "message": "The body is not JSON."}]
        ) from None
    # Checked here, once: NUL is refused per field by the schemas (with its field's name).
    if (problem := json_problem(data, refuse_nul=False)) is not None:
        raise InvalidBodyError(
            [{"field": None, "code": "INVALID_TEXT", "message": f"The body contains {problem}."}]
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidBodyError(
            [
                {
                    "field": ".".join(str(part) for part in problem["loc"]) or None,
                    "code": problem["type"],
                    "message": problem["msg"],
                }
                for problem in error.errors(include_url=False, include_context=False)
            ]
        ) from None


def coupons_used(result: PurchaseResult) -> dict[str, Any]:
    """The receipt answer's part about coupons: always present, like `offersApplied`, so a till
    reads one shape (an empty list when the receipt used none)."""
    return {
        "couponsUsed": [
            {
                "code": used.code,
                "rewardId": to_global_id("Reward", used.reward_id),
                "title": used.title,
            }
            for used in result.coupons_used
        ]
    }


def guarded(
    handler: Handler,
    settings: Settings,
    *,
    post_only: bool = True,
    method: str = "POST",
    name: str = "unknown",
) -> Handler:
    """401 without a valid X-Api-Key; 405 for another method than `method` (unless not
    `post_only`); domain errors and invalid bodies as JSON errors. Each call runs on one pooled
    connection and is counted for /metrics by endpoint `name` and status."""
    answer = _answer(handler, settings, post_only=post_only, method=method)

    async def endpoint(request: Request) -> JSONResponse:
        token = metrics.current_operation.set("internal_api")
        try:
            # No store request waits for a password hash: one pooled connection for all its
            # statements, taken at the first (after the body arrived) and given back at the end.
            async with one_connection():
                response = await answer(request)
        finally:
            metrics.current_operation.reset(token)
        metrics.INTERNAL_API_REQUESTS.labels(endpoint=name, status=str(response.status_code)).inc()
        return response

    return endpoint


def _answer(handler: Handler, settings: Settings, *, post_only: bool, method: str) -> Handler:
    keys = [key.get_secret_value() for key in settings.internal_api_keys]

    async def endpoint(request: Request) -> JSONResponse:
        if not api_key_is_valid(request.headers.get("x-api-key"), keys):
            return JSONResponse(
                {"error": "UNAUTHORIZED", "message": "A valid X-Api-Key header is required."},
                status_code=401,
            )
        if post_only and request.method != method:
            return JSONResponse(
                {"error": "METHOD_NOT_ALLOWED", "message": f"Use {method}."},
                status_code=405,
                headers={"Allow": method},
            )
        try:
            return await handler(request)
        except InvalidBodyError as error:
            return JSONResponse(
                {"error": "INVALID_INPUT", "details": error.details}, status_code=422
            )
        except DomainError as error:
            return error_response(error)

    return endpoint


def offers_answer(result: PurchaseResult) -> dict[str, Any]:
    """The purchase answer's `offersApplied`: what the till applied, as it was then."""
    return {
        "offersApplied": [
            {
                "id": to_global_id("Offer", offer.offer_id),
                "title": offer.title,
                "discountPercent": offer.discount_percent,
            }
            for offer in result.offers_applied
        ]
    }


def returns_endpoint(settings: Settings) -> Handler:
    """POST /returns: goods brought back against a receipt (bff.loyalty.returns)."""

    async def create_return(request: Request) -> JSONResponse:
        body = await parse_body(request, ReturnBody)
        result = await record_return(
            request=ReturnRequest(
                return_id=body.return_id,
                receipt_id=body.receipt_id,
                amount=body.amount,
                occurred_at=body.occurred_at,
            ),
            settings=settings,
        )
        return JSONResponse(
            {
                "returnId": result.return_id,
                "pointsReturned": result.points_returned,
                "pointsShortfall": result.points_shortfall,
            },
            status_code=201 if result.created else 200,
        )

    return create_return


def internal_api_routes(settings: Settings) -> list[Route]:
    """The routes to mount under /internal/v1."""

    async def create_card(request: Request) -> JSONResponse:
        body = await parse_body(request, CardBody)
        issued = await issue_card(
            number=body.number, verification_code=body.verification_code, settings=settings
        )
        return JSONResponse(
            {"number": issued.card.number, "verificationCode": issued.verification_code},
            status_code=201,
        )

    async def create_purchase(request: Request) -> JSONResponse:
        body = await parse_body(request, PurchaseBody)
        result = await record_purchase(
            request=PurchaseRequest(
                receipt_id=body.receipt_id,
                card_number=normalize_number(body.card_number, field="cardNumber"),
                store_id=body.store_id,
                total=body.total,
                occurred_at=body.occurred_at,
                points_to_redeem=body.points_to_redeem,
                coupon_codes=tuple(body.coupon_codes),
                offer_ids=tuple(body.offer_ids),
            ),
            settings=settings,
        )
        return JSONResponse(
            {
                "receiptId": result.receipt_id,
                "pointsEarned": result.points_earned,
                "pointsRedeemed": result.points_redeemed,
                **coupons_used(result),
                **offers_answer(result),
            },
            status_code=201 if result.created else 200,
        )

    async def create_offer_endpoint(request: Request) -> JSONResponse:
        body = await parse_body(request, OfferBody)
        offer = await create_offer(
            title=body.title,
            description=body.description,
            discount_percent=body.discount_percent,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            exclusive=body.exclusive,
            member_email=body.member_email,
            minimum_tier=body.minimum_tier.value if body.minimum_tier else None,
            single_use=body.single_use,
        )
        return JSONResponse({"id": to_global_id("Offer", offer.id)}, status_code=201)

    async def scan_card_endpoint(request: Request) -> JSONResponse:
        scanned = await scan_card(number=request.path_params["number"], settings=settings)
        card = scanned.card
        answer: dict[str, str | None] = {
            "number": card.number,
            "status": card.status.value,
            "kind": card.kind.value,
            "deactivationReason": card.deactivation_reason.value
            if card.deactivation_reason
            else None,
        }
        if scanned.program_status is not None:
            answer["programStatus"] = scanned.program_status.value
        if scanned.tier is not None:
            answer["tier"] = scanned.tier.value
        return JSONResponse(answer)

    async def create_reward(request: Request) -> JSONResponse:
        body = await parse_body(request, RewardBody)
        reward = await publish_reward(
            title=body.title,
            description=body.description,
            cost=body.cost,
            stock=body.stock,
            valid_until=body.valid_until,
            minimum_tier=body.minimum_tier,
            coupon_valid_days=body.coupon_valid_days,
        )
        return JSONResponse({"id": to_global_id("Reward", reward.id)}, status_code=201)

    async def benefits(request: Request) -> JSONResponse:
        number = normalize_number(request.path_params["number"], field="number")
        found = await card_benefits(number=number)
        return JSONResponse(
            {
                "coupons": [
                    {
                        "code": coupon.code,
                        "title": found.titles[coupon.reward_id],
                        "validUntil": coupon.valid_until.isoformat(),
                    }
                    for coupon in found.coupons
                ],
                "offers": [
                    {
                        "id": to_global_id("Offer", offer.id),
                        "title": offer.title,
                        "discountPercent": offer.discount_percent,
                    }
                    for offer in found.offers
                ],
            }
        )

    async def not_found(_: Request) -> JSONResponse:
        return JSONResponse({"error": "NOT_FOUND", "message": "No such endpoint."}, 404)

    # Every method reaches the handlers, so that refusals are JSON like the rest of this API.
    return [
        Route("/cards", guarded(create_card, settings, name="cards"), methods=ANY_METHOD),
        Route(
            "/cards/{number}",
            guarded(scan_card_endpoint, settings, method="GET", name="scan_card"),
            methods=ANY_METHOD,
        ),
        Route(
            "/purchases", guarded(create_purchase, settings, name="purchases"), methods=ANY_METHOD
        ),
        Route(
            "/offers", guarded(create_offer_endpoint, settings, name="offers"), methods=ANY_METHOD
        ),
        Route("/rewards", guarded(create_reward, settings, name="rewards"), methods=ANY_METHOD),
        Route(
            "/cards/{number}/benefits",
            guarded(benefits, settings, method="GET", name="benefits"),
            methods=ANY_METHOD,
        ),
        Route(
            "/returns",
            guarded(returns_endpoint(settings), settings, name="returns"),
            methods=ANY_METHOD,
        ),
        Route("/{path:path}", guarded(not_found, settings, post_only=False), methods=ANY_METHOD),
    ]
