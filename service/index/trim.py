"""Memory freed by the big one-off jobs (a whole rebuild, the Open Referral warm-up) handed back to the system.

Building an index from a snapshot frees hundreds of megabytes of rows and decoded documents at once. Python gives
its own small-object arenas back when they empty, but glibc's malloc keeps the larger blocks it freed for reuse,
so the replica's resident memory stays at its peak. `malloc_trim(0)` returns those free pages (about 30 MB after a
build at 50,000 services). Where the C library has no such call (musl, macOS), this does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

_trim: Callable[[int], int] | None = getattr(ctypes.CDLL(None), "malloc_trim", None)


def give_back_memory() -> bool:
    """Return freed heap pages to the system; whether the C library could."""
    if _trim is None:
        return False
    _trim(0)
    return True
