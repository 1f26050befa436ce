"""Per-request DataLoaders: every relation a resolver follows goes through one of these."""

from __future__ import annotations

from functools import cached_property

from bff.graphql.identity.loaders import LiveSessionsByMemberIdLoader, PreferencesByMemberIdLoader


class Loaders:
    """The loaders of one request, each made on first use."""

    # Identity and profile
    @cached_property
    def live_sessions_by_member_id(self) -> LiveSessionsByMemberIdLoader:
        return LiveSessionsByMemberIdLoader()

    @cached_property
    def preferences_by_member_id(self) -> PreferencesByMemberIdLoader:
        return PreferencesByMemberIdLoader()
