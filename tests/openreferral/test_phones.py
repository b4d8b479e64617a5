"""Phones in Open Referral: every number a reader may see is an HSDS 3.0 `phone` on its service as well as an
attribute, a professionals-only number only for a key holder, and the records stay valid against HSDS 3.0 and the UK
profile; the importer reads the numbers back whole, from our attributes or from any feed's `phones` arrays, and never
reads a number twice."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from typing import Any

import msgspec
import pytest

from service.domain.audience import public_record
from service.domain.model import Service
from service.openreferral import mapping as oruk_export
from service.openreferral.importing import Mapped, map_service
from service.openreferral.mapping import ANSWERED_24_HOURS, PROFESSIONALS_ONLY
from service.openreferral.reading import MAX_PHONES, phone_key, phone_words
from service.store.db import Connection
from tests.conftest import DEMO_FILE, DEMO_SERVICES, authorised
from tests.openreferral.oruk_schemas import OPENREFERRAL, hsds_problems, phone_problems, problems
from tests.openreferral.test_oruk_api import HULL, Client, ok, public
from tests.openreferral.test_oruk_import import IMPORT, directory, staff_feed
from tests.openreferral.test_oruk_mapping import BASE, PUBLISHING, body_of, demo_services, read_back, stored

__all__ = ["public"]
needs_schemas = pytest.mark.skipif(
    not OPENREFERRAL.is_dir(), reason="../shared/openreferral is absent (a user's own clone); CI always has it"
)
GSS = "http://statistics.data.gov.uk/id/statistical-geography/"


def record_of(service: Service) -> dict[str, Any]:
    """The fully nested record as a reader gets it (JSON)."""
    record: dict[str, Any] = json.loads(msgspec.json.encode(oruk_export.full(service, PUBLISHING)))
    return record


def phone_rows(record: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(p["number"], p["type"], p.get("description")) for p in record.get("phones", [])]


def demo_numbers() -> tuple[set[str], set[str]]:
    """The demo directory's professionals-only numbers (those no service gives the public), and its public ones."""
    phones = [p for s in json.loads(DEMO_FILE.read_text())["services"] for p in s.get("contacts", {}).get("phones", [])]
    public_numbers = {p["number"] for p in phones if not p.get("professionals_only")}
    return {p["number"] for p in phones if p.get("professionals_only")} - public_numbers, public_numbers


THREE = stored(
    {
        **BASE,
        "contacts": {
            "phones": [
                {"number": "0300 123 4567", "label": "Crisis line", "twenty_four_hour": True},
                {"number": "01632 960101", "label": "Duty desk", "professionals_only": True},
                {"number": "111"},
            ]
        },
    }
)


# --- what we publish ----------------------------------------------------------------------------------------


def test_every_number_of_a_service_is_an_hsds_phone_with_its_label_and_flags_in_words() -> None:
    record = record_of(THREE)
    assert phone_rows(record) == [
        ("0300 123 4567", "voice", "Crisis line. Answered 24 hours a day."),
        ("01632 960101", "voice", "Duty desk. For professionals only."),
        ("111", "voice", None),
    ]
    ids = [p["id"] for p in record["phones"]]
    assert len(set(ids)) == 3 and all(str(uuid.UUID(i)) == i for i in ids)
    assert len([a for a in record["attributes"] if a["link_type"] == "phone"]) == 3  # and still the attributes


def test_the_public_copy_of_a_service_has_no_professionals_only_number_in_phones_or_anywhere_else() -> None:
    record = record_of(public_record(THREE))
    assert [n for n, _, _ in phone_rows(record)] == ["0300 123 4567", "111"]
    assert "01632 960101" not in json.dumps(record) and PROFESSIONALS_ONLY not in json.dumps(record)


def test_a_service_with_only_professionals_only_phones_has_no_phones_for_the_public() -> None:
    duty = stored({**BASE, "contacts": {"phones": [{"number": "01632 960101", "professionals_only": True}]}})
    assert phone_rows(record_of(duty)) == [("01632 960101", "voice", PROFESSIONALS_ONLY)]
    assert "phones" not in record_of(public_record(duty))


