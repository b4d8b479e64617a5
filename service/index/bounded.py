"""A small cache that forgets its oldest entry when full: the index's remembered look-ups."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """A cache of at most `size` entries; when full, the oldest entry makes room (no cliff where all go at once)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: dict[K, V] = {}

    def get(self, key: K, make: Callable[[], V]) -> V:
        found = self.entries.get(key)
        if found is None:
            if len(self.entries) >= self.size:
                del self.entries[next(iter(self.entries))]
            found = self.entries[key] = make()
        return found

    def clear(self) -> None:
        self.entries.clear()
