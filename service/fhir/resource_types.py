"""FHIR R4 data types and resources, as far as this service uses them: frozen msgspec Structs with FHIR's own
element names, absent elements left out (service/fhir/resources.py builds them from the directory)."""

from __future__ import annotations

from msgspec import Struct


class Fhir(Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """Base for FHIR data types and resources: absent elements are left out."""


class Coding(Fhir, frozen=True, kw_only=True):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(Fhir, frozen=True, kw_only=True):
    coding: tuple[Coding, ...] | None = None
    text: str | None = None


class Reference(Fhir, frozen=True, kw_only=True):
    reference: str
    display: str | None = None


class ContactPoint(Fhir, frozen=True, kw_only=True):
    system: str
    value: str
    use: str | None = None


class Period(Fhir, frozen=True, kw_only=True):
    start: str | None = None
    end: str | None = None


class Identifier(Fhir, frozen=True, kw_only=True):
    system: str
    value: str


class Meta(Fhir, frozen=True, kw_only=True):
    lastUpdated: str | None = None


class Eligibility(Fhir, frozen=True, kw_only=True):
    code: CodeableConcept | None = None
    comment: str | None = None


class AvailableTime(Fhir, frozen=True, kw_only=True):
    daysOfWeek: tuple[str, ...] | None = None
    allDay: bool | None = None
    availableStartTime: str | None = None
    availableEndTime: str | None = None


class NotAvailable(Fhir, frozen=True, kw_only=True):
    description: str
    during: Period | None = None


class Attachment(Fhir, frozen=True, kw_only=True):
    contentType: str
    data: str


class Extension(Fhir, frozen=True, kw_only=True):
    url: str
    valueAttachment: Attachment | None = None


class Address(Fhir, frozen=True, kw_only=True):
    line: tuple[str, ...] | None = None
    city: str | None = None
    postalCode: str | None = None
    country: str | None = None


class Position(Fhir, frozen=True, kw_only=True):
    longitude: float
    latitude: float


class HealthcareService(Fhir, tag="HealthcareService", tag_field="resourceType", frozen=True, kw_only=True):
    id: str
    meta: Meta | None = None
    active: bool | None = None
    providedBy: Reference | None = None
    category: tuple[CodeableConcept, ...] | None = None
    type: tuple[CodeableConcept, ...] | None = None
    location: tuple[Reference, ...] | None = None
    name: str | None = None
    comment: str | None = None
    extraDetails: str | None = None
    telecom: tuple[ContactPoint, ...] | None = None
    coverageArea: tuple[Reference, ...] | None = None
    eligibility: tuple[Eligibility, ...] | None = None
    characteristic: tuple[CodeableConcept, ...] | None = None
    referralMethod: tuple[CodeableConcept, ...] | None = None
    appointmentRequired: bool | None = None
    availableTime: tuple[AvailableTime, ...] | None = None
    notAvailable: tuple[NotAvailable, ...] | None = None
    availabilityExceptions: str | None = None


class Location(Fhir, tag="Location", tag_field="resourceType", frozen=True, kw_only=True):
    id: str
    extension: tuple[Extension, ...] | None = None
    identifier: tuple[Identifier, ...] | None = None
    status: str | None = None
    name: str | None = None
    description: str | None = None
    mode: str | None = None
    physicalType: CodeableConcept | None = None
    address: Address | None = None
    position: Position | None = None
    managingOrganization: Reference | None = None


class Organization(Fhir, tag="Organization", tag_field="resourceType", frozen=True, kw_only=True):
    id: str
    active: bool
    name: str


class Concept(Fhir, frozen=True, kw_only=True):
    code: str
    display: str
    definition: str | None = None


class CodeSystem(Fhir, tag="CodeSystem", tag_field="resourceType", frozen=True, kw_only=True):
    id: str
    url: str
    version: str
    name: str
    title: str
    status: str
    content: str
    concept: tuple[Concept, ...]


Resource = HealthcareService | Location | Organization | CodeSystem
