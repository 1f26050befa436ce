"""`activateOffer`."""

from __future__ import annotations

import strawberry

from bff.errors import DomainError, ErrorCode
from bff.graphql.context import Info
from bff.graphql.errors import returns_user_errors
from bff.graphql.offers.types import Offer, OfferPayload, tiers_of
from bff.graphql.permissions import IsMember
from bff.ids import from_global_id
from bff.offers.services import NOT_AVAILABLE, activate_offer


@strawberry.input
class ActivateOfferInput:
    offer_id: strawberry.ID


def offer_pk(offer_id: str) -> int:
    """The key of an offer's global id; any other id is OFFER_NOT_AVAILABLE, the answer for an
    offer the member may not see, so ids disclose nothing."""
    decoded = from_global_id(offer_id)
    if decoded is None or decoded[0] != "Offer":
        raise DomainError(ErrorCode.OFFER_NOT_AVAILABLE, NOT_AVAILABLE, field="offerId")
    return decoded[1]


@strawberry.type
class OffersMutation:
    @strawberry.mutation(permission_classes=[IsMember])
    @returns_user_errors(OfferPayload)
    async def activate_offer(self, info: Info, input: ActivateOfferInput) -> OfferPayload:  # noqa: A002 (contract)
        member = info.context.signed_in_member
        offer = await activate_offer(
            member=member, offer_id=offer_pk(input.offer_id), tiers=await tiers_of(info, member)
        )
        return OfferPayload(offer=Offer.from_model(offer))
