"""Loaders of loyalty: cards, purchases, points entries and balances."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from bff.db.paging import keyset_page
from bff.db.sql import select_models
from bff.db.windowed import first_rows_per_group
from bff.graphql.loaders import Loader
from bff.loyalty.ledger import Account, Balance, read_balances, settle_expiries
from bff.loyalty.models import Card, PointsEntry, Purchase


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


# The old name, still spelled in PurchasesPageByKeyLoader.batch_load_fn, whose body is being
# rewritten on another branch: drop this alias once that branch is merged.
TransactionsPageKey = PurchasesPageKey


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
    arrive. First pages of many cards come from one windowed query (PARTITION BY card); a page
    after a cursor, or of all the member's cards, is one query each (one per request in practice).
    """

    async def batch_load_fn(self, keys: list[TransactionsPageKey]) -> list[list[Purchase]]:
        pages: dict[TransactionsPageKey, list[Purchase]] = {}
        first_pages: dict[tuple[int, int], list[int]] = defaultdict(list)
        for key in keys:
            if key.card_id is not None and key.after is None:
                first_pages[key.member_id, key.first].append(key.card_id)
        for (member_id, first), card_ids in first_pages.items():
            per_card = await first_rows_per_group(
                Purchase,
                group_by="card_id",
                groups=card_ids,
                equal={"member_id": member_id},
                order_by=[("occurred_at", True), ("id", True)],
                per_group=first + 1,
            )
            for card_id in card_ids:
                pages[TransactionsPageKey(member_id, card_id, first, None)] = per_card[card_id]
        for key in keys:
            if key in pages:
                continue
            if key.after is None:  # a first page: the hot path (dashboards), no query building
                equal: dict[str, object] = {"member_id": key.member_id}
                if key.card_id is not None:
                    equal["card_id"] = key.card_id
                pages[key] = await select_models(
                    Purchase,
                    equal=equal,
                    order_by=[("occurred_at", True), ("id", True)],
                    limit=key.first + 1,
                )
                continue
            queryset = Purchase.filter(member_id=key.member_id)
            if key.card_id is not None:
                queryset = queryset.filter(card_id=key.card_id)
            pages[key] = await keyset_page(
                queryset, field="occurred_at", after=key.after, first=key.first, descending=True
            )
        return [pages[key] for key in keys]


class PointsEntriesPageByKeyLoader(Loader[PointsEntriesPageKey, list[PointsEntry]]):
    """Pages of a member's ledger, newest first; due expiries are written before reading."""

    async def batch_load_fn(self, keys: list[PointsEntriesPageKey]) -> list[list[PointsEntry]]:
        now = datetime.now(UTC)
        pages = []
        for key in keys:
            await settle_expiries(account=Account(member_id=key.member_id), now=now)
            queryset = PointsEntry.filter(member_id=key.member_id)
            page = keyset_page(
                queryset, field="occurred_at", after=key.after, first=key.first, descending=True
            )
            pages.append(await page)
        return pages


class PointsBalanceByMemberIdLoader(Loader[int, Balance]):
    """Balances of every member asked for, in two queries (see `read_balances`)."""

    async def batch_load_fn(self, member_ids: list[int]) -> list[Balance]:
        found = await read_balances(
            member_ids=member_ids,
            now=datetime.now(UTC),
            expiring_soon=self.settings.points_expiring_soon,
        )
        return [found[member_id] for member_id in member_ids]
