"""FHIR R4 (UK Core): HealthcareService, Location, Organization and CodeSystem resources (`resource_types`,
`resources`, pure) and the /fhir routes and their search parameters (`routes`, `search`).

May import the server, the core, and Open Referral (its mapping and published listings: the FHIR resources are
made from the same records). No other capability; only app.py imports it."""
