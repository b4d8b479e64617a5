"""Sessions and the capacity form, as pure rules: a session's token and its stored id, when a session has ended, the
form's token check, and a capacity read from the form's fields (with the quick picks a provider taps at 3 a.m.).

Pure: no I/O. The store (service/stewardship/store.py) keeps sessions; the routes (service/stewardship/routes.py)
set the cookie."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import urllib.parse
from collections.abc import Mapping
from typing import Literal

from msgspec import Struct

from service.domain.access import Identity
from service.domain.errors import FieldProblem
from service.domain.model import Capacity
from service.domain.schedule import LONDON

COOKIE = "pathways_session"
SIGN_IN_COOKIE = "pathways_sign_in"
"""The sign-in form's own token, set with the form and sent back with it (no session exists yet to hold one)."""
OIDC_COOKIE = "pathways_oidc_state"
"""An OpenID Connect sign-in's state, so that only the browser that started it can finish it."""
NOTE_MAX = 200
CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
"""A time of day on the 24-hour clock, as a time input sends it (06:00), or 6:00."""
QUICK_PICKS: tuple[tuple[str, int], ...] = (("1 hour", 1), ("2 hours", 2), ("4 hours", 4), ("8 hours", 8))
"""How long "Full" lasts, one tap each; or a time of day."""

Ended = Literal["expired", "idle", "revoked"]


class Session(Struct, frozen=True, kw_only=True):
    id: str
    """The SHA-256 of the cookie's token."""
    key_hash: str | None = None
    """Made from an API key: the key's hash (the key is checked again at every request)."""
    identity: Identity | None = None
    """Made by the OpenID Connect provider: the identity its ID token gave."""
    csrf: str
    created_at: dt.datetime
    seen_at: dt.datetime
    expires_at: dt.datetime


ATTEMPT_MINUTES = 10
"""How long a person may take at the identity provider before the sign-in must start again."""


class Attempt(Struct, frozen=True, kw_only=True):
    """An OpenID Connect sign-in under way: kept by its state's SHA-256, with the nonce the ID token must carry and
    the PKCE verifier the code must be exchanged with."""

    id: str
    nonce: str
    verifier: str
    created_at: dt.datetime


def attempt_fresh(attempt: Attempt, now: dt.datetime) -> bool:
    return now - attempt.created_at < dt.timedelta(minutes=ATTEMPT_MINUTES)


def new_token() -> str:
    """256 random bits, URL-safe: the cookie's value, never stored."""
    return secrets.token_urlsafe(32)


def token_id(token: str) -> str:
    """How a session is stored and found: the token's SHA-256 (the token has 256 random bits: nothing to guess)."""
    return hashlib.sha256(token.encode()).hexdigest()


def expires_at(now: dt.datetime, lifetime: dt.timedelta) -> dt.datetime:
    return now + lifetime


def session_ended(session: Session, now: dt.datetime, idle: dt.timedelta) -> Ended | None:
    """Why a session has ended at `now`: past its absolute lifetime, or unused for longer than the idle timeout."""
    if now >= session.expires_at:
        return "expired"
    if now - session.seen_at >= idle:
        return "idle"
    return None


def tokens_match(sent: str | None, kept: str | None) -> bool:
    """A form's token against the one kept for it, in constant time; a missing one never matches."""
    if not sent or not kept:
        return False
    return hmac.compare_digest(sent.encode(errors="replace"), kept.encode(errors="replace"))


