"""Open Referral HSDS 3.0 records as the UK profile (ORUK 3.0) has them: what /openreferral publishes and what the
importer reads. Only the fields the profile keeps, and HSDS's `phones` (which the profile drops but does not forbid);
absent values are left out of the JSON (omit_defaults).

Read leniently: a feed may carry fields the profile dropped or we do not map; the importer reports those as left
behind (service/openreferral/importing.py) rather than refusing them here.
"""

from __future__ import annotations

from msgspec import Struct


class Hsds(Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """Base for HSDS records: immutable, and without the fields that have no value."""


class TaxonomyTerm(Hsds, frozen=True, kw_only=True):
    id: str
    name: str
    description: str
    term: str | None = None
    taxonomy: str | None = None
    taxonomy_id: str | None = None
    parent_id: str | None = None
    term_uri: str | None = None


class Taxonomy(Hsds, frozen=True, kw_only=True):
    id: str
    name: str
    description: str
    uri: str | None = None
    version: str | None = None
    taxonomy_terms: tuple[TaxonomyTerm, ...] | None = None


class Attribute(Hsds, frozen=True, kw_only=True):
    id: str
    link_id: str | None = None
    taxonomy_term_id: str | None = None
    link_type: str | None = None
    taxonomy_term: TaxonomyTerm | None = None


class Schedule(Hsds, frozen=True, kw_only=True):
    id: str
    service_id: str | None = None
    service_at_location_id: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    dtstart: str | None = None
    freq: str | None = None
    interval: float | None = None
    byday: str | None = None
    bymonthday: str | None = None
    description: str | None = None
    opens_at: str | None = None
    closes_at: str | None = None
    schedule_link: str | None = None
    attending_type: str | None = None
    notes: str | None = None


class ServiceArea(Hsds, frozen=True, kw_only=True):
    id: str
    service_id: str | None = None
    name: str | None = None
    extent: str | None = None
    extent_type: str | None = None
    uri: str | None = None
    service_area: str | None = None


class Address(Hsds, frozen=True, kw_only=True):
    id: str
    location_id: str | None = None
    attention: str | None = None
    address_1: str | None = None
    city: str | None = None
    region: str | None = None
    state_province: str | None = None
    postal_code: str | None = None
    country: str | None = None
    address_type: str | None = None


class Location(Hsds, frozen=True, kw_only=True):
    id: str
    location_type: str
    name: str | None = None
    description: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    external_identifier: str | None = None
    external_identifier_type: str | None = None
    addresses: tuple[Address, ...] | None = None
    attributes: tuple[Attribute, ...] | None = None


class OrganizationIdentifier(Hsds, frozen=True, kw_only=True):
    id: str
    identifier_type: str
    identifier: str
    organization_id: str | None = None
    identifier_scheme: str | None = None


class Organization(Hsds, frozen=True, kw_only=True):
    id: str
    name: str
    description: str
    email: str | None = None
    website: str | None = None
    uri: str | None = None
    parent_organization_id: str | None = None
    organization_identifiers: tuple[OrganizationIdentifier, ...] | None = None


class HsdsPhone(Hsds, frozen=True, kw_only=True):  # named apart from the directory's own Phone (OpenAPI names)
    """HSDS's phone: a number to call, with its label and when it is answered in `description`. The UK profile drops
    `phones`, but HSDS 3.0 has them and the profile allows them, so any consumer finds the numbers here."""

    id: str
    number: str
    extension: float | str | None = None
    """HSDS's is a number; a feed's written as text is read too."""
    type: str | None = None
    description: str | None = None


class Contact(Hsds, frozen=True, kw_only=True):
    id: str
    service_id: str | None = None
    name: str | None = None
    title: str | None = None
    phones: tuple[HsdsPhone, ...] | None = None


class ServiceAtLocation(Hsds, frozen=True, kw_only=True):
    """Nested in a service: the location, and the service's id. (A feed's may carry phones and contacts of its own;
    ours are the service's.)"""

    id: str
    service_id: str | None = None
    location_id: str | None = None
    location: Location | None = None
    phones: tuple[HsdsPhone, ...] | None = None
    contacts: tuple[Contact, ...] | None = None


class ListedService(Hsds, frozen=True, kw_only=True):
    """A service in a /services page without `full`: its one-to-one fields (HSDS's service_list)."""

    id: str
    name: str
    status: str
    organization_id: str | None = None
    description: str | None = None
    url: str | None = None
    email: str | None = None
    minimum_age: float | None = None
    maximum_age: float | None = None
    assured_date: str | None = None
    alert: str | None = None
    last_modified: str | None = None
    organization: Organization | None = None


class Service(ListedService, frozen=True, kw_only=True):
    """A service fully nested (/services/{id}, and pages with `full=true`), and a feed's service as read."""

    phones: tuple[HsdsPhone, ...] | None = None
    schedules: tuple[Schedule, ...] | None = None
    service_areas: tuple[ServiceArea, ...] | None = None
    service_at_locations: tuple[ServiceAtLocation, ...] | None = None
    contacts: tuple[Contact, ...] | None = None
    attributes: tuple[Attribute, ...] | None = None


class ServiceAtLocationFull(ServiceAtLocation, frozen=True, kw_only=True):
    """/service_at_locations: the location with its service (its one-to-one fields, or fully nested)."""

    service: Service | None = None


class About(Struct, frozen=True, kw_only=True):
    """The root of the ORUK API: the HSDS version and the profile it follows."""

    version: str
    profile: str
    openapi_url: str
