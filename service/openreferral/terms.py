"""Our codes as Open Referral taxonomies, with stable ids, and the table of what each HSDS attribute of ours holds.

HSDS has no place for needs, circumstances, pathway roles, genders or capacity, and the UK profile takes the
attribute's free `value` out. So each such field of a service travels as attributes linking a taxonomy term:
- a field holding codes links the code's term in one of our published taxonomies (the needs, the circumstances,
  the fixed lists in service/domain/codes.py);
- a field holding a value (a phone, a capacity note, the slug) links a term of the `ld-pathways-values` taxonomy
  made for that value, whose `term` is the value itself (JSON for a structured one), and whose `name` and
  `description` say it in words.

`link_type` names the field, so the importer reads each attribute back into its field
(service/openreferral/importing.py). Ids are UUID 5 under one namespace: the same code or value always has the same id,
in every deployment.
"""

from __future__ import annotations

import uuid
from typing import Final

from service.domain.codes import FIXED
from service.domain.model import Taxonomies, Taxonomy
from service.openreferral import hsds

NAMESPACE: Final = uuid.UUID("7d0c7a5e-3b1f-5c8e-9a57-1d2f0b6c4e21")
PREFIX: Final = "ld-pathways-"
VALUES: Final = f"{PREFIX}values"
"""The taxonomy whose terms carry one record's value of a field HSDS cannot hold."""


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def taxonomy_id(name: str) -> str:
    return stable_id("taxonomy", name)


def term_id(taxonomy: str, code: str) -> str:
    return stable_id("term", taxonomy, code)


CODED: Final[dict[str, str]] = {
    "kind": "service-kinds",
    "context": "contexts",
    "access_mode": "access-modes",
    "gender": "genders",
    "need": "needs",
    "circumstance_required": "circumstances",
    "circumstance_excluded": "circumstances",
    "pathway_role": "pathway-roles",
    "capacity": "capacity",
    "review_status": "review-status",
    "referrer": "referrers",
    "referral_method": "referral-methods",
    "general_entry_for": "contexts",
    "fallback_for_need": "needs",
    "fallback_for_step": "pathway-roles",
}
"""Attribute link types whose term is a code, and the taxonomy (without the prefix) the code is from."""

VALUED: Final[dict[str, str]] = {
    "slug": "Stable identifier",
    "phone": "Phone",
    "capacity_until": "Capacity holds until",
    "capacity_note": "Capacity note",
    "referral_instructions": "How to refer",
    "handover_target_minutes": "Handover target (minutes)",
    "pathway_priority": "Pathway priority (1 is the highest)",
    "verified_at": "Verified at",
    "verified_by": "Verified by",
    "review_by": "Check again by (an editor's sooner date)",
    "review_due": "Review due by",
    "ods_code": "ODS code",
    "open_referral_id": "Open Referral id at the source",
    "police_station": "A police station or custody suite",
    "group_pathway": "A pathway for a group, whatever its needs",
    "finds_needs": "Finds the needs of its cohort: offered with no need given",
    "open_24_7": "Open 24 hours a day, 7 days a week",
    "bank_holidays": "Bank holidays (England and Wales)",
    "catchment": "Catchment",
}
"""Attribute link types whose term carries a value, with the words for the term's name."""


def published_taxonomies(vocab: Taxonomies) -> tuple[hsds.Taxonomy, ...]:
    """Every taxonomy we publish, each with its terms (the values taxonomy has none of its own)."""

    def versioned(t: Taxonomy, title: str) -> hsds.Taxonomy:
        name = f"{PREFIX}{t.name}"
        terms = tuple(_term(name, term.code, term.label, term.definition) for term in t.terms)
        return hsds.Taxonomy(
            id=taxonomy_id(name), name=name, description=title, version=str(t.version), taxonomy_terms=terms
        )

    fixed = tuple(
        hsds.Taxonomy(
            id=taxonomy_id(PREFIX + c.name),
            name=PREFIX + c.name,
            description=c.title,
            version="1",
            taxonomy_terms=tuple(_term(PREFIX + c.name, code, words, words) for code, words in c.words.items()),
        )
        for c in FIXED
    )
    values = hsds.Taxonomy(
        id=taxonomy_id(VALUES),
        name=VALUES,
        description="Values of a service's fields that HSDS cannot hold; each term's `term` is the value, and the "
        "attribute's link_type names the field",
        version="1",
        taxonomy_terms=(),
    )
    return (
        versioned(vocab.needs, "Needs a service meets (Liaison and Diversion)"),
        versioned(vocab.circumstances, "Circumstances a service requires or excludes"),
        *fixed,
        values,
    )


def _term(taxonomy: str, code: str, name: str, description: str) -> hsds.TaxonomyTerm:
    return hsds.TaxonomyTerm(
        id=term_id(taxonomy, code),
        name=name,
        description=description or name,
        term=code,
        taxonomy=taxonomy,
        taxonomy_id=taxonomy_id(taxonomy),
    )


def coded_term(taxonomies: dict[str, dict[str, hsds.TaxonomyTerm]], link_type: str, code: str) -> hsds.TaxonomyTerm:
    """The published term for a code (a code the vocabulary no longer lists gets a term of its own)."""
    name = PREFIX + CODED[link_type]
    found = taxonomies.get(name, {}).get(code)
    return found if found is not None else _term(name, code, code, code)


def value_term(link_type: str, value: str, description: str) -> hsds.TaxonomyTerm:
    return hsds.TaxonomyTerm(
        id=term_id(VALUES, f"{link_type}:{value}"),
        name=VALUED[link_type],
        description=description,
        term=value,
        taxonomy=VALUES,
        taxonomy_id=taxonomy_id(VALUES),
    )


def terms_by_taxonomy(taxonomies: tuple[hsds.Taxonomy, ...]) -> dict[str, dict[str, hsds.TaxonomyTerm]]:
    return {t.name: {term.term or "": term for term in t.taxonomy_terms or ()} for t in taxonomies}
