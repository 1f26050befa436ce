"""Per-request DataLoaders: every relation a resolver follows goes through one of these."""

from __future__ import annotations


class Loaders:
    """The loaders of one request, each made on first use."""
