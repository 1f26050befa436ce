"""Tiers of the Metropolia program (SPEC.md "Tiers").

Only the vocabulary lives here for now: the tier codes that tiers, offers (a minimum tier) and
rewards (a minimum tier) all name. Thresholds, windows and benefits come with the tiers work.
"""

from __future__ import annotations

from enum import StrEnum


class TierCode(StrEnum):
    """A tier, lowest first; the order of the members is the order of the tiers."""

    BLUE = "BLUE"
    SILVER = "SILVER"
    GOLD = "GOLD"

    @property
    def rank(self) -> int:
        """0 for the lowest tier; compare ranks, never codes."""
        return list(TierCode).index(self)
