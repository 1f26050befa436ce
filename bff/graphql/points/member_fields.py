"""The loyalty fields of `Member`: cards, points, history, transactions and offers."""

from __future__ import annotations

import strawberry


@strawberry.type
class MemberLoyaltyFields:
    pk: strawberry.Private[int]