def test_a_phones_id_is_the_same_in_every_export_and_for_every_audience_and_a_repeat_has_its_own() -> None:
    staff, anyone = record_of(THREE)["phones"], record_of(public_record(THREE))["phones"]
    assert [p["id"] for p in anyone] == [staff[0]["id"], staff[2]["id"]]
    assert record_of(THREE)["phones"] == staff
    twice = stored({**BASE, "contacts": {"phones": [{"number": "111"}, {"number": "111"}]}}, 1)
    first, second = record_of(twice)["phones"]
    assert first["id"] != second["id"]


@needs_schemas
@pytest.mark.parametrize("body", demo_services(), ids=lambda b: b["slug"])
def test_records_with_phones_conform_to_hsds_3_and_the_uk_profile_for_either_audience(body: dict[str, Any]) -> None:
    service = stored(body)
    for record in (record_of(service), record_of(public_record(service))):
        assert problems(record, "service.json", "service") == []
        assert hsds_problems(record, "service.json") == []
        for phone in record.get("phones", []):
            assert phone_problems(phone) == []
    assert len(record_of(service).get("phones", [])) == len(service.contacts.phones)


@needs_schemas
def test_the_hsds_check_of_phones_can_fail() -> None:
    record = record_of(THREE)
    record["phones"][0]["id"] = 7
    del record["phones"][1]["number"]
    found = hsds_problems(record, "service.json")
    assert any(p.startswith("phones/0/id") for p in found) and any(p.startswith("phones/1") for p in found)
    assert phone_problems({"id": str(uuid.uuid4())}) != []


# --- reading our own export back ----------------------------------------------------------------------------


def without_phone_attributes(record: dict[str, Any]) -> dict[str, Any]:
    """Our record as a consumer that keeps HSDS's phones but not our phone attributes would pass it on."""
    return {**record, "attributes": [a for a in record.get("attributes", []) if a["link_type"] != "phone"]}


def mapped(record: dict[str, Any]) -> Mapped:
    found = map_service(record, 0)
    assert not found.problems, found.problems
    assert found.record is not None
    return found


@pytest.mark.parametrize("body", demo_services(), ids=lambda b: b["slug"])
def test_every_demo_service_reads_back_unchanged_from_its_phones_array_without_our_phone_attributes(
    body: dict[str, Any],
) -> None:
    service = stored(body)
    found = mapped(without_phone_attributes(record_of(service)))
    assert not found.left_behind and not found.assumed, found
    assert found.record is not None
    assert found.record["contacts"]["phones"] == [msgspec.to_builtins(p) for p in service.contacts.phones]
    assert read_back(service) == body_of(service)  # and with both, each number once


def test_a_number_in_our_attributes_and_written_otherwise_in_the_phones_array_is_read_once() -> None:
    record = record_of(THREE)
    record["phones"][1]["number"] = "+44 (0)1632 960101"
    record["phones"][2]["description"] = "Another line"
    found = mapped(record)
    assert found.record is not None
    assert found.record["contacts"]["phones"] == [msgspec.to_builtins(p) for p in THREE.contacts.phones]


def test_the_flags_sentences_come_off_the_end_of_a_description_with_the_full_stop_before_them() -> None:
    assert phone_words("Crisis line. Answered 24 hours a day. For professionals only.") == ("Crisis line", True, True)
    assert phone_words(f"s136 suite (24 hours). {ANSWERED_24_HOURS}") == ("s136 suite (24 hours)", True, False)
    assert phone_words(PROFESSIONALS_ONLY) == ("", False, True)
    assert phone_words("Reception.") == ("Reception.", False, False)
    assert phone_words("For professionals only. Reception") == ("For professionals only. Reception", False, False)


