"""The changes to services as a feed, for partners who cannot receive webhooks: Atom 1.0 (RFC 4287) and JSON Feed
1.1, newest first, a page at a time (`next` links to older ones). Pure.

Each entry is one change, as the event a webhook would carry (service/partners/events.py): its kind (the most
specific), the service's name, slug and version, the fields that changed by name, and links to the record. Anyone who
may read the directory may read the feed, so it says nothing a reader without a key may not see: no contact, no
value of any field, and not who made the change.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import msgspec

from service.partners.events import TITLES, ChangeEvent, EventType, ServiceChange, change_event, kinds

ATOM = "http://www.w3.org/2005/Atom"
JSON_FEED = "https://jsonfeed.org/version/1.1"
TITLE = "ld-pathways: changes to services"
EVENT_SCHEME = "urn:ld-pathways:event"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class FeedPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the feed: its changes, newest first, and the addresses that name it and the page after it."""

    changes: tuple[ServiceChange, ...]
    base: str
    self_url: str
    alternate_url: str
    next_url: str | None
    now: dt.datetime


def _time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _text(value: str) -> str:
    """Text XML 1.0 can hold: the few characters it cannot are dropped."""
    return _NOT_XML.sub("", value)


def entry_id(change: ServiceChange) -> str:
    return f"urn:ld-pathways:change:{change.id}"


def entries(page: FeedPage) -> list[tuple[ServiceChange, ChangeEvent]]:
    """Each change with its event (the most specific kind); a change that touched no field is left out."""
    found = []
    for change in page.changes:
        of = kinds(change)
        if of:
            found.append((change, change_event(change, of[0], page.base)))
    return found


def title(change: ServiceChange, kind: EventType) -> str:
    return f"{TITLES[kind]}: {change.name}"


def summary(change: ServiceChange, event: ChangeEvent) -> str:
    fields = ", ".join(event.data.fields) or "none"
    return f"{change.name} ({change.slug}), version {change.version}: {event.type}. Fields changed: {fields}."


def atom(page: FeedPage) -> bytes:
    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, tag, attributes)
        if text is not None:
            element.text = _text(text)
        return element

    found = entries(page)
    feed = ET.Element("feed", xmlns=ATOM)
    add(feed, "id", page.self_url.split("?", 1)[0])
    add(feed, "title", TITLE)
    add(feed, "updated", _time(found[0][0].at if found else page.now))
    add(feed, "link", rel="self", type="application/atom+xml", href=page.self_url)
    add(feed, "link", rel="alternate", type="application/feed+json", href=page.alternate_url)
    if page.next_url is not None:
        add(feed, "link", rel="next", type="application/atom+xml", href=page.next_url)
    author = add(feed, "author")
    add(author, "name", "ld-pathways")
    for change, event in found:
        entry = add(feed, "entry")
        add(entry, "id", entry_id(change))
        add(entry, "title", title(change, event.type))
        add(entry, "updated", _time(change.at))
        add(entry, "link", rel="alternate", type="application/json", href=event.data.links.api)
        add(entry, "link", rel="related", type="application/json", href=event.data.links.open_referral)
        add(entry, "link", rel="related", type="text/html", href=event.data.links.page)
        add(entry, "category", term=event.type, scheme=EVENT_SCHEME)
        add(entry, "summary", summary(change, event), type="text")
    text: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return text


class JsonFeedItem(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str
    title: str
    content_text: str
    date_published: dt.datetime
    tags: tuple[str, ...]
    pathways: ChangeEvent = msgspec.field(name="_pathways")
    """The event a webhook would carry for this change (JSON Feed's extensions begin with an underscore)."""


class JsonFeed(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    version: str
    title: str
    home_page_url: str
    feed_url: str
    next_url: str | None = None
    items: tuple[JsonFeedItem, ...]


def json_feed(page: FeedPage) -> bytes:
    return msgspec.json.encode(json_feed_document(page))


def json_feed_document(page: FeedPage) -> JsonFeed:
    items = tuple(
        JsonFeedItem(
            id=entry_id(change),
            url=event.data.links.api,
            title=title(change, event.type),
            content_text=summary(change, event),
            date_published=change.at,
            tags=(event.type,),
            pathways=event,
        )
        for change, event in entries(page)
    )
    feed = JsonFeed(
        version=JSON_FEED,
        title=TITLE,
        home_page_url=page.base.rstrip("/") + "/",
        feed_url=page.self_url,
        next_url=page.next_url,
        items=items,
    )
    return feed
