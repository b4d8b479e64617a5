"""What the logs say when things go wrong: one line when the database goes away and one when it is back, and one
traceback per distinct bug rather than one per request."""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

log = logging.getLogger("service.http")
REPEAT_EVERY_SECONDS = 600.0


def _traceback(exc: BaseException) -> str:
    """The traceback, without the DETAIL lines PostgreSQL adds to constraint errors: they quote the failing row,
    which can hold a key's hash, or anything else a client sent."""
    lines = "".join(traceback.format_exception(exc)).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("DETAIL:", "Failing row")))


class Outage:
    """Kept on app.state; the error map reports to it, and a successful transaction clears it."""

    def __init__(self, db: Any = None) -> None:
        self.db = db
        self.down_since: float | None = None
        self._bugs: dict[tuple[str, str], tuple[float, int]] = {}

    def failed(self, exc: BaseException) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("database unavailable (%s): writes answer 503; searches answer from memory", exc)

    def lost_connection(self, exc: BaseException) -> None:
        """A connection broke: the pool's idle connections are probably broken too, so replace them all."""
        if self.db is not None:
            self.db.expire_connections()

    def recovered(self) -> None:
        if self.down_since is not None:
            log.warning("database reachable again after %.1f s", time.monotonic() - self.down_since)
            self.down_since = None

    def bug(self, exc: BaseException, where: str) -> None:
        """The first time a bug happens at a place, its traceback; after that a count every ten minutes."""
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        key = (type(exc).__name__, f"{frame.filename}:{frame.lineno}" if frame else "")
        now = time.monotonic()
        last, count = self._bugs.get(key, (0.0, 0))
        if count == 0:
            log.error("unhandled error on %s\n%s", where, _traceback(exc))
            self._bugs[key] = (now, 1)
        elif now - last >= REPEAT_EVERY_SECONDS:
            log.error("unhandled error on %s: %s at %s, %d more time(s) since it was logged", where, *key, count)
            self._bugs[key] = (now, 1)
        else:
            self._bugs[key] = (last, count + 1)
