"""Loaders of cards: by id, and the cards a member has linked."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiodataloader import DataLoader

from bff.db.paging import keyset_page
from bff.db.sql import select_models
from bff.loyalty.ledger import Balance, PointsOwner, read_balances, settle_expiries
from bff.loyalty.models import Card, PointsEntry, Purchase
from bff.loyalty.purchases import purchase_pages


class CardByIdLoader(DataLoader[int, Card | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[Card | None]:
        cards = {card.id: card for card in await select_models(Card, column_in=("id", keys))}
        return [cards.get(key) for key in keys]


class CardsByMemberLoader(DataLoader[int, list[Card]]):
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
class TransactionsPageKey:
    """One page of a member's purchases, optionally on one card, newest first."""

    member_id: int
    card_id: int | None
    first: int
    after: tuple[str, int] | None


@dataclass(frozen=True)
class EntriesPageKey:
    member_id: int
    first: int
    after: tuple[str, int] | None


@dataclass(frozen=True)
class BalanceKey:
    member_id: int
    expiring_soon: timedelta


class PurchaseByIdLoader(DataLoader[int, Purchase | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[Purchase | None]:
        purchases = {purchase.id: purchase for purchase in await Purchase.filter(id__in=keys)}
        return [purchases.get(key) for key in keys]


class PointsEntryByIdLoader(DataLoader[int, PointsEntry | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[PointsEntry | None]:
        entries = {entry.id: entry for entry in await PointsEntry.filter(id__in=keys)}
        return [entries.get(key) for key in keys]


class TransactionsPageByKeyLoader(DataLoader[TransactionsPageKey, list[Purchase]]):
    """Pages of purchases, keyset by (occurredAt, id) newest first: stable while new receipts
    arrive. First pages of many cards come from one windowed query (PARTITION BY card); a page
    after a cursor, or of all the member's cards, is one query each (one per request in practice).
    """

    async def batch_load_fn(self, keys: list[TransactionsPageKey]) -> list[list[Purchase]]:
        pages = await purchase_pages(requests=keys)
        return [pages[key] for key in keys]


class EntriesPageByKeyLoader(DataLoader[EntriesPageKey, list[PointsEntry]]):
    """Pages of a member's ledger, newest first; due expiries are written before reading."""

    async def batch_load_fn(self, keys: list[EntriesPageKey]) -> list[list[PointsEntry]]:
        now = datetime.now(UTC)
        pages = []
        for key in keys:
            await settle_expiries(owner=PointsOwner(member_id=key.member_id), now=now)
            queryset = PointsEntry.filter(member_id=key.member_id)
            page = keyset_page(
                queryset, field="occurred_at", after=key.after, first=key.first, descending=True
            )
            pages.append(await page)
        return pages


class PointsBalanceByMemberLoader(DataLoader[BalanceKey, Balance]):
    """Balances of every member asked for, in two queries (see `read_balances`)."""

    async def batch_load_fn(self, keys: list[BalanceKey]) -> list[Balance]:
        now = datetime.now(UTC)
        balances: dict[BalanceKey, Balance] = {}
        for window in {key.expiring_soon for key in keys}:
            member_ids = [key.member_id for key in keys if key.expiring_soon == window]
            found = await read_balances(member_ids=member_ids, now=now, expiring_soon=window)
            balances.update({BalanceKey(m, window): found[m] for m in member_ids})
        return [balances[key] for key in keys]
