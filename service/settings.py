"""Settings, built from an environ mapping and passed to create_app. Nothing is cached at import time."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from msgspec import Struct

from service.domain.near import NEAR_MISS_MINUTES
from service.domain.transitions import TRANSITION_WINDOW_MONTHS

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """An environment variable has a value the service cannot use."""


class Settings(Struct, frozen=True, kw_only=True):
    database_url: str | None = None
    data_dir: str = ".pathways-data"
    host: str = "127.0.0.1"
    port: int = 8000
    default_actor: str = "local-editor"
    max_body_bytes: int = 16 * 1024 * 1024
    load_demo: bool = True
    demo_file: str = str(PROJECT_ROOT / "geodata" / "demo" / "directory.json")
    schema_dir: str = str(PROJECT_ROOT / "schema")
    pool_min_size: int = 1
    pool_max_size: int = 10
    db_connect_timeout: int = 5
    """Seconds to open a connection."""
    db_acquire_timeout: int = 5
    """Seconds to wait for a free connection from the pool."""
    db_timeout: int = 10
    """Seconds a statement may run: PostgreSQL's statement_timeout, and the client's own timeout, which also fires
    when the server is frozen and cannot time anything out itself."""
    db_lock_timeout: int = 3
    """Seconds a write waits for a row another transaction holds (an import, say) before giving up with 503."""
    log_level: str = "INFO"
    answer_cache_seconds: int = 1
    """The same search repeated within this many seconds (the same whole second, at 1) gets the answer already
    made, unless the directory changed meanwhile; 0 makes every search afresh."""
    search_cache_mb: int = 40
    """What the search's caches may hold all together, in MB (each bounded in bytes, the least recently used making
    room; their use is in /metrics as pathways_search_cache_bytes)."""
    log_format: str = "json"
    """json: one JSON object a line (production, log shippers); text: plain lines for a terminal."""
    request_log: bool = True
    """One line per request: method, route template, status, duration. Never the query string or a body."""
    metrics_access: str = "open"
    """open: /metrics for anyone who can reach the replica (keep it off the public proxy, as deploy/haproxy.cfg does);
    key: an admin key; off: no /metrics."""
    detention_window_hours: int = 24
    kind_cap: int = 3
    near_miss_minutes: int = NEAR_MISS_MINUTES
    transition_window_months: int = TRANSITION_WINDOW_MONTHS
    demo_keys: bool = False
    """On the first start with the demo directory, make an admin, an editor and a provider key and log them once, so
    that a person can sign in to the pages (`make run` sets it; never in production)."""
    session_idle_minutes: int = 30
    """A signed-in person's session ends after this many minutes unused (the pages for providers and editors)."""
    session_hours: int = 12
    """... and this many hours after signing in, however much it is used."""
    session_cookie_secure: bool = True
    oidc_issuer: str = ""
    """The deployment's OpenID Connect provider (its issuer URL); empty: sign-in with an API key only."""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid profile email"
    oidc_provider_name: str = "your organisation's account"
    """How the sign-in page names the provider ("Sign in with …")."""
    oidc_role_claim: str = "role"
    oidc_areas_claim: str = "areas"
    oidc_services_claim: str = "services"
    oidc_name_claim: str = "name"
    oidc_role_map: str = ""
    """The provider's role values to ours, e.g. `LD.Editor=editor,LD.Admin=admin`; our own role names map to
    themselves."""
    oidc_default_role: str = ""
    """The role of a person whose token names none; empty: such a person cannot sign in."""
    """The session cookie is Secure (sent over HTTPS only; browsers also send it to http://localhost and
    http://127.0.0.1, which `make run` serves). Set false only behind a proxy that is itself served over HTTPS."""
    pages_for_staff: bool = False
    """The lookup page is for staff (a custody desk, a control room): it shows professionals-only numbers to anyone.
    Off, it shows them only to a key holder. The embed never shows them (service/domain/audience.py)."""
    public_pages: bool = False
    """The pages are for the public (a deployment behind a partner's public site): the lookup page, the embed and
    the service pages leave out every service a member of the public cannot reach themselves
    (service/domain/reach.py) and say nothing about them, and show no professionals-only number. Off, a page or an
    embed asks for it with `public_only=true` (the embed script's `data-audience="public"`)."""
    """Months before the 18th birthday in which an answer flags the coming transfer from youth justice to probation."""
    """Minutes of travel within which a service outside its catchment may be listed as a near miss."""
    online_geocoder: str = ""
    geocoder_user_agent: str = "ld-pathways"
    read_access: str = "open"
    """open: anyone may read and search (Open Referral UK's expectation); key: reading needs an API key."""
    jwt_secret: str = ""
    jwt_algorithm: str = "HS256"
    jwt_audience: str = ""
    jwt_issuer: str = ""
    rate_limit_per_minute: int = 600
    auth_failures_per_minute: int = 30
    """Failed attempts (unknown keys, bad tokens) per client address a minute, before 429; 0 switches it off."""
    rate_limit_max_clients: int = 100_000
    """Most client addresses and keys whose counts a replica holds in its memory (without Redis, or while Redis is
    down); past it, the least recently counted are forgotten first."""
    trusted_proxies: str = ""
    """Comma-separated addresses of proxies whose X-Forwarded-For is believed; empty believes none."""
    body_timeout: int = 30
    """Seconds a client may take to send a request body."""
    redis_url: str = ""
    redis_namespace: str = "ld-pathways"
    cors_origins: str = ""
    public_url: str = ""
    """The deployment's public base URL (https://pathways.example.org): FHIR CodeSystem URLs and fullUrls are under
    it. Unset: the base URL each request came to."""
    """Comma-separated origins allowed to call the API from browsers; empty allows none."""
    web_assets_dir: str = str(PROJECT_ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk")
    referral_retention_months: int = 24
    """Referral records made longer ago than this are deleted (by `pathways purge` and an hourly job)."""
    reports_access: str = "key"
    """key: reports need an analyst's (or an admin's) key; open: anyone reads every area's (a demo, or a deployment
    inside one organisation's network). An analyst key is held to its areas either way."""
    review_months: int = 6
    """Months after its last check by which a service must be checked again (editors may set a sooner date); past
    it, every answer, page, embed and feed that shows the service flags it (service/domain/review.py)."""
    edits_need_review: bool = False
    """Editors' changes to a service's details are proposals, published when another editor in scope (or an admin)
    approves them; a provider's always are. Capacity and "checked today" are never held for review."""
    problem_reports_per_hour: int = 10
    """Problem reports one client address may send an hour (429 after); 0 switches the limit off."""
    problem_report_retention_days: int = 90
    """Closed problem reports (resolved or dismissed) are deleted this many days after they were closed (1 to 730)."""
    smtp_host: str = ""
    """The mail server notifications go through; empty: no mail is sent (nor queued)."""
    smtp_port: int = 25
    smtp_from: str = "ld-pathways@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    """Upgrade the connection with STARTTLS before logging in (a mail server on another machine should need it)."""
    jobs_poll_seconds: int = 5
    """How often a replica's job worker looks for jobs due (new jobs also arrive at once by LISTEN/NOTIFY); a retry
    waits at least this long."""
    notify_seconds: int = 15
    """How often problem reports and changes to watched services are turned into mail (one replica does it each
    time)."""
    webhooks_seconds: int = 5
    """How often the change log is turned into webhook deliveries for partners (one replica does it each time)."""
    webhooks_retry_seconds: str = "60,300,1800,7200,21600,50400"
    """Seconds to wait before each retry of a webhook delivery that failed, comma-separated; after the last, the
    delivery is given up (by default: seven attempts over about 23 hours)."""
    webhooks_allow_private: bool = False
    """Let webhooks be registered for, and sent to, loopback, private and link-local addresses, over http as well as
    https (tests, and deployments whose partners' receivers are on the same private network). Off, such a URL is
    refused at registration (422) and at each delivery."""
    synthetic_outcomes: int = 300
    """Synthetic outcome records added with the demo directory (clearly marked as synthetic); 0 adds none."""
    index_snapshot: bool = True
    """Keep a copy of the directory in `data_dir`/index-snapshot and build the index from it (at start-up and at
    each whole rebuild): checked against the database row by row and brought up to it, it saves reading and decoding
    every service; rewritten, off the event loop, whenever a rebuild found it missing or behind
    (service/store/local_snapshot.py). Only with DATABASE_URL: the embedded database's folder is PostgreSQL's own."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read PATHWAYS_* variables (and DATABASE_URL); unset or empty ones keep their defaults."""
        values: dict[str, object] = {}
        for name, field in ENV.items():
            raw = environ.get(name, "").strip()
            if not raw:
                continue
            default = getattr(cls(), field)
            values[field] = _parse(name, raw, default)
        settings = cls(**values)  # type: ignore[arg-type]
        if not 1 <= settings.near_miss_minutes <= MAX_NEAR_MISS_MINUTES:
            raise SettingsError(
                f"PATHWAYS_NEAR_MISS_MINUTES={settings.near_miss_minutes}: expected 1 to {MAX_NEAR_MISS_MINUTES}"
            )
        if not 1 <= settings.transition_window_months <= 24:
            raise SettingsError(
                f"PATHWAYS_TRANSITION_WINDOW_MONTHS={settings.transition_window_months}: expected 1 to 24"
            )
        if settings.reports_access not in ("open", "key"):
            raise SettingsError(f"PATHWAYS_REPORTS_ACCESS={settings.reports_access!r}: expected open or key")
        if not 1 <= settings.referral_retention_months <= 120:
            raise SettingsError(
                f"PATHWAYS_REFERRAL_RETENTION_MONTHS={settings.referral_retention_months}: expected 1 to 120"
            )
        if not 1 <= settings.review_months <= 36:
            raise SettingsError(f"PATHWAYS_REVIEW_MONTHS={settings.review_months}: expected 1 to 36")
        if not 1 <= settings.problem_report_retention_days <= 730:
            raise SettingsError(
                f"PATHWAYS_PROBLEM_REPORT_RETENTION_DAYS={settings.problem_report_retention_days}: expected 1 to 730"
            )
        if settings.database_url is not None:
            try:
                url = urlsplit(settings.database_url)
                url.port  # noqa: B018 - read for its check: a port that is not a number raises
            except ValueError as e:
                raise SettingsError(f"DATABASE_URL: {e}") from None
            if url.scheme not in ("postgres", "postgresql"):
                raise SettingsError("DATABASE_URL: expected postgresql://user@host:port/database")
        if not 1 <= settings.notify_seconds <= 59:
            raise SettingsError(f"PATHWAYS_NOTIFY_SECONDS={settings.notify_seconds}: expected 1 to 59")
        if not 1 <= settings.webhooks_seconds <= 59:
            raise SettingsError(f"PATHWAYS_WEBHOOKS_SECONDS={settings.webhooks_seconds}: expected 1 to 59")
        waits = [w.strip() for w in settings.webhooks_retry_seconds.split(",") if w.strip()]
        if len(waits) > 20 or not all(w.isascii() and w.isdigit() and 1 <= int(w) <= 86_400 for w in waits):
            raise SettingsError(
                f"PATHWAYS_WEBHOOKS_RETRY_SECONDS={settings.webhooks_retry_seconds!r}: expected at most 20 waits, "
                "comma-separated, each 1 to 86400 seconds"
            )
        if not 1 <= settings.jobs_poll_seconds <= 300:
            raise SettingsError(f"PATHWAYS_JOBS_POLL_SECONDS={settings.jobs_poll_seconds}: expected 1 to 300")
        if settings.answer_cache_seconds > 10:
            raise SettingsError(f"PATHWAYS_ANSWER_CACHE_SECONDS={settings.answer_cache_seconds}: expected 0 to 10")
        if settings.oidc_issuer and not (settings.oidc_client_id and settings.oidc_client_secret):
            raise SettingsError("PATHWAYS_OIDC_ISSUER is set: PATHWAYS_OIDC_CLIENT_ID and _SECRET are needed too")
        if settings.oidc_issuer and not settings.public_url:
            # The redirect URI is never made from a request's Host header, which a client chooses.
            raise SettingsError("PATHWAYS_OIDC_ISSUER is set: PATHWAYS_PUBLIC_URL is needed too (for the redirect URI)")
        if settings.oidc_default_role not in ("", "reader", "editor", "provider", "admin", "analyst", "referrer"):
            raise SettingsError(f"PATHWAYS_OIDC_DEFAULT_ROLE={settings.oidc_default_role!r}: expected one of our roles")
        if not 1 <= settings.session_idle_minutes <= 1440:
            raise SettingsError(f"PATHWAYS_SESSION_IDLE_MINUTES={settings.session_idle_minutes}: expected 1 to 1440")
        if not 1 <= settings.session_hours <= 168:
            raise SettingsError(f"PATHWAYS_SESSION_HOURS={settings.session_hours}: expected 1 to 168")
        if not 8 <= settings.search_cache_mb <= 65536:
            raise SettingsError(f"PATHWAYS_SEARCH_CACHE_MB={settings.search_cache_mb}: expected 8 to 65536")
        if settings.log_format not in ("json", "text"):
            raise SettingsError(f"PATHWAYS_LOG_FORMAT={settings.log_format!r}: expected json or text")
        if settings.metrics_access not in ("open", "key", "off"):
            raise SettingsError(f"PATHWAYS_METRICS_ACCESS={settings.metrics_access!r}: expected open, key or off")
        if settings.read_access not in ("open", "key"):
            raise SettingsError(f"PATHWAYS_READ_ACCESS={settings.read_access!r}: expected open or key")
        return settings


# Environment variable -> field. The README's configuration table lists these.
ENV: dict[str, str] = {
    "DATABASE_URL": "database_url",
    "PATHWAYS_DATA_DIR": "data_dir",
    "PATHWAYS_REVIEW_MONTHS": "review_months",
    "PATHWAYS_EDITS_NEED_REVIEW": "edits_need_review",
    "PATHWAYS_SMTP_HOST": "smtp_host",
    "PATHWAYS_SMTP_PORT": "smtp_port",
    "PATHWAYS_SMTP_FROM": "smtp_from",
    "PATHWAYS_SMTP_USER": "smtp_user",
    "PATHWAYS_SMTP_PASSWORD": "smtp_password",
    "PATHWAYS_SMTP_STARTTLS": "smtp_starttls",
    "PATHWAYS_JOBS_POLL_SECONDS": "jobs_poll_seconds",
    "PATHWAYS_NOTIFY_SECONDS": "notify_seconds",
    "PATHWAYS_WEBHOOKS_SECONDS": "webhooks_seconds",
    "PATHWAYS_WEBHOOKS_RETRY_SECONDS": "webhooks_retry_seconds",
    "PATHWAYS_WEBHOOKS_ALLOW_PRIVATE": "webhooks_allow_private",
    "PATHWAYS_PROBLEM_REPORTS_PER_HOUR": "problem_reports_per_hour",
    "PATHWAYS_PROBLEM_REPORT_RETENTION_DAYS": "problem_report_retention_days",
    "PATHWAYS_HOST": "host",
    "PATHWAYS_PORT": "port",
    "PATHWAYS_DEFAULT_ACTOR": "default_actor",
    "PATHWAYS_MAX_BODY_BYTES": "max_body_bytes",
    "PATHWAYS_LOAD_DEMO": "load_demo",
    "PATHWAYS_DEMO_FILE": "demo_file",
    "PATHWAYS_POOL_MIN_SIZE": "pool_min_size",
    "PATHWAYS_POOL_MAX_SIZE": "pool_max_size",
    "PATHWAYS_DB_CONNECT_TIMEOUT_SECONDS": "db_connect_timeout",
    "PATHWAYS_DB_ACQUIRE_TIMEOUT_SECONDS": "db_acquire_timeout",
    "PATHWAYS_DB_TIMEOUT_SECONDS": "db_timeout",
    "PATHWAYS_DB_LOCK_TIMEOUT_SECONDS": "db_lock_timeout",
    "PATHWAYS_LOG_LEVEL": "log_level",
    "PATHWAYS_ANSWER_CACHE_SECONDS": "answer_cache_seconds",
    "PATHWAYS_SEARCH_CACHE_MB": "search_cache_mb",
    "PATHWAYS_LOG_FORMAT": "log_format",
    "PATHWAYS_REQUEST_LOG": "request_log",
    "PATHWAYS_METRICS_ACCESS": "metrics_access",
    "PATHWAYS_DETENTION_WINDOW_HOURS": "detention_window_hours",
    "PATHWAYS_KIND_CAP": "kind_cap",
    "PATHWAYS_NEAR_MISS_MINUTES": "near_miss_minutes",
    "PATHWAYS_TRANSITION_WINDOW_MONTHS": "transition_window_months",
    "PATHWAYS_PAGES_FOR_STAFF": "pages_for_staff",
    "PATHWAYS_PUBLIC_PAGES": "public_pages",
    "PATHWAYS_DEMO_KEYS": "demo_keys",
    "PATHWAYS_SESSION_IDLE_MINUTES": "session_idle_minutes",
    "PATHWAYS_SESSION_HOURS": "session_hours",
    "PATHWAYS_SESSION_COOKIE_SECURE": "session_cookie_secure",
    "PATHWAYS_OIDC_ISSUER": "oidc_issuer",
    "PATHWAYS_OIDC_CLIENT_ID": "oidc_client_id",
    "PATHWAYS_OIDC_CLIENT_SECRET": "oidc_client_secret",
    "PATHWAYS_OIDC_SCOPES": "oidc_scopes",
    "PATHWAYS_OIDC_PROVIDER_NAME": "oidc_provider_name",
    "PATHWAYS_OIDC_ROLE_CLAIM": "oidc_role_claim",
    "PATHWAYS_OIDC_AREAS_CLAIM": "oidc_areas_claim",
    "PATHWAYS_OIDC_SERVICES_CLAIM": "oidc_services_claim",
    "PATHWAYS_OIDC_NAME_CLAIM": "oidc_name_claim",
    "PATHWAYS_OIDC_ROLE_MAP": "oidc_role_map",
    "PATHWAYS_OIDC_DEFAULT_ROLE": "oidc_default_role",
    "PATHWAYS_ONLINE_GEOCODER": "online_geocoder",
    "PATHWAYS_GEOCODER_USER_AGENT": "geocoder_user_agent",
    "PATHWAYS_CORS_ORIGINS": "cors_origins",
    "PATHWAYS_PUBLIC_URL": "public_url",
    "PATHWAYS_READ_ACCESS": "read_access",
    "PATHWAYS_JWT_SECRET": "jwt_secret",
    "PATHWAYS_JWT_ALGORITHM": "jwt_algorithm",
    "PATHWAYS_JWT_AUDIENCE": "jwt_audience",
    "PATHWAYS_JWT_ISSUER": "jwt_issuer",
    "PATHWAYS_RATE_LIMIT_PER_MINUTE": "rate_limit_per_minute",
    "PATHWAYS_AUTH_FAILURES_PER_MINUTE": "auth_failures_per_minute",
    "PATHWAYS_RATE_LIMIT_MAX_CLIENTS": "rate_limit_max_clients",
    "PATHWAYS_TRUSTED_PROXIES": "trusted_proxies",
    "PATHWAYS_BODY_TIMEOUT_SECONDS": "body_timeout",
    "REDIS_URL": "redis_url",
    "PATHWAYS_REDIS_NAMESPACE": "redis_namespace",
    "PATHWAYS_WEB_ASSETS_DIR": "web_assets_dir",
    "PATHWAYS_REFERRAL_RETENTION_MONTHS": "referral_retention_months",
    "PATHWAYS_REPORTS_ACCESS": "reports_access",
    "PATHWAYS_SYNTHETIC_OUTCOMES": "synthetic_outcomes",
    "PATHWAYS_INDEX_SNAPSHOT": "index_snapshot",
}

MAX_NEAR_MISS_MINUTES = 240
"""Four hours' travel is as far as a near miss could mean anything (and bounds the grid cells examined)."""
ZERO_ALLOWED = {
    "PATHWAYS_ANSWER_CACHE_SECONDS",
    "PATHWAYS_PROBLEM_REPORTS_PER_HOUR",
    "PATHWAYS_RATE_LIMIT_PER_MINUTE",
    "PATHWAYS_AUTH_FAILURES_PER_MINUTE",
    "PATHWAYS_SYNTHETIC_OUTCOMES",
}
"""0 switches the limit off."""
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse(name: str, raw: str, default: object) -> object:
    if isinstance(default, bool):
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise SettingsError(f"{name}={raw!r}: expected one of {sorted(_TRUE | _FALSE)}")
    if isinstance(default, int):
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
        if value < 0 or (value == 0 and name not in ZERO_ALLOWED) or (name == "PATHWAYS_PORT" and value > 65535):
            raise SettingsError(f"{name}={raw!r}: out of range")
        return value
    return raw