def test_one_number_written_three_ways_is_one_number_and_another_is_not() -> None:
    keys = {phone_key(n) for n in ("01632 960101", "+44 (0)1632 960101", "0044 1632 960101", "+441632960101")}
    assert keys == {"01632960101"}
    assert phone_key("01632 960102") != phone_key("01632 960101")


# --- reading a feed that is not ours ------------------------------------------------------------------------


def foreign(**fields: Any) -> dict[str, Any]:
    """A plain HSDS service another system might publish, placed by an area URI."""
    return {
        "id": "council-feed-0003",
        "name": "Advice shop",
        "status": "active",
        "organization": {"id": "o-1", "name": "Citizens Advice", "description": ""},
        "service_areas": [{"id": "a-1", "uri": f"{GSS}E06000010"}],
        **fields,
    }


def phones_read(found: Mapped) -> list[tuple[str, str, bool, bool]]:
    assert found.record is not None
    return [
        (p["number"], p["label"], p["twenty_four_hour"], p["professionals_only"])
        for p in found.record["contacts"]["phones"]
    ]


def test_a_feeds_phones_on_the_service_its_contacts_and_its_location_are_read_each_number_once() -> None:
    contact = {
        "id": "c-1",
        "name": "Ann Persona",
        "title": "Reception Manager",
        "phones": [{"id": "p-2", "number": "01632 960302"}, {"id": "p-2b", "number": "+44 1632 960301"}],
    }
    location = {"id": "l-1", "location_type": "physical", "latitude": 53.75, "longitude": -0.34}
    sal = {
        "id": "sal-1",
        "location": location,
        "phones": [{"id": "p-3", "number": "01632 960303", "type": "textphone"}],
        "contacts": [{"id": "c-2", "phones": [{"id": "p-4", "number": "01632 960304", "extension": 12}]}],
    }
    found = mapped(
        foreign(
            phones=[{"id": "p-1", "number": "01632 960301", "type": "voice", "description": "Reception"}],
            contacts=[contact],
            service_at_locations=[sal],
        )
    )
    assert phones_read(found) == [
        ("01632 960301", "Reception", False, False),
        ("01632 960302", "Reception Manager", False, False),
        ("01632 960303", "Textphone", False, False),
        ("01632 960304", "Extension 12", False, False),
    ]
    behind = {p.field: p.reason for p in found.left_behind}
    assert {"contacts[0].name", "contacts[0].title"} <= set(behind) and "contacts" not in behind
    assert not [f for f in behind if "phones" in f], behind


def test_numbers_we_cannot_call_or_hold_are_left_behind_naming_the_phone_and_the_rest_are_read() -> None:
    found = mapped(
        foreign(
            phones=[
                {"id": "p-1", "number": "01632 960401", "type": "fax"},
                {"id": "p-2", "number": "0800 ADVICE"},
                {"id": "p-3", "number": "01632 960403", "description": "x" * 201},
                {"id": "p-4", "number": "01632 960404", "description": "Bookings", "languages": [{"id": "x"}]},
                {"id": "p-5", "number": "01632 960405", "type": "text", "extension": "4", "description": "Texts"},
                {"id": "p-6", "number": "01632 960406", "extension": "9" * 300, "description": "Switchboard"},
                {"id": "p-7", "number": "01632 960407", "description": "Bell\x07line"},
            ]
        )
    )
    assert phones_read(found) == [
        ("01632 960403", "", False, False),
        ("01632 960404", "Bookings", False, False),
        ("01632 960405", "Texts (text messages, extension 4)", False, False),
        ("01632 960406", "Switchboard", False, False),
        ("01632 960407", "", False, False),
    ]
    behind = {p.field for p in found.left_behind}
    assert {"phones[0].type", "phones[1].number", "phones[2].description", "phones[3].languages"} <= behind
    assert {"phones[5].extension", "phones[6].description"} <= behind and "phones" not in behind


