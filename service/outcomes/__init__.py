"""Referral outcomes and reports: the records (`records`, age bands only, nothing identifying), the
warnings when recording (`referral_warnings`), recording them (`recording`), their store (`store`, SQL in sql/),
retention and synthetic demo outcomes, the demand counters, the report tables and their suppression (`tables`,
`suppression`, `reports`), and the routes (/v1/referrals, /v1/reports).

May import the server and the core. Independent of the other capabilities; the pages import it (a contract says so)."""
