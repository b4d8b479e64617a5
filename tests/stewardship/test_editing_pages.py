"""The editors' pages, through the app on a real PostgreSQL: a service added section by section and checked, an edit
refused by scope with the API's own words, a concurrent edit shown and carried over, a validation error on each kind
of field, and hostile forms (NUL, huge text, a 10 MB file, no token) that get the form's own error and write nothing.
The pages can do no more than the API allows."""

from __future__ import annotations

import asyncio
import html
import json
import re
import uuid
from typing import Any

import pytest

from service.store.db import Connection
from service.store.keys import create_key
from tests.api.helpers import SERVICE
from tests.conftest import admin_key
from tests.stewardship.test_sign_in_and_capacity import Client, app_client, seeded, sign_in, token_in

__all__ = ["app_client"]

OTHER_AREA = {
    "kind": "custom",
    "name": "Other area",
    "boundary": {
        "type": "Polygon",
        "coordinates": [[[1.0, 52.0], [2.0, 52.0], [2.0, 53.0], [1.0, 53.0], [1.0, 52.0]]],
    },
}

ANSWERS: dict[str, dict[str, Any]] = {
    "about": {
        "name": "Test women\u2019s custody triage",
        "organisation": "Test Women\u2019s Centre",
        "slug": "",
        "description": "Triage for women in custody.\r\nCalls back within the hour.",
    },
    "kind": {
        "kind": "triage_line",
        "contexts": ["custody", "street"],
        "access_modes": ["phone"],
        "pathway_role": "",
        "pathway_priority": "2",
        "status": "active",
    },
    "eligibility": {
        "eligibility.age.min": "17.5",
        "eligibility.age.max": "",
        "eligibility.genders": ["female"],
        "eligibility.needs": ["mental_health_crisis"],
    },
    "catchment": {"location.lat": "52.5", "location.lon": "-0.5", "catchment.type": "areas", "catchment.codes": ["T1"]},
    "hours": {
        "schedule.weekly.rows": "3",
        "schedule.weekly[0].day": "",
        "schedule.weekly[1].day": "fri",
        "schedule.weekly[1].opens": "22:00",
        "schedule.weekly[1].closes": "2:00",
        "schedule.bank_holidays.mode": "special",
        "schedule.bank_holidays.hours": "10:00-16:00",
        "schedule.exceptions.rows": "2",
        "schedule.exceptions[0].date": "25/12/2026",
        "schedule.exceptions[0].hours": "closed",
        "schedule.exceptions[0].note": "Christmas Day",
    },
    "contacts": {
        "contacts.phones.rows": "2",
        "contacts.phones[0].number": "01632 960123",
        "contacts.phones[0].label": "Custody desk",
        "contacts.phones[0].professionals_only": "yes",
        "contacts.phones[0].twenty_four_hour": "yes",
        "contacts.email": "triage@example.org",
        "contacts.address.lines": "1 High Street\r\nUnit 2",
        "contacts.address.town": "Testtown",
        "contacts.address.postcode": "HU1 2AA",
    },
    "referral": {
        "referral.referrers": ["police", "liaison_diversion"],
        "referral.methods": ["phone"],
        "referral.instructions": "Ring the desk.",
        "referral.handover_target_minutes": "60",
    },
    "capacity": {"capacity.status": "available", "capacity.note": ""},
    "pathway": {"general_entry_for": ["custody"], "finds_needs": "yes"},
}


async def editor_key(conn: Connection, areas: tuple[str, ...] = ("T1",)) -> str:
    return (await create_key(conn, name="PCC office editor", role="editor", area_codes=areas, created_by="t")).key


async def as_admin(conn: Connection) -> dict[str, str]:
    return {"Authorization": f"Bearer {await admin_key(conn)}"}