def plain_text(value: str) -> bool:
    """Whether a form's value is text UTF-8 can hold: a part sent in another charset can decode to lone surrogates,
    which nothing downstream (JSON, the database, the page) can write."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def urlencoded_utf8(body: bytes) -> bool:
    """Whether a URL-encoded form is what a browser sends (ASCII, every other byte %-escaped) and its names and
    values are UTF-8 once the escapes are read: a form read otherwise would have bad bytes replaced, silently."""
    if not body.isascii():
        return False
    try:
        urllib.parse.parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def capacity_from_form(form: Mapping[str, str], now: dt.datetime) -> tuple[Capacity | None, list[FieldProblem]]:
    """The capacity a provider chose: a status; for Full, how long (a quick pick, or a time of day in London, today
    or, when that time has passed, tomorrow); a short note."""
    status = form.get("status", "")
    note = form.get("note", "").strip()
    problems: list[FieldProblem] = []
    if status not in ("available", "limited", "full"):
        problems.append(FieldProblem(field="status", reason="choose Available, Limited or Full"))
    if len(note) > NOTE_MAX:
        problems.append(FieldProblem(field="note", reason=f"must be {NOTE_MAX} characters or fewer"))
    if "\x00" in note or any(ord(c) < 32 for c in note):
        problems.append(FieldProblem(field="note", reason="must be plain text on one line"))
    until = None
    if status == "full":
        until, problem = _full_until(form.get("full_for", ""), form.get("full_until", "").strip(), now)
        if problem is not None:
            problems.append(problem)
    if problems:
        return None, problems
    return Capacity(status=status, until=until, note=note), []  # type: ignore[arg-type]


def _full_until(choice: str, clock: str, now: dt.datetime) -> tuple[dt.datetime | None, FieldProblem | None]:
    hours = dict((str(h), h) for _, h in QUICK_PICKS)
    if choice in hours:
        return now + dt.timedelta(hours=hours[choice]), None
    if choice != "time":
        return None, FieldProblem(field="full_for", reason="choose how long it is full for")
    found = CLOCK.fullmatch(clock)
    if found is None:
        return None, FieldProblem(field="full_until", reason="enter a time such as 06:00")
    moment = dt.time(int(found[1]), int(found[2]))
    local = now.astimezone(LONDON)
    until = dt.datetime.combine(local.date(), moment, tzinfo=LONDON)
    if until <= local:
        until = dt.datetime.combine(local.date() + dt.timedelta(days=1), moment, tzinfo=LONDON)
    return until.astimezone(dt.UTC), None


STATUS_WORDS = {"available": "Available", "limited": "Limited", "full": "Full", "unknown": "Not known"}


def capacity_said(capacity: Capacity, now: dt.datetime) -> str:
    """Capacity now, as a provider reads it: "Full until Mon 07 Dec 06:00 — both beds taken"; "Not known" once
    `until` has passed."""
    status = capacity.status if capacity.until is None or capacity.until > now else "unknown"
    said = STATUS_WORDS[status]
    if status != "unknown" and capacity.until is not None:
        said += f" until {_clock(capacity.until)}"
    if status != "unknown" and capacity.note:
        said += f" — {capacity.note}"
    return said


def resets_at(capacity: Capacity, now: dt.datetime) -> str | None:
    """When the status will read as unknown again, if it is set to lapse."""
    if capacity.until is None or capacity.until <= now or capacity.status == "unknown":
        return None
    return _clock(capacity.until)


def ago(moment: dt.datetime, now: dt.datetime) -> str:
    """How long ago, in the largest whole unit: "just now", "5 minutes ago", "3 hours ago", "2 days ago"."""
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def _clock(moment: dt.datetime) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %H:%M")


def review_by_from_form(value: str) -> tuple[dt.date | None, list[FieldProblem]]:
    """The optional date to check again sooner, as 25/12/2026 (or 2026-12-25); blank is none. Whether it comes after
    today is the store's rule, as for the API."""
    value = value.strip()
    if not value:
        return None, []
    found = re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", value)
    text = f"{found.group(3)}-{int(found.group(2)):02d}-{int(found.group(1)):02d}" if found else value
    try:
        return dt.date.fromisoformat(text), []
    except ValueError:
        return None, [
            FieldProblem(field="review_by", reason="enter the date to check again as a real date, like 25/12/2026")
        ]
