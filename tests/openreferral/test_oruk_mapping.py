"""The Open Referral mapping, pure: every demo service, and the schedule and catchment shapes the demo lacks, read
back from its own ORUK record to the same service body."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import msgspec
import pytest

from service.domain.model import Service, ServiceBody, Taxonomies, Taxonomy, TaxonomyTerm
from service.openreferral import mapping as oruk_export
from service.openreferral.attributes import attributes, coded_terms
from service.openreferral.importing import map_service
from service.openreferral.terms import published_taxonomies, terms_by_taxonomy
from service.settings import PROJECT_ROOT

VOCAB = Taxonomies(
    needs=Taxonomy(name="needs", version=1, terms=(TaxonomyTerm(code="alcohol", label="Alcohol", definition="d"),)),
    circumstances=Taxonomy(name="circumstances", version=1, terms=()),
)
PUBLISHING = oruk_export.Publishing(
    terms=terms_by_taxonomy(published_taxonomies(VOCAB)),
    area_names={},
    area_extents={},
    vocab_modified={},
    today=dt.date(2026, 11, 24),
)
NOW = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)


def stored(body: dict[str, Any], i: int = 0) -> Service:
    return msgspec.convert(
        {**body, "id": str(uuid.UUID(int=i + 1)), "version": 1, "created_at": NOW, "updated_at": NOW}, Service
    )


def read_back(service: Service) -> ServiceBody:
    record = json.loads(msgspec.json.encode(oruk_export.full(service, PUBLISHING)))
    mapped = map_service(record, 0)
    assert not mapped.problems and not mapped.left_behind and not mapped.assumed, mapped
    assert mapped.record is not None
    return msgspec.convert({k: v for k, v in mapped.record.items() if k != "id"}, ServiceBody)


def body_of(service: Service) -> ServiceBody:
    return msgspec.convert({f: getattr(service, f) for f in ServiceBody.__struct_fields__}, ServiceBody)


def demo_services() -> list[dict[str, Any]]:
    services: list[dict[str, Any]] = json.loads((PROJECT_ROOT / "geodata/demo/directory.json").read_text())["services"]
    return services


@pytest.mark.parametrize("body", demo_services(), ids=lambda b: b["slug"])
def test_every_demo_service_reads_back_from_its_open_referral_record_unchanged(body: dict[str, Any]) -> None:
    service = stored(body)
    assert read_back(service) == body_of(service)


BASE: dict[str, Any] = {
    "slug": "night-cafe",
    "name": "Night cafe",
    "organisation": "Mind",
    "kind": "crisis_house",
    "contexts": ["street"],
    "access_modes": ["walk_in"],
    "location": {"lon": -0.34, "lat": 53.75},
    "catchment": {"type": "radius", "km": 12.5},
}


def test_overnight_sessions_exceptions_and_special_bank_holidays_read_back_unchanged() -> None:
    schedule = {
        "weekly": [
            {"day": "fri", "opens": "20:00", "closes": "02:00"},
            {"day": "sat", "opens": "20:00", "closes": "02:00"},
            {"day": "sun", "opens": "10:00", "closes": "13:00"},
        ],
        "bank_holidays": {"mode": "special", "hours": [{"opens": "12:00", "closes": "16:00"}]},
        "exceptions": [
            {"date": "2026-12-25", "hours": [], "note": "Christmas"},
            {
                "date": "2026-12-31",
                "hours": [{"opens": "18:00", "closes": "23:00"}, {"opens": "23:30", "closes": "03:00"}],
            },
        ],
    }
    service = stored({**BASE, "schedule": schedule})
    assert read_back(service) == body_of(service)
    record = oruk_export.full(service, PUBLISHING)
    boxing_day = [s for s in record.schedules or () if s.valid_from == "2026-12-28"]  # the substitute day
    assert [(s.opens_at, s.closes_at) for s in boxing_day] == [("12:00:00", "16:00:00")]
    assert not [s for s in record.schedules or () if s.valid_from == "2026-12-25" and s.notes != "Christmas"]


def test_open_all_hours_a_polygon_and_every_flag_read_back_unchanged() -> None:
    polygon = {"type": "Polygon", "coordinates": [[[-0.4, 53.7], [-0.3, 53.7], [-0.3, 53.8], [-0.4, 53.7]]]}
    body = {
        **BASE,
        "catchment": {"type": "polygon", "geometry": polygon},
        "schedule": {"open_24_7": True},
        "eligibility": {"age": {"min": 17.5, "max": 25}, "genders": ["female", "non_binary"], "needs": ["alcohol"]},
        "capacity": {"status": "full", "until": "2026-11-25T06:00:00Z", "note": "One bed"},
        "contacts": {"phones": [{"number": "0300 123 4567", "twenty_four_hour": True}], "email": "a@b.org"},
        "referral": {"referrers": ["police"], "methods": ["walk_in"], "handover_target_minutes": 60},
        "police_station": True,
        "group_pathway": True,
        "pathway_priority": 3,
        "pathway_role": "place_of_safety",
        "fallback_for_steps": ["place_of_safety"],
        "fallback_for_needs": ["alcohol"],
        "general_entry_for": ["street"],
        "status": "temporarily_closed",
        "external_ids": {"ods_code": "RV9", "open_referral_id": "x-1"},
    }
    service = stored(body)
    assert read_back(service) == body_of(service)


def test_a_professionals_only_number_is_an_attribute_with_its_flags_and_an_hsds_phone_saying_so() -> None:
    service = stored({**BASE, "contacts": {"phones": [{"number": "01632 960101", "professionals_only": True}]}})
    (phone,) = [a for a in attributes(service, PUBLISHING.terms) if a.link_type == "phone"]
    assert phone.taxonomy_term is not None and json.loads(phone.taxonomy_term.term or "")["professionals_only"]
    (hsds_phone,) = oruk_export.full(service, PUBLISHING).phones or ()
    assert (hsds_phone.number, hsds_phone.description) == ("01632 960101", oruk_export.PROFESSIONALS_ONLY)


@pytest.mark.parametrize("body", demo_services(), ids=lambda b: b["slug"])
def test_the_terms_the_filters_match_are_exactly_the_coded_attributes_terms(body: dict[str, Any]) -> None:
    service = stored(body)
    from_attributes = [
        a.taxonomy_term
        for a in attributes(service, PUBLISHING.terms)
        if a.taxonomy_term is not None and a.taxonomy_term.taxonomy != "ld-pathways-values"
    ]
    assert coded_terms(service, PUBLISHING.terms) == from_attributes
