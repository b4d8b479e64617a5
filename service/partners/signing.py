"""Signing a webhook as the Standard Webhooks specification says (https://www.standardwebhooks.com). Pure.

Each delivery carries `webhook-id` (the same on every attempt of one message), `webhook-timestamp` (seconds since
the epoch, when this attempt was made) and `webhook-signature`: `v1,` and the base64 HMAC-SHA256, keyed with the
subscription's secret (the base64 after `whsec_`), of `{id}.{timestamp}.{body}`. Any Standard Webhooks library
verifies it; so do the few lines of `verify`, which the README shows. A receiver should refuse a timestamp more than
five minutes from its clock (a replayed message) and a signature that does not match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A subscription's secret: 256 random bits, as Standard Webhooks writes them."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header's value for one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def verify(secret: str, received: Mapping[str, str], body: bytes, now: int) -> bool:
    """What a receiver does: the timestamp within five minutes of `now`, and one of the (space-separated) `v1`
    signatures matching, compared in constant time."""
    try:
        message_id = received["webhook-id"]
        timestamp = int(received["webhook-timestamp"])
        expected = signature(secret, message_id, timestamp, body).removeprefix("v1,")
    except (KeyError, ValueError, binascii.Error):
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    for given in received.get("webhook-signature", "").split():
        version, _, value = given.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return True
    return False