async def start(client: Client, action: str) -> str:
    """Post a start form (new, or a service's edit) with the session's token; the draft's address."""
    account = await client.get("/account")
    r = await client.post(action, data={"csrf_token": token_in(account.text)})
    assert r.status_code == 303, r.text
    location: str = r.headers["location"]
    assert location.startswith("/account/drafts/"), location
    return location


async def answer(client: Client, draft: str, section: str, fields: dict[str, Any], files: Any = None) -> Any:
    page = await client.get(f"{draft}/{section}")
    assert page.status_code == 200, page.text
    data = {"csrf_token": token_in(page.text), **fields}
    if files is not None:
        return await client.post(f"{draft}/{section}", data=data, files=files)
    return await client.post(f"{draft}/{section}", data=data)


def errors(html: str) -> list[str]:
    """The error summary's messages."""
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    if summary is None:
        return []
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r"<li>(.*?)</li>", summary.group(1), re.S)]


async def indexed(client: Client, slug: str, ok: Any) -> Any:
    runtime = client.app.state.runtime
    for _ in range(100):
        found = runtime.index.by_slug.get(slug)
        if found is not None and ok(found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{slug} did not reach the index")


async def test_an_editor_adds_a_service_through_every_section_and_the_search_has_it(
    app_client: Client, conn: Connection
) -> None:
    await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    draft = await start(app_client, "/account/services/new")
    tasks = await app_client.get(draft)
    assert "Add a service" in tasks.text and tasks.text.count(">Not yet started</strong>") == 3
    assert "Check your answers</a>" not in tasks.text
    for section, fields in ANSWERS.items():
        r = await answer(app_client, draft, section, fields)
        assert r.status_code == 303, (section, errors(r.text))
    check = await app_client.get(f"{draft}/check")
    assert check.status_code == 200, errors(check.text)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", check.text))
    for said in (
        "Test women\u2019s custody triage",
        "test-womens-custody-triage",
        "17.5 and over",
        "Mental health crisis",
        "Friday 22:00-02:00",
        "25 December 2026: closed (Christmas Day)",
        "01632 960123 (Custody desk), 24 hours, professionals only",
        "60 minutes",
        "Test area",
    ):
        assert said in text, said
    saved = await app_client.post(f"{draft}/check", data={"csrf_token": token_in(check.text)})
    assert saved.status_code == 303, errors(saved.text)
    assert saved.headers["location"] == "/account/services/test-womens-custody-triage?saved=1"
    page = await app_client.get(saved.headers["location"])
    assert "Saved as version 1" in page.text and "key:PCC office editor" in page.text

    stored = (await app_client.get("/v1/services/test-womens-custody-triage", headers=await as_admin(conn))).json()
    assert stored["eligibility"]["age"] == {"min": 17.5, "max": None} or stored["eligibility"]["age"]["min"] == 17.5
    assert stored["schedule"]["weekly"] == [{"day": "fri", "opens": "22:00", "closes": "02:00"}]
    assert stored["schedule"]["bank_holidays"] == {"mode": "special", "hours": [{"opens": "10:00", "closes": "16:00"}]}
    assert stored["contacts"]["address"]["lines"] == ["1 High Street", "Unit 2"]
    assert stored["description"] == "Triage for women in custody.\nCalls back within the hour."
    assert stored["finds_needs"] is True and stored["general_entry_for"] == ["custody"]
    await indexed(app_client, "test-womens-custody-triage", lambda s: True)
    assert (await app_client.get(draft)).status_code == 404  # the draft ends once written


async def test_an_edit_outside_the_editors_scope_is_refused_with_the_apis_words(
    app_client: Client, conn: Connection
) -> None:
    admin = await as_admin(conn)
    await seeded(app_client, conn)
    assert (await app_client.put("/v1/areas/T2", json=OTHER_AREA, headers=admin)).status_code == 201
    key = await editor_key(conn, ("T2",))
    api = await app_client.put(
        f"/v1/services/{SERVICE['slug']}", json=SERVICE, headers={"Authorization": f"Bearer {key}"}
    )
    assert api.status_code == 403
    await sign_in(app_client, key)
    page = await app_client.get(f"/account/services/{SERVICE['slug']}")
    r = await app_client.post(f"/account/services/{SERVICE['slug']}/edit", data={"csrf_token": token_in(page.text)})
    assert r.status_code == 403
    detail = api.json()["detail"]
    assert detail[:1].upper() + detail[1:] in html.unescape(r.text)  # the API's words, as a sentence
    assert await conn.fetchval("select count(*) from service_drafts") == 0
    listed = await app_client.get("/account")
    assert "Test street triage" not in listed.text and "0 services" in listed.text


async def test_a_catchment_moved_out_of_scope_is_refused_at_saving_and_nothing_is_written(
    app_client: Client, conn: Connection
) -> None:
    admin = await as_admin(conn)
    await seeded(app_client, conn)
    assert (await app_client.put("/v1/areas/T2", json=OTHER_AREA, headers=admin)).status_code == 201
    await sign_in(app_client, await editor_key(conn))
    page = await app_client.get(f"/account/services/{SERVICE['slug']}")
    draft = await start_edit(app_client, page.text)
    r = await answer(app_client, draft, "catchment", {"catchment.type": "areas", "catchment.codes": ["T2"]})
    assert r.status_code == 303
    check = await app_client.get(f"{draft}/check")
    saved = await app_client.post(f"{draft}/check", data={"csrf_token": token_in(check.text)})
    assert saved.status_code == 403 and "Other area" in saved.text
    stored = (await app_client.get(f"/v1/services/{SERVICE['slug']}", headers=admin)).json()
    assert stored["catchment"] == {"type": "areas", "codes": ["T1"]} and stored["version"] == 1


async def start_edit(client: Client, page: str) -> str:
    r = await client.post(f"/account/services/{SERVICE['slug']}/edit", data={"csrf_token": token_in(page)})
    assert r.status_code == 303, r.text
    location: str = r.headers["location"]
    return location


async def test_a_concurrent_edit_is_shown_field_by_field_and_this_edit_can_be_carried_over(
    app_client: Client, conn: Connection
) -> None:
    admin = await as_admin(conn)
    await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    page = await app_client.get(f"/account/services/{SERVICE['slug']}")
    draft = await start_edit(app_client, page.text)
    about = {"name": "Test street triage (renamed)", "organisation": SERVICE["organisation"], "slug": SERVICE["slug"]}
    assert (await answer(app_client, draft, "about", about)).status_code == 303
    theirs = await app_client.patch(
        f"/v1/services/{SERVICE['slug']}", json={"description": "Changed by someone else"}, headers=admin
    )
    assert theirs.status_code == 200
    check = await app_client.get(f"{draft}/check")
    clash = await app_client.post(f"{draft}/check", data={"csrf_token": token_in(check.text)})
    assert clash.status_code == 409
    assert "Someone else changed this service while you were editing" in clash.text
    assert "Changed by someone else" in clash.text and "key:test admin" in clash.text
    assert "Test street triage (renamed)" in clash.text  # what this edit changes
    carried = await app_client.post(f"{draft}/carry-over", data={"csrf_token": token_in(clash.text)})
    assert carried.status_code == 200 and "They changed other fields than yours" in carried.text
    saved = await app_client.post(f"{draft}/check", data={"csrf_token": token_in(carried.text)})
    assert saved.status_code == 303, errors(saved.text)
    stored = (await app_client.get(f"/v1/services/{SERVICE['slug']}", headers=admin)).json()
    assert stored["name"] == "Test street triage (renamed)" and stored["description"] == "Changed by someone else"
    assert stored["version"] == 3


@pytest.mark.parametrize(
    ("section", "fields", "field", "words"),
    [
        ("about", {"name": "", "organisation": "x"}, "name", "Enter the service's name"),
        (
            "about",
            {"name": "x", "organisation": "x", "slug": "Not A Slug"},
            "slug",
            "Must be a slug: lower-case letters",
        ),
        ("kind", {"kind": "triage_line", "contexts": ["custody"]}, "access_modes", "Choose at least one way"),
        (
            "kind",
            {"kind": "spaceship", "contexts": ["custody"], "access_modes": ["phone"]},
            "kind",
            "Invalid enum value 'spaceship'",
        ),
        ("kind", {**ANSWERS["kind"], "pathway_priority": "11"}, "pathway_priority", "Expected `int` <= 10"),
        ("eligibility", {"eligibility.age.min": "abc"}, "eligibility-age-min", "The youngest age must be a number"),
        (
            "eligibility",
            {"eligibility.age.min": "25", "eligibility.age.max": "18"},
            "eligibility-age-min",
            "Min (25.0) must be below max (18.0)",
        ),
        ("eligibility", {"eligibility.needs": ["no_such_need"]}, "eligibility-needs", "Unknown need 'no_such_need'"),
        (
            "eligibility",
            {
                "eligibility.circumstances_required": ["on_probation"],
                "eligibility.circumstances_excluded": ["on_probation"],
            },
            "eligibility-circumstances_excluded",
            "cannot be both required and excluded",
        ),
        ("catchment", {"catchment.type": "radius", "catchment.km": ""}, "catchment-km", "Enter the radius"),
        (
            "catchment",
            {"catchment.type": "radius", "catchment.km": "20"},
            "catchment-type",
            "A radius catchment needs the service location",
        ),
        (
            "catchment",
            {"location.lat": "95", "location.lon": "0", "catchment.type": "national"},
            "location-lat",
            "<= 90",
        ),
        ("catchment", {"catchment.type": "areas"}, "catchment-codes", "Choose at least one area"),
        ("catchment", {"catchment.type": "polygon", "catchment.geojson": "{nope"}, "catchment-file", "not valid JSON"),
        (
            "hours",
            {
                "schedule.weekly.rows": "1",
                "schedule.weekly[0].day": "mon",
                "schedule.weekly[0].opens": "25:00",
                "schedule.weekly[0].closes": "17:00",
            },
            "schedule-weekly-0-opens",
            "Must be a real time",
        ),
        (
            "hours",
            {
                "schedule.weekly.rows": "1",
                "schedule.weekly[0].day": "mon",
                "schedule.weekly[0].opens": "09:00",
                "schedule.weekly[0].closes": "09:00",
            },
            "schedule-weekly-0",
            "Opens and closes are equal",
        ),
        (
            "hours",
            {"schedule.exceptions.rows": "1", "schedule.exceptions[0].date": "31/02/2026"},
            "schedule-exceptions-0-date",
            "Enter the date as a real date",
        ),
        (
            "hours",
            {"schedule.bank_holidays.mode": "special"},
            "schedule-bank_holidays-hours",
            "Special bank holiday hours need",
        ),
        (
            "contacts",
            {"contacts.phones.rows": "1", "contacts.phones[0].number": "call us"},
            "contacts-phones-0-number",
            "Must be a phone number",
        ),
        ("contacts", {"contacts.email": "not an email"}, "contacts-email", "Must be an email address"),
        (
            "referral",
            {"referral.handover_target_minutes": "1.5"},
            "referral-handover_target_minutes",
            "Must be a whole number",
        ),
        (
            "capacity",
            {"capacity.status": "full", "capacity.until_date": "01/01/2999", "capacity.until_time": "06:00"},
            "capacity-until_date",
            "At most 120 hours away",
        ),
        (
            "pathway",
            {"general_entry_for": ["court"]},
            "general_entry_for",
            "'court' is not one of the service's contexts",
        ),
    ],
)
async def test_a_validation_error_on_each_kind_of_field_is_shown_at_the_field_and_nothing_is_saved(
    app_client: Client, conn: Connection, section: str, fields: dict[str, Any], field: str, words: str
) -> None:
    await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    draft = await start(app_client, "/account/services/new")
    if section == "pathway":
        assert (await answer(app_client, draft, "kind", ANSWERS["kind"])).status_code == 303
    before = await conn.fetchval("select document from service_drafts")
    r = await answer(app_client, draft, section, fields)
    assert r.status_code == 400, r.text
    said = [html.unescape(e) for e in errors(r.text)]
    assert said and any(words.lower() in s.lower() for s in said), said
    assert f'href="#{field}"' in r.text and f'id="{field}"' in r.text
    assert await conn.fetchval("select document from service_drafts") == before


async def test_a_provider_and_a_reader_cannot_reach_the_pages_that_write(app_client: Client, conn: Connection) -> None:
    mine, _ = await seeded(app_client, conn)
    provider = await create_key(
        conn, name="nurse", role="provider", service_ids=(uuid.UUID(mine["id"]),), created_by="t"
    )
    reader = await create_key(conn, name="reader", role="referrer", area_codes=("T1",), created_by="t")
    for key in (provider.key, reader.key):
        await sign_in(app_client, key)
        account = await app_client.get("/account")
        assert "Add a service" not in account.text
        r = await app_client.post("/account/services/new", data={"csrf_token": token_in(account.text)})
        assert r.status_code == 403 and "may not change a service" in r.text
    page = await app_client.get(f"/account/services/{mine['slug']}")  # the reader's session: no such service of its
    assert "Change this service" not in page.text
    assert await conn.fetchval("select count(*) from service_drafts") == 0


async def test_a_draft_is_its_own_sessions_only(app_client: Client, conn: Connection) -> None:
    await seeded(app_client, conn)
    key = await editor_key(conn)
    await sign_in(app_client, key)
    draft = await start(app_client, "/account/services/new")
    await sign_in(app_client, key)  # a new session: the old one ends, and its drafts with it
    assert (await app_client.get(draft)).status_code == 404
    assert await conn.fetchval("select count(*) from service_drafts") == 0


async def test_hostile_forms_get_the_forms_own_error_and_write_nothing(app_client: Client, conn: Connection) -> None:
    await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    draft = await start(app_client, "/account/services/new")
    before = await conn.fetchval("select document from service_drafts")
    nul = await answer(app_client, draft, "about", {"name": "a\x00b", "organisation": "x"})
    assert nul.status_code == 400 and "Must not contain NUL characters" in " ".join(errors(nul.text))
    huge = await answer(app_client, draft, "about", {"name": "x", "organisation": "x", "description": "y" * 100_000})
    assert huge.status_code == 400 and any("at most" in e.lower() for e in errors(huge.text))
    big = b'{"type":"Polygon","coordinates":[[' + b"[0.0,52.0]," * 1_000_000 + b"[0.0,52.0]]]}"
    assert len(big) > 10_000_000
    upload = await answer(
        app_client, draft, "catchment", {"catchment.type": "polygon"}, files={"catchment.file": ("c.geojson", big)}
    )
    assert upload.status_code == 400 and "The file must be smaller than 2 MB" in errors(upload.text)
    deep = "[" * 100_000 + "]" * 100_000
    nested = await answer(app_client, draft, "catchment", {"catchment.type": "polygon", "catchment.geojson": deep})
    assert nested.status_code == 400
    forged = await app_client.post(f"{draft}/about", data={"csrf_token": "forged", "name": "x", "organisation": "y"})
    assert forged.status_code == 403
    assert await conn.fetchval("select document from service_drafts") == before
    check = await app_client.get(f"{draft}/check")
    no_token = await app_client.post(f"{draft}/check", data={})
    assert no_token.status_code == 403 and check.status_code == 200
    assert await conn.fetchval("select count(*) from services") == 2


async def test_a_polygon_catchment_is_taken_from_an_uploaded_geojson_feature_collection_and_drawn_on_the_map(
    app_client: Client, conn: Connection
) -> None:
    await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    draft = await start(app_client, "/account/services/new")
    square = {
        "type": "Polygon",
        "coordinates": [[[-0.6, 52.4], [-0.4, 52.4], [-0.4, 52.6], [-0.6, 52.6], [-0.6, 52.4]]],
    }
    collection = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": square}]}
    r = await answer(
        app_client,
        draft,
        "catchment",
        {"catchment.type": "polygon"},
        files={"catchment.file": ("area.geojson", json.dumps(collection).encode())},
    )
    assert r.status_code == 303, errors(r.text)
    page = await app_client.get(f"{draft}/catchment")
    assert "<svg" in page.text and "Leave empty to keep the area shown on the map" in page.text
    again = await answer(app_client, draft, "catchment", {"catchment.type": "polygon"})  # no new file: kept
    assert again.status_code == 303
    doc = await conn.fetchval("select document from service_drafts")
    assert doc["catchment"] == {"type": "polygon", "geometry": square}


async def test_text_in_a_part_that_decodes_to_no_utf8_is_refused_by_the_form_never_a_500(
    app_client: Client, conn: Connection
) -> None:
    await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    draft = await start(app_client, "/account/services/new")
    page = await app_client.get(f"{draft}/about")
    token = token_in(page.text)
    body = (
        '--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token + "\r\n"
        '--b\r\nContent-Disposition: form-data; name="name"\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n'
        "Caf+2AA-\r\n"
        '--b\r\nContent-Disposition: form-data; name="organisation"\r\n\r\nx\r\n--b--\r\n'
    ).encode()
    r = await app_client.post(
        f"{draft}/about", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert r.status_code == 400 and "not UTF-8" in r.text
    forged = body.replace(b'name="csrf_token"\r\n', b'name="csrf_token"\r\nContent-Type: text/plain; charset=utf-7\r\n')
    forged = forged.replace(token.encode(), b"+2AA-")
    r = await app_client.post(
        f"{draft}/about", content=forged, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert r.status_code == 403
    assert await conn.fetchval("select document from service_drafts") == {"status": "active"}


async def test_a_location_is_shown_back_with_every_digit_so_saving_it_again_moves_nothing(
    app_client: Client, conn: Connection
) -> None:
    await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    draft = await start(app_client, "/account/services/new")
    fields = {
        "location.lat": "52.5446123",
        "location.lon": "-0.5123456",
        "catchment.type": "radius",
        "catchment.km": "12.3456789",
    }
    assert (await answer(app_client, draft, "catchment", fields)).status_code == 303
    page = await app_client.get(f"{draft}/catchment")
    assert 'value="52.5446123"' in page.text and 'value="-0.5123456"' in page.text and 'value="12.3456789"' in page.text


async def test_a_form_too_big_to_read_says_so_at_the_section_and_writes_nothing(
    app_client: Client, conn: Connection
) -> None:
    await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    draft = await start(app_client, "/account/services/new")
    limit = app_client.app.state.runtime.settings.max_body_bytes
    r = await app_client.post(
        f"{draft}/catchment",
        content=b"x" * (limit + 1),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400 and "larger than" in r.text
    assert await conn.fetchval("select document from service_drafts") == {"status": "active"}


@pytest.mark.parametrize("raw", [b"%ff%fe", b"caf\xe9", b"%ed%a0%80x"])
async def test_a_url_encoded_form_that_is_not_utf8_is_refused_never_saved_with_bytes_replaced(
    app_client: Client, conn: Connection, raw: bytes
) -> None:
    await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    draft = await start(app_client, "/account/services/new")
    page = await app_client.get(f"{draft}/about")
    body = b"csrf_token=" + token_in(page.text).encode() + b"&organisation=x&name=" + raw
    r = await app_client.post(
        f"{draft}/about", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 400 and "not UTF-8" in r.text
    assert await conn.fetchval("select document from service_drafts") == {"status": "active"}
