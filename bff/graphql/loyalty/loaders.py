"""Loaders of loyalty: cards, purchases, points entries and balances."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from bff.db.sql import select_models
from bff.graphql.loaders import Loader
from bff.loyalty.ledger import Balance, history_page, read_balances
from bff.loyalty.models import Card, PointsEntry, Purchase
from bff.loyalty.purchases import purchase_pages
from bff.loyalty.tiers import TierStatus, read_tiers


class CardByIdLoader(Loader[int, Card | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[Card | None]:
        cards = {card.id: card for card in await select_models(Card, column_in=("id", keys))}
        return [cards.get(key) for key in keys]


class CardsByMemberIdLoader(Loader[int, list[Card]]):
    """A member's linked cards, in the order they were linked."""

    async def batch_load_fn(self, keys: list[int]) -> list[list[Card]]:
        by_member: dict[int, list[Card]] = defaultdict(list)
        cards = await select_models(
            Card, column_in=("member_id", keys), order_by=[("linked_at", False), ("id", False)]
        )
        for card in cards:
            if card.member_id is not None:
                by_member[card.member_id].append(card)
        return [by_member[key] for key in keys]


@dataclass(frozen=True)
class PurchasesPageKey:
    """One page of a member's purchases, optionally on one card, newest first."""

    member_id: int
    card_id: int | None
    first: int
    after: tuple[str, int] | None


@dataclass(frozen=True)
class PointsEntriesPageKey:
    """One page of a member's points ledger, newest first."""

    member_id: int
    first: int
    after: tuple[str, int] | None


class PurchaseByIdLoader(Loader[int, Purchase | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[Purchase | None]:
        purchases = {purchase.id: purchase for purchase in await Purchase.filter(id__in=keys)}
        return [purchases.get(key) for key in keys]


class PointsEntryByIdLoader(Loader[int, PointsEntry | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[PointsEntry | None]:
        entries = {entry.id: entry for entry in await PointsEntry.filter(id__in=keys)}
        return [entries.get(key) for key in keys]


class PurchasesPageByKeyLoader(Loader[PurchasesPageKey, list[Purchase]]):
    """Pages of purchases, keyset by (occurredAt, id) newest first: stable while new receipts
    arrive. One statement per batch of pages that differ only in card or member (see
    `purchase_pages`)."""

    async def batch_load_fn(self, keys: list[PurchasesPageKey]) -> list[list[Purchase]]:
        pages = await purchase_pages(requests=keys)
        return [pages[key] for key in keys]


class PointsEntriesPageByKeyLoader(Loader[PointsEntriesPageKey, list[PointsEntry]]):
    """Pages of a member's ledger, newest first; due expiries are written before reading."""

    async def batch_load_fn(self, keys: list[PointsEntriesPageKey]) -> list[list[PointsEntry]]:
        now = datetime.now(UTC)
        return [
            await history_page(member_id=key.member_id, first=key.first, after=key.after, now=now)
            for key in keys
        ]


class PointsBalanceByMemberIdLoader(Loader[int, Balance]):
    """Balances of every member asked for, in one statement (see `read_balances`)."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[Balance]:
        found = await read_balances(
            member_ids=member_ids,
            now=datetime.now(UTC),
            expiring_soon=self.settings.points_expiring_soon,
        )
        return [found[member_id] for member_id in member_ids]


class TierByMemberIdLoader(Loader[int, TierStatus]):
    """Tiers of every member asked for, as of one moment, in one statement (see `read_tiers`):
    every field of one request reads the same evaluation."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[TierStatus]:
        found = await read_tiers(
            member_ids=member_ids, now=datetime.now(UTC), settings=self.settings
        )
        return [found[member_id] for member_id in member_ids]
