"""The base of the per-request DataLoaders: every relation a resolver follows goes through one."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from aiodataloader import DataLoader

if TYPE_CHECKING:
    from bff.settings import Settings

K = TypeVar("K")
V = TypeVar("V")


class Loader(DataLoader[K, V]):
    """A DataLoader that `Context.loader(cls)` makes once per request, on first use.

    Declare one by subclassing, named `<Thing>By<Key>Loader`, with a `batch_load_fn` that
    returns the values in the order of its keys; there is no registry to add it to.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
