"""Per-request DataLoaders: every relation a resolver follows goes through one of these."""

from __future__ import annotations

from functools import cached_property

from bff.graphql.identity.loaders import LiveSessionsByMemberIdLoader, PreferencesByMemberIdLoader
from bff.graphql.loyalty.loaders import (
    CardByIdLoader,
    CardsByMemberLoader,
    EntriesPageByKeyLoader,
    PointsBalanceByMemberLoader,
    PointsEntryByIdLoader,
    PurchaseByIdLoader,
    TransactionsPageByKeyLoader,
)
from bff.graphql.offers.loaders import (
    OfferActivatedByMemberAndOfferLoader,
    OfferByIdLoader,
    OffersPageByKeyLoader,
    VisibleOfferByViewerAndIdLoader,
)


class Loaders:
    """The loaders of one request, each made on first use."""

    # Loyalty
    @cached_property
    def card_by_id(self) -> CardByIdLoader:
        return CardByIdLoader()

    @cached_property
    def cards_by_member(self) -> CardsByMemberLoader:
        return CardsByMemberLoader()

    @cached_property
    def purchase_by_id(self) -> PurchaseByIdLoader:
        return PurchaseByIdLoader()

    @cached_property
    def transactions_page(self) -> TransactionsPageByKeyLoader:
        return TransactionsPageByKeyLoader()

    @cached_property
    def points_entries_page(self) -> EntriesPageByKeyLoader:
        return EntriesPageByKeyLoader()

    @cached_property
    def points_balance_by_member(self) -> PointsBalanceByMemberLoader:
        return PointsBalanceByMemberLoader()

    @cached_property
    def offers_page(self) -> OffersPageByKeyLoader:
        return OffersPageByKeyLoader()

    @cached_property
    def offer_by_id(self) -> OfferByIdLoader:
        return OfferByIdLoader()

    @cached_property
    def visible_offer_by_id(self) -> VisibleOfferByViewerAndIdLoader:
        return VisibleOfferByViewerAndIdLoader()

    @cached_property
    def points_entry_by_id(self) -> PointsEntryByIdLoader:
        return PointsEntryByIdLoader()

    @cached_property
    def offer_activated(self) -> OfferActivatedByMemberAndOfferLoader:
        return OfferActivatedByMemberAndOfferLoader()

    # Identity and profile
    @cached_property
    def live_sessions_by_member_id(self) -> LiveSessionsByMemberIdLoader:
        return LiveSessionsByMemberIdLoader()

    @cached_property
    def preferences_by_member_id(self) -> PreferencesByMemberIdLoader:
        return PreferencesByMemberIdLoader()
