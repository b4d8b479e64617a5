"""What becomes of a delivery after each attempt: delivered, tried again later, or given up. Pure.

A 2xx answer delivers it. Any other answer, or none (a timeout, a refused connection, a TLS failure, a redirect,
which is never followed), is tried again after the next wait of the schedule (PATHWAYS_WEBHOOKS_RETRY_SECONDS: by
default 1 minute, 5, 30, 2 hours, 6, then 14: seven attempts over about 23 hours), and given up after the last. A
4xx is retried too: it is most often a receiver's configuration (a secret not yet installed, a route not yet
deployed) that its owner puts right within the day. 410 Gone is the exception, as Standard Webhooks has it: the
receiver says it wants no more, so the delivery is given up and the subscription switched off.

A subscription whose delivery is given up with no other delivery taken since that one was made (its receiver has
been failing for a day) is switched off too: its key holder switches it on again (PATCH /v1/webhooks/{id}) and
reads what was missed from the feed.
"""

from __future__ import annotations

from msgspec import Struct

DEFAULT_WAITS = "60,300,1800,7200,21600,50400"
MAX_WAIT_SECONDS = 86_400
MAX_RETRIES = 20


class Attempt(Struct, frozen=True, kw_only=True):
    """What one attempt got back: the receiver's status code, or why there was none (a few words, never a body)."""

    status: int | None = None
    error: str | None = None


class Delivered(Struct, frozen=True, kw_only=True, tag=True):
    status: int


class TryAgain(Struct, frozen=True, kw_only=True, tag=True):
    wait: int
    """Seconds to the next attempt."""
    status: int | None
    error: str


class GiveUp(Struct, frozen=True, kw_only=True, tag=True):
    status: int | None
    error: str
    gone: bool = False
    """The receiver said 410 Gone: switch the subscription off."""


Outcome = Delivered | TryAgain | GiveUp


def parse_waits(text: str) -> tuple[int, ...]:
    """The retry schedule from its setting: seconds, comma-separated, each 1 to a day, at most 20 (ValueError)."""
    waits = tuple(int(part) for part in text.split(",") if part.strip())
    if len(waits) > MAX_RETRIES or any(not 1 <= w <= MAX_WAIT_SECONDS for w in waits):
        raise ValueError(f"expected at most {MAX_RETRIES} waits of 1 to {MAX_WAIT_SECONDS} seconds")
    return waits


def failure_words(attempt: Attempt) -> str:
    if attempt.status is not None:
        if 300 <= attempt.status < 400:
            return f"the receiver answered {attempt.status} (a redirect, which is not followed)"
        return f"the receiver answered {attempt.status}"
    return (attempt.error or "no answer")[:200]


def outcome(attempt: Attempt, attempts: int, waits: tuple[int, ...]) -> Outcome:
    """What follows the `attempts`-th attempt of a delivery (counting from 1)."""
    status = attempt.status
    if status is not None and 200 <= status < 300:
        return Delivered(status=status)
    words = failure_words(attempt)
    if status == 410:
        return GiveUp(status=status, error=f"{words} (Gone): the subscription is switched off", gone=True)
    if attempts > len(waits):
        return GiveUp(status=status, error=f"{words}; given up after {attempts} attempts"[:200])
    return TryAgain(wait=waits[attempts - 1], status=status, error=words)


def visible_in(snapshot: str, xact: int) -> bool:
    """Whether a transaction's writes were visible in a snapshot written as PostgreSQL writes a pg_snapshot
    (`xmin:xmax:xip1,xip2,…`): it had finished before the oldest then running, or it was older than the next to start
    and not running then."""
    xmin, xmax, running = snapshot.split(":", 2)
    if xact < int(xmin):
        return True
    return xact < int(xmax) and str(xact) not in running.split(",")