def test_a_feed_saying_a_number_is_for_professionals_only_keeps_it_from_the_public_and_says_so() -> None:
    found = mapped(
        foreign(
            phones=[{"id": "p-1", "number": "01632 960501", "description": "Police control room: professionals only"}]
        )
    )
    assert phones_read(found) == [("01632 960501", "Police control room: professionals only", False, True)]
    assert [p.field for p in found.assumed if p.field.startswith("phones")] == ["phones[0].description"]


def test_past_the_twentieth_phone_numbers_are_left_behind_one_by_one() -> None:
    many = [{"id": f"p-{i}", "number": f"01632 9606{i:02d}"} for i in range(MAX_PHONES + 2)]
    found = mapped(foreign(phones=many))
    assert len(phones_read(found)) == MAX_PHONES
    assert [p.field for p in found.left_behind if p.field.startswith("phones")] == ["phones[20]", "phones[21]"]


def test_a_phone_without_a_number_is_a_problem_naming_the_field_as_hsds_requires_one() -> None:
    found = map_service(foreign(phones=[{"id": "p-1", "description": "Reception"}]), 0)
    assert found.record is None and [p.field for p in found.problems] == ["phones[0].number"]


# --- over HTTP ----------------------------------------------------------------------------------------------


def numbers_in(page: dict[str, Any]) -> set[str]:
    """Every number in the HSDS phones of a page's services (and of services nested at their locations)."""
    services = [c.get("service", c) for c in page["contents"]]
    return {p["number"] for s in services for p in s.get("phones", [])}


async def _every_anonymous_read(client: Client) -> list[str]:
    """Every Open Referral and FHIR read that embeds a service record, as text, for a reader without a key."""
    bodies: list[str] = []
    pages: list[tuple[str, dict[str, str | int]]] = [
        ("/openreferral/services", {"per_page": 1000}),
        ("/openreferral/services", {"per_page": 1000, "full": "true"}),
        ("/openreferral/service_at_locations", {"per_page": 1000}),
        ("/openreferral/service_at_locations", {"per_page": 1000, "full": "true"}),
        ("/fhir/HealthcareService", {"_count": 1000}),
    ]
    for url, params in pages:
        r = await client.get(url, params=params)
        assert r.status_code == 200, r.text
        bodies.append(r.text)
    services = (await ok(client, "/openreferral/services", per_page=1000))["contents"]
    for s in services:
        bodies.append((await client.get(f"/openreferral/services/{s['id']}")).text)
        bodies.append((await client.get(f"/fhir/HealthcareService/{s['id']}")).text)
    for sal in (await ok(client, "/openreferral/service_at_locations", per_page=1000))["contents"]:
        bodies.append((await client.get(f"/openreferral/service_at_locations/{sal['id']}")).text)
    return bodies


@needs_schemas
async def test_anonymous_readers_get_public_numbers_as_phones_and_never_a_professionals_only_number(
    public: Client,
) -> None:
    professionals_only, public_numbers = demo_numbers()
    assert professionals_only and public_numbers
    bodies = await _every_anonymous_read(public)
    assert len(bodies) > 2 * DEMO_SERVICES
    leaked = {n for n in professionals_only for body in bodies if n in body}
    assert not leaked
    full = await ok(public, "/openreferral/services", per_page=1000, full="true")
    assert numbers_in(full) == public_numbers
    for item in full["contents"]:
        assert problems(item, "service.json", "service") == [] and hsds_problems(item, "service.json") == []
    at_locations = await ok(public, "/openreferral/service_at_locations", per_page=1000, full="true")
    assert numbers_in(at_locations) and numbers_in(at_locations) <= public_numbers
    for item in at_locations["contents"]:
        assert hsds_problems(item, "service_at_location.json") == []


