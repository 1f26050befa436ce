"""What the compiler may run itself: per GraphQL object type, the fields whose resolvers are
context-only.

A field without a resolver is always compiled: its value is the attribute of the object its
parent resolved, serialized by its GraphQL type. A field with a resolver is compiled only when it
is declared here, which says: the resolver reads nothing of `info` but `info.context` (loaders,
session, settings) and `info.selected_fields`, its root and its arguments, so the compiler may
call it directly with a small info of its own. Permission classes (`IsMember`) run as
Strawberry runs them.

A new field with a resolver that is not declared here makes every document selecting it run on
Strawberry (the differential test shows which), which is always correct, only slower. Declare it
once its resolver keeps to the rule above.
"""

from __future__ import annotations

CONTEXT_ONLY_RESOLVERS: dict[str, frozenset[str]] = {
    "Query": frozenset({"me", "node", "offers", "program", "rewards"}),
    "Member": frozenset(
        {
            "cards",
            "points",
            "pointsHistory",
            "transactions",
            "offers",
            "sessions",
            "preferences",
            "tier",
            "dataExport",
            "coupons",
            "notifications",
            "unreadNotificationCount",
            "pushDevices",
        }
    ),
    "Card": frozenset({"barcode", "transactions"}),
    "Transaction": frozenset({"card"}),
    "PointsEntry": frozenset({"transaction"}),
    "Offer": frozenset({"activated", "usedAt"}),
    "Coupon": frozenset({"reward"}),
    "Reward": frozenset({"redeemable"}),
}


def is_context_only(type_name: str, field_name: str) -> bool:
    return field_name in CONTEXT_ONLY_RESOLVERS.get(type_name, frozenset())
