"""The fields of a service that HSDS has no place for, as Open Referral attributes (service/openreferral/terms.py
says how): each links a term of our taxonomies, or a term carrying the value, with `link_type` naming the field."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import msgspec

from service.domain.model import (
    AreaCatchment,
    Catchment,
    NationalCatchment,
    PolygonCatchment,
    RadiusCatchment,
    Service,
)
from service.domain.review import Review
from service.openreferral import hsds
from service.openreferral.terms import coded_term, stable_id, value_term

Terms = dict[str, dict[str, hsds.TaxonomyTerm]]


def stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def coded_fields(s: Service) -> dict[str, Sequence[str]]:
    """The service's codes from our own taxonomies, by the attribute link type that carries them."""
    e, r = s.eligibility, s.referral
    return {
        "kind": (s.kind,),
        "pathway_role": () if s.pathway_role is None else (s.pathway_role,),
        "context": s.contexts,
        "access_mode": s.access_modes,
        "gender": e.genders,
        "need": e.needs,
        "circumstance_required": e.circumstances_required,
        "circumstance_excluded": e.circumstances_excluded,
        "referrer": r.referrers,
        "referral_method": r.methods,
        "capacity": (s.capacity.status,),
        "general_entry_for": s.general_entry_for,
        "fallback_for_need": s.fallback_for_needs,
        "fallback_for_step": s.fallback_for_steps,
    }


def coded_terms(s: Service, terms: Terms) -> list[hsds.TaxonomyTerm]:
    """The terms of the coded attributes, without building the attributes (what the taxonomy filters match)."""
    return [coded_term(terms, link_type, code) for link_type, codes in coded_fields(s).items() for code in codes]


def attributes(s: Service, terms: Terms, review: Review | None = None) -> list[hsds.Attribute]:
    """Every field of ours that HSDS has no place for, as attributes (service/openreferral/terms.py); with the
    review state on the day published, when given."""
    sid = str(s.id)
    out: list[hsds.Attribute] = []

    def coded(link_type: str) -> None:
        for code in fields[link_type]:
            term = coded_term(terms, link_type, code)
            out.append(_attribute(sid, link_type, term))

    def valued(link_type: str, value: str, description: str = "") -> None:
        out.append(_attribute(sid, link_type, value_term(link_type, value, description or value)))

    fields = coded_fields(s)
    r, c = s.referral, s.capacity
    valued("slug", s.slug)
    for link_type in (
        "kind",
        "pathway_role",
        "context",
        "access_mode",
        "gender",
        "need",
        "circumstance_required",
        "circumstance_excluded",
        "referrer",
        "referral_method",
    ):
        coded(link_type)
    if r.instructions:
        valued("referral_instructions", r.instructions)
    if r.handover_target_minutes is not None:
        valued("handover_target_minutes", str(r.handover_target_minutes))
    for phone in s.contacts.phones:
        words = phone.number + (" (24 hours)" if phone.twenty_four_hour else "")
        words += " for professionals only" if phone.professionals_only else ""
        valued("phone", _compact(msgspec.to_builtins(phone)), f"{phone.label}: {words}" if phone.label else words)
    coded("capacity")
    if c.until is not None:
        valued("capacity_until", stamp(c.until))
    if c.note:
        valued("capacity_note", c.note)
    if s.pathway_priority is not None:
        valued("pathway_priority", str(s.pathway_priority))
    if s.verification is not None:
        valued("verified_at", stamp(s.verification.verified_at))
        valued("verified_by", s.verification.verified_by)
        if s.verification.review_by is not None:
            valued("review_by", s.verification.review_by.isoformat())
    if review is not None:
        if review.due is not None:
            valued("review_due", review.due.isoformat())
        out.append(_attribute(sid, "review_status", coded_term(terms, "review_status", review.status)))
    if s.external_ids.ods_code:
        valued("ods_code", s.external_ids.ods_code)
    if s.external_ids.open_referral_id:
        valued("open_referral_id", s.external_ids.open_referral_id)
    if s.police_station:
        valued("police_station", "true")
    if s.group_pathway:
        valued("group_pathway", "true")
    if s.finds_needs is not None:
        valued("finds_needs", "true" if s.finds_needs else "false")
    for link_type in ("general_entry_for", "fallback_for_need", "fallback_for_step"):
        coded(link_type)
    if s.schedule.open_24_7:
        valued("open_24_7", "true")
    if s.schedule.bank_holidays.mode != "normal":
        rule = s.schedule.bank_holidays
        valued("bank_holidays", _compact(msgspec.to_builtins(rule)), f"Bank holidays: {rule.mode}")
    valued("catchment", _catchment_value(s.catchment), _catchment_words(s.catchment))
    return out


def _attribute(sid: str, link_type: str, term: hsds.TaxonomyTerm) -> hsds.Attribute:
    return hsds.Attribute(
        id=stable_id("attribute", sid, link_type, term.id),
        link_id=sid,
        link_type=link_type,
        taxonomy_term_id=term.id,
        taxonomy_term=term,
    )


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _catchment_value(catchment: Catchment) -> str:
    """Which kind of catchment; the areas and the polygon themselves are in service_areas."""
    match catchment:
        case RadiusCatchment(km=km):
            return _compact({"type": "radius", "km": km})
        case _:
            return _compact({"type": msgspec.to_builtins(catchment)["type"]})


def _catchment_words(catchment: Catchment) -> str:
    match catchment:
        case NationalCatchment():
            return "Anywhere in England and Wales"
        case AreaCatchment():
            return "The areas listed in service_areas"
        case PolygonCatchment():
            return "Inside the area drawn (service_areas)"
        case RadiusCatchment(km=km):
            return f"Within {km:g} km of the service's location"
