"""Loaders of cards: by id, and the cards a member has linked."""

from __future__ import annotations

from collections import defaultdict

from aiodataloader import DataLoader

from bff.cards.models import Card
from bff.rawsql import select_models


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
