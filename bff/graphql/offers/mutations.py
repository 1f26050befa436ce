"""`activateOffer`."""

from __future__ import annotations

import strawberry

from bff.errors import DomainError, ErrorCode
from bff.graphql.context import Info
from bff.graphql.errors import user_error
from bff.graphql.offers.types import Offer, OfferPayload
from bff.ids import expect_global_id
from bff.offers.services import activate_offer


@strawberry.input
class ActivateOfferInput:
    offer_id: strawberry.ID


@strawberry.type
class OffersMutation:
    @strawberry.mutation
    async def activate_offer(self, info: Info, input: ActivateOfferInput) -> OfferPayload:  # noqa: A002 (contract)
        member = await info.context.require_member()
        try:
            offer_id = expect_global_id(input.offer_id, "Offer", field="offerId")
            offer = await activate_offer(member=member, offer_id=offer_id)
        except DomainError as error:
            if error.code is ErrorCode.NOT_FOUND:
                error = DomainError(
                    ErrorCode.OFFER_NOT_AVAILABLE,
                    "This offer is not available to you now.",
                    field="offerId",
                )
            return OfferPayload(offer=None, user_errors=[user_error(error)])
        return OfferPayload(offer=Offer.from_model(offer), user_errors=[])
