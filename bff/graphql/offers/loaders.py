"""Loaders of offers: pages, by id as a viewer may see them, and whether one is activated."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from bff.graphql.loaders import Loader
from bff.offers.models import Offer
from bff.offers.services import (
    OfferFilter,
    Viewer,
    activated_offer_ids,
    offer_use_times,
    offers_page,
    visible_offers,
)


@dataclass(frozen=True)
class OffersPageKey:
    """One page of the offers `viewer` may see (only the public ones with `public_only`)."""

    viewer: Viewer
    public_only: bool
    first: int
    after: tuple[str, int] | None
    narrow: OfferFilter | None = None


class OffersPageByKeyLoader(Loader[OffersPageKey, list[Offer]]):
    """Pages of offers, soonest-ending first; one query per distinct page (one per request)."""

    async def batch_load_fn(self, keys: list[OffersPageKey]) -> list[list[Offer]]:
        now = datetime.now(UTC)
        return [
            await offers_page(
                viewer=key.viewer,
                first=key.first,
                after=key.after,
                now=now,
                public_only=key.public_only,
                narrow=key.narrow,
            )
            for key in keys
        ]


class VisibleOfferByViewerAndIdLoader(Loader[tuple[Viewer, int], Offer | None]):
    """Offers by id as `viewer` may see them now (None when they may not): one query per viewer,
    so many `node(id)` lookups of offers in one request are one query."""

    async def batch_load_fn(self, keys: list[tuple[Viewer, int]]) -> list[Offer | None]:
        now = datetime.now(UTC)
        found: dict[tuple[Viewer, int], Offer] = {}
        for viewer in {viewer for viewer, _ in keys}:
            ids = [pk for asked_by, pk in keys if asked_by == viewer]
            for offer in await visible_offers(viewer=viewer, now=now).filter(id__in=ids):
                found[viewer, offer.id] = offer
        return [found.get(key) for key in keys]


class OfferActivatedByMemberAndOfferLoader(Loader[tuple[int, int], bool]):
    """Whether (member id, offer id) has a live activation; one query per member."""

    async def batch_load_fn(self, keys: list[tuple[int, int]]) -> list[bool]:
        offers_of: dict[int, list[int]] = defaultdict(list)
        for member_id, offer_id in keys:
            offers_of[member_id].append(offer_id)
        activated: set[tuple[int, int]] = set()
        for member_id, offer_ids in offers_of.items():
            ids = await activated_offer_ids(member_id=member_id, offer_ids=offer_ids)
            activated.update((member_id, offer_id) for offer_id in ids)
        return [key in activated for key in keys]


class OfferUsedAtByMemberAndOfferLoader(Loader[tuple[int, int], datetime | None]):
    """When a till last applied (member id, offer id); one query per member."""

    async def batch_load_fn(self, keys: list[tuple[int, int]]) -> list[datetime | None]:
        offers_of: dict[int, list[int]] = defaultdict(list)
        for member_id, offer_id in keys:
            offers_of[member_id].append(offer_id)
        used: dict[tuple[int, int], datetime] = {}
        for member_id, offer_ids in offers_of.items():
            times = await offer_use_times(member_id=member_id, offer_ids=offer_ids)
            used.update(((member_id, offer_id), at) for offer_id, at in times.items())
        return [used.get(key) for key in keys]
