"""The pure rules of change notifications: which event a change is, the signature, where a webhook may go, what
follows each attempt, and the feeds (service/partners/events, signing, addresses, deliveries, feeds)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import uuid
import xml.etree.ElementTree as ET

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.access import Identity
from service.domain.errors import InvalidInput
from service.partners import signing
from service.partners.addresses import judged, parse_url, refusal
from service.partners.deliveries import Attempt, Delivered, GiveUp, TryAgain, outcome, parse_waits
from service.partners.events import ServiceChange, body, change_event, event_for, field_names, kinds, receives
from service.partners.feeds import FeedPage, atom, json_feed
from service.settings import Settings, SettingsError

AT = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
SERVICE_ID = uuid.UUID("0b6f1f3e-8d8a-4a55-9c0e-2f7a3b9a1c11")


def change(version: int = 2, fields: tuple[str, ...] = ("name",), closed: bool = False, id: int = 7) -> ServiceChange:
    return ServiceChange(
        id=id,
        at=AT,
        service_id=SERVICE_ID,
        slug="hull-street-triage",
        name="Hull street triage",
        version=version,
        fields=fields,
        closed=closed,
    )


# --- events -------------------------------------------------------------------------------------------------------


def test_a_services_first_version_is_its_creation_and_nothing_else() -> None:
    assert kinds(change(version=1, fields=("name", "slug", "status"))) == ("service.created",)


def test_a_closure_is_closed_first_and_a_change_too() -> None:
    assert kinds(change(fields=("status",), closed=True)) == ("service.closed", "service.changed")


def test_a_capacity_update_is_a_capacity_change_first_and_a_change_too() -> None:
    assert kinds(change(fields=("capacity.status", "capacity.until"))) == (
        "service.capacity_changed",
        "service.changed",
    )


def test_a_temporary_closure_is_a_change_not_a_closure() -> None:
    assert kinds(change(fields=("status",), closed=False)) == ("service.changed",)


def test_a_subscription_is_sent_the_most_specific_kind_it_asked_for_or_nothing() -> None:
    capacity = change(fields=("capacity.status", "name"))
    assert event_for(capacity, ["service.changed", "service.capacity_changed"]) == "service.capacity_changed"
    assert event_for(capacity, ["service.changed"]) == "service.changed"
    assert event_for(capacity, ["service.closed", "service.created"]) is None
    assert event_for(change(fields=("description",)), ["service.capacity_changed"]) is None


def test_a_message_names_fields_but_carries_no_value_and_links_to_the_record() -> None:
    event = change_event(
        change(fields=("contacts.phones", "capacity.note", "contacts.email")), "service.changed", "https://d.example/"
    )
    sent = json.loads(body(event))
    assert sent["type"] == "service.changed" and sent["timestamp"] == "2026-12-07T03:00:00Z"
    assert sent["data"]["fields"] == ["capacity", "contacts"]
    assert sent["data"]["links"] == {
        "api": f"https://d.example/v1/services/{SERVICE_ID}",
        "open_referral": f"https://d.example/openreferral/services/{SERVICE_ID}",
        "page": "https://d.example/services/hull-street-triage",
    }
    assert set(sent["data"]) == {"change_id", "service_id", "slug", "version", "changed_at", "fields", "links"}


def test_a_key_of_any_role_is_sent_changes_to_every_service_unless_it_asked_for_some_only() -> None:
    for role in ("reader", "editor", "provider", "admin", "analyst", "referrer"):
        key = Identity(kind="key", id="k", name="Partner", role=role)
        assert receives(key, (), change())
    key = Identity(kind="key", id="k", name="Partner", role="reader")
    assert receives(key, {SERVICE_ID}, change()) and not receives(key, {uuid.uuid4()}, change())


def test_no_one_without_a_key_is_sent_anything() -> None:
    assert not receives(Identity(kind="anonymous", id="", name="anonymous"), (), change())
    assert not receives(Identity(kind="jwt", id="a", name="a", role="admin"), (), change())


def test_field_names_are_the_top_level_fields_each_once() -> None:
    assert field_names(["b.c", "a", "b.d"]) == ("a", "b")


# --- signing ------------------------------------------------------------------------------------------------------

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_the_signature_is_the_standard_webhooks_reference_one() -> None:
    """The specification's published test vector: any Standard Webhooks library verifies our deliveries."""
    signed = signing.signature(VECTOR_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_receiver_refuses_an_altered_body_a_stale_timestamp_and_another_secret() -> None:
    secret, sent = signing.new_secret(), b'{"type":"service.changed"}'
    headers = signing.headers(secret, "msg_1", 1_800_000_000, sent)
    assert signing.verify(secret, headers, sent, now=1_800_000_010)
    assert not signing.verify(secret, headers, sent + b" ", now=1_800_000_010)
    assert not signing.verify(secret, headers, sent, now=1_800_000_000 + 301)
    assert not signing.verify(signing.new_secret(), headers, sent, now=1_800_000_010)
    assert not signing.verify(secret, {**headers, "webhook-id": "msg_2"}, sent, now=1_800_000_010)


def test_a_new_secret_is_256_random_bits_in_the_standard_form() -> None:
    one, two = signing.new_secret(), signing.new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(__import__("base64").b64decode(one.removeprefix("whsec_"))) == 32


# --- where a webhook may go -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # a cloud's metadata service
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_no_webhook_goes_to_a_loopback_private_link_local_multicast_or_reserved_address(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "81.2.69.160", "2606:4700::1111", "64:ff9b::808:808"])
def test_a_public_address_is_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_a_url_must_be_https_without_credentials_or_fragment_unless_private_networks_are_allowed() -> None:
    for url, reason in [
        ("http://receiver.example/hook", "https"),
        ("ftp://receiver.example/hook", "https"),
        ("https://user:pw@receiver.example/hook", "user name"),
        ("https://receiver.example/hook#x", "fragment"),
        ("https:///hook", "host"),
        ("https://receiver.example:99999/", "valid URL"),
        ("https://10.0.0.1/hook", "private"),
        ("https://[::1]:8443/hook", "loopback"),
        ("https://receiver.example/a b", "spaces"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            parse_url(url, allow_private=False)
        assert refused.value.problems[0].field == "url" and reason in refused.value.problems[0].reason, url
    allowed = parse_url("http://127.0.0.1:8080/hook?token=x", allow_private=True)
    assert (allowed.host, allowed.port, allowed.target, allowed.host_header) == (
        "127.0.0.1",
        8080,
        "/hook?token=x",
        "127.0.0.1:8080",
    )


def test_a_url_is_taken_apart_for_connecting_to_the_address_checked() -> None:
    target = parse_url("https://Receiver.example./in", allow_private=False)
    assert (target.host, target.port, target.host_header) == ("receiver.example", 443, "receiver.example")
    assert target.url_at(ipaddress.ip_address("2606:4700::1111")) == "https://[2606:4700::1111]:443/in"
    idn = parse_url("https://bücher.example/", allow_private=False)
    assert idn.host == "xn--bcher-kva.example"


@given(st.from_regex(r"\Ahttps?://[^\s\x00-\x1f\x7f]{1,80}\Z"), st.booleans())
@settings(max_examples=400, deadline=None)
def test_any_url_the_schema_lets_through_is_taken_apart_or_refused_naming_url(url: str, allow_private: bool) -> None:
    try:
        target = parse_url(url, allow_private)
    except InvalidInput as e:
        assert e.problems[0].field == "url"
        return
    assert target.host and 0 <= target.port <= 65535 and target.target.startswith("/")
    target.url_at(ipaddress.ip_address("203.0.113.9"))


def test_a_name_that_resolves_to_one_private_address_among_public_ones_is_refused() -> None:
    target = parse_url("https://receiver.example/", allow_private=False)
    public, private = ipaddress.ip_address("81.2.69.160"), ipaddress.ip_address("10.0.0.5")
    assert judged(target, [public], allow_private=False) == public
    with pytest.raises(InvalidInput, match="resolves to a private address"):
        judged(target, [public, private], allow_private=False)
    with pytest.raises(InvalidInput, match="does not resolve"):
        judged(target, [], allow_private=False)
    assert judged(target, [private], allow_private=True) == private


# --- after each attempt -------------------------------------------------------------------------------------------

WAITS = parse_waits("60,300,1800")


def test_a_2xx_delivers_and_anything_else_is_tried_again_on_the_schedule_then_given_up() -> None:
    assert outcome(Attempt(status=204), 1, WAITS) == Delivered(status=204)
    assert outcome(Attempt(status=500), 1, WAITS) == TryAgain(wait=60, status=500, error="the receiver answered 500")
    assert outcome(Attempt(error="no answer in time"), 3, WAITS) == TryAgain(
        wait=1800, status=None, error="no answer in time"
    )
    assert isinstance(outcome(Attempt(status=404), 2, WAITS), TryAgain)  # a receiver not yet deployed, say
    last = outcome(Attempt(status=503), 4, WAITS)
    assert isinstance(last, GiveUp) and not last.gone and "given up after 4 attempts" in last.error


def test_a_410_gives_up_at_once_and_switches_the_subscription_off() -> None:
    found = outcome(Attempt(status=410), 1, WAITS)
    assert isinstance(found, GiveUp) and found.gone


def test_a_redirect_is_a_failure_that_says_it_was_not_followed() -> None:
    found = outcome(Attempt(status=302), 1, WAITS)
    assert isinstance(found, TryAgain) and "not followed" in found.error


def test_the_default_schedule_tries_seven_times_over_about_a_day_and_a_bad_one_is_refused() -> None:
    waits = parse_waits("60,300,1800,7200,21600,50400")
    assert len(waits) + 1 == 7 and 20 * 3600 < sum(waits) < 24 * 3600
    for bad in ("0", "x", "86401", ",".join(["1"] * 21)):
        with pytest.raises(ValueError):
            parse_waits(bad)


# --- the feeds ----------------------------------------------------------------------------------------------------


def page(changes: tuple[ServiceChange, ...], next_url: str | None = None) -> FeedPage:
    return FeedPage(
        changes=changes,
        base="https://d.example",
        self_url="https://d.example/v1/changes/feed.atom",
        alternate_url="https://d.example/v1/changes/feed.json",
        next_url=next_url,
        now=AT,
    )


def test_the_atom_feed_has_one_entry_a_change_with_its_most_specific_kind_and_links() -> None:
    newest = msgspec.structs.replace(change(id=9, fields=("status",), closed=True), name="Hull \ufffe triage")
    feed = ET.fromstring(atom(page((newest, change(id=8, version=1)), next_url="https://d.example/x?before=8")))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = feed.findall("a:entry", ns)
    assert [e.findtext("a:id", namespaces=ns) for e in entries] == [
        "urn:ld-pathways:change:9",
        "urn:ld-pathways:change:8",
    ]
    assert entries[0].findtext("a:title", namespaces=ns) == "Closed: Hull  triage"  # no character XML cannot hold
    assert [e.find("a:category", ns).get("term") for e in entries] == ["service.closed", "service.created"]  # type: ignore[union-attr]
    assert entries[0].find("a:link[@rel='alternate']", ns).get("href") == f"https://d.example/v1/services/{SERVICE_ID}"  # type: ignore[union-attr]
    assert feed.find("a:link[@rel='next']", ns).get("href") == "https://d.example/x?before=8"  # type: ignore[union-attr]
    assert feed.findtext("a:updated", namespaces=ns) == "2026-12-07T03:00:00Z"


def test_the_json_feed_carries_each_changes_event_as_a_webhook_would() -> None:
    feed = json.loads(json_feed(page((change(fields=("capacity.status",)),))))
    assert feed["version"] == "https://jsonfeed.org/version/1.1" and "next_url" not in feed
    (item,) = feed["items"]
    assert item["tags"] == ["service.capacity_changed"] and item["_pathways"]["data"]["change_id"] == 7
    assert item["title"] == "Capacity changed: Hull street triage"


def test_the_settings_refuse_a_schedule_or_a_period_they_cannot_keep() -> None:
    assert Settings.from_env({"PATHWAYS_WEBHOOKS_RETRY_SECONDS": "1, 5"}).webhooks_retry_seconds == "1, 5"
    for name, value in [
        ("PATHWAYS_WEBHOOKS_RETRY_SECONDS", "60,soon"),
        ("PATHWAYS_WEBHOOKS_RETRY_SECONDS", "0"),
        ("PATHWAYS_WEBHOOKS_RETRY_SECONDS", "86401"),
        ("PATHWAYS_WEBHOOKS_SECONDS", "60"),
        ("PATHWAYS_WEBHOOKS_ALLOW_PRIVATE", "perhaps"),
    ]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value})


def test_a_change_is_sent_to_a_subscription_unless_it_was_visible_when_the_subscription_was_made() -> None:
    from service.partners.deliveries import visible_in

    snapshot = "100:105:100,101,103"  # 100 the oldest running, 105 the next to start, 100, 101 and 103 running
    assert visible_in(snapshot, 99) and visible_in(snapshot, 102) and visible_in(snapshot, 104)
    assert not any(visible_in(snapshot, x) for x in (100, 101, 103, 105, 200))
    assert visible_in("100:100:", 99) and not visible_in("100:100:", 100)