@needs_schemas
async def test_a_key_holder_gets_professionals_only_numbers_as_phones_flagged_in_words(
    public: Client, conn: Connection
) -> None:
    professionals_only, public_numbers = demo_numbers()
    staff = await authorised(public, conn)
    full = await ok(staff, "/openreferral/services", per_page=1000, full="true")
    assert numbers_in(full) == professionals_only | public_numbers
    for item in full["contents"]:
        assert problems(item, "service.json", "service") == [] and hsds_problems(item, "service.json") == []
    hull = next(s for s in full["contents"] if s["name"] == "Hull Women's Custody Triage")
    (phone,) = hull["phones"]
    assert (phone["number"], phone["type"]) == ("01632 960101", "voice")
    assert phone["description"] == "Triage coordinator (professionals). For professionals only."
    one = await ok(staff, f"/openreferral/services/{hull['id']}")
    assert one["phones"] == hull["phones"]
    sal = await ok(staff, f"/openreferral/service_at_locations/{one['service_at_locations'][0]['id']}")
    assert sal["service"]["phones"] == hull["phones"]
    assert problems(sal, "service_at_location.json", "service_at_location") == []
    assert hsds_problems(sal, "service_at_location.json") == []


async def test_whoever_reads_a_service_first_the_anonymous_record_never_has_its_professionals_only_phone(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    found = await ok(staff, f"/v1/services/{HULL}")
    key = staff.headers["Authorization"]
    url = f"/openreferral/services/{found['id']}"
    assert [p["number"] for p in (await ok(staff, url))["phones"]] == ["01632 960101"]
    del public.headers["Authorization"]
    assert "phones" not in await ok(public, url) and "01632 960101" not in (await public.get(url)).text
    public.headers["Authorization"] = key
    assert [p["number"] for p in (await ok(public, url))["phones"]] == ["01632 960101"]


async def test_our_export_without_its_phone_attributes_imports_into_an_empty_directory_as_it_was(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    feed, before = await staff_feed(staff), await directory(staff)
    stripped = [without_phone_attributes(s) for s in copy.deepcopy(feed["contents"])]
    assert sum(len(s.get("phones", [])) for s in stripped) == sum(len(s["contacts"]["phones"]) for s in before)
    await conn.execute("truncate services, changes restart identity cascade")
    r = await staff.post(IMPORT, content=json.dumps(stripped))
    assert r.status_code == 200, r.text
    assert r.json()["left_behind"] == [] and r.json()["assumed"] == []
    assert await directory(staff) == before


async def test_a_foreign_feeds_phones_are_stored_and_its_professionals_only_line_is_kept_from_the_public(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    feed = foreign(
        phones=[
            {"id": "p-1", "number": "01632 960601", "type": "voice", "description": "Reception", "extension": 2},
            {"id": "p-2", "number": "01632 960602", "description": "Police control room: professionals only"},
            {"id": "p-3", "number": "01632 960603", "type": "fax"},
        ],
        contacts=[{"id": "c-1", "title": "Duty manager", "phones": [{"id": "p-4", "number": "+44 1632 960601"}]}],
    )
    r = await staff.post(IMPORT, content=json.dumps([feed]))
    assert r.status_code == 200, r.text
    report = r.json()
    assert {"phones[2].type", "contacts[0].title"} <= {n["field"] for n in report["left_behind"]}
    assert "phones[1].description" in {n["field"] for n in report["assumed"]}
    (stored_service,) = [s for s in await directory(staff) if s["name"] == "Advice shop"]
    assert stored_service["contacts"]["phones"] == [
        {
            "number": "01632 960601",
            "label": "Reception (extension 2)",
            "twenty_four_hour": False,
            "professionals_only": False,
        },
        {
            "number": "01632 960602",
            "label": "Police control room: professionals only",
            "twenty_four_hour": False,
            "professionals_only": True,
        },
    ]
    del public.headers["Authorization"]
    url = f"/openreferral/services/{stored_service['id']}"
    for _ in range(40):  # the index follows the write through the change feed
        if (await public.get(url)).status_code == 200:
            break
        await asyncio.sleep(0.05)
    record = await ok(public, url)
    assert [p["number"] for p in record["phones"]] == ["01632 960601"]
    assert "01632 960602" not in json.dumps(record)
