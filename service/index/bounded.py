"""The search's caches: each bounded in bytes, the least recently used entry making room, and each counted for
/metrics (its bytes, budget, entries, hits, misses and evictions).

An entry is charged its size when it is made (`size`): arrays by their bytes, a group of rows by its arrays and the
most its remembered masks may ever hold (service/index/masks.py), and other values by a measured size each
(`tests/index/test_cache_sizes.py` holds every estimate to what tracemalloc measures). An entry larger than the whole
budget is used but not kept. `Shares` splits one budget (PATHWAYS_SEARCH_CACHE_MB) between the caches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING: Any = object()

ARRAY_OVERHEAD = 112
"""What a numpy array costs beside its data (its header object), in bytes."""
ENTRY_OVERHEAD = 160
"""What a cache entry costs beside its value: its key (a tuple of a few numbers or a frozenset of codes, shared with
the search that made it) and its slots in the dicts."""


def array_bytes(a: np.ndarray[Any, Any]) -> int:
    return int(a.nbytes) + ARRAY_OVERHEAD


@dataclass(frozen=True)
class CacheStats:
    name: str
    bytes: int
    budget: int
    entries: int
    hits: int
    misses: int
    evictions: int


class Bounded(Generic[K, V]):
    """A cache of at most `budget` bytes by `size`; the least recently used entries make room for a new one."""

    def __init__(self, name: str, budget: int, size: Callable[[V], int]) -> None:
        self.name, self.budget, self.size = name, budget, size
        self.entries: OrderedDict[K, V] = OrderedDict()
        """In order of use, the least recent first. (A plain dict used this way slows down: every entry taken from
        its front leaves a hole that finding the next front entry steps over.)"""
        self._sizes: dict[K, int] = {}
        self.bytes = self.hits = self.misses = self.evictions = 0

    def get(self, key: K, make: Callable[[], V]) -> V:
        entries = self.entries
        found: V = entries.get(key, _MISSING)
        if found is not _MISSING:
            entries.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        made: V = make()
        charge = self.size(made) + ENTRY_OVERHEAD
        if charge > self.budget:
            return made
        self.bytes += charge
        sizes = self._sizes
        while self.bytes > self.budget:
            oldest, _ = entries.popitem(last=False)
            self.bytes -= sizes.pop(oldest)
            self.evictions += 1
        entries[key] = made
        sizes[key] = charge
        return made

    def forget(self, key: K) -> None:
        if self.entries.pop(key, _MISSING) is not _MISSING:
            self.bytes -= self._sizes.pop(key)

    def clear(self) -> None:
        self.entries.clear()
        self._sizes.clear()
        self.bytes = 0

    def stats(self) -> CacheStats:
        return CacheStats(self.name, self.bytes, self.budget, len(self.entries), self.hits, self.misses, self.evictions)


class SharedBounded(Bounded[K, V]):
    """A Bounded that worker threads use as well as the event loop (Open Referral's and FHIR's records): each
    look-up holds a lock, so that two threads never both make room or both count the bytes. `make` runs outside it."""

    def __init__(self, name: str, budget: int, size: Callable[[V], int]) -> None:
        super().__init__(name, budget, size)
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            found: V = self.entries.get(key, _MISSING)
            if found is not _MISSING:
                self.entries.move_to_end(key)
                self.hits += 1
                return found
        made = make()
        with self._lock:
            if key in self.entries:  # another thread made it meanwhile
                self.misses += 1
                return made
            return super().get(key, lambda: made)

    def forget(self, key: K) -> None:
        with self._lock:
            super().forget(key)

    def clear(self) -> None:
        with self._lock:
            super().clear()


class Shares:
    """One budget in bytes, split between named caches by their shares (which need not sum to one: the caller
    says what each is worth)."""

    def __init__(self, total: int, shares: Mapping[str, float]) -> None:
        whole = sum(shares.values())
        self.budgets = {name: max(1, int(total * share / whole)) for name, share in shares.items()}

    def __getitem__(self, name: str) -> int:
        return self.budgets[name]
