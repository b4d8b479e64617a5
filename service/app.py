"""create_app(settings) -> Litestar: lifespan, routes, dependencies, error map, OpenAPI."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import msgspec
import swagger_ui_bundle
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.logging import LoggingConfig
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from litestar.template.config import TemplateConfig
from redis.asyncio import Redis

from service.api.areas import AreaController
from service.api.changes import ChangeController
from service.api.control_room import ControlRoomController
from service.api.documents import DirectoryController
from service.api.keys import KeyController
from service.api.referral_options import ReferralController
from service.api.services import ServiceController
from service.api.sites import SiteController
from service.fhir.routes import FhirController
from service.gaps.maps import GapMaps
from service.gaps.routes import GapReportController
from service.index.engine import IndexConfig
from service.index.keeper import IndexKeeper
from service.openreferral.published import Published
from service.openreferral.routes import OpenReferralController, OpenReferralImportController
from service.outcomes import retention
from service.outcomes.demand import DemandCounter
from service.outcomes.report_routes import ReportController
from service.outcomes.retention import add_synthetic_outcomes
from service.outcomes.routes import ReferralRecordController
from service.pages.control_room import ControlRoomPageController
from service.pages.pages import PageController
from service.pages.record import record_referral
from service.pages.reports import ReportPageController
from service.partners import dispatch as webhooks
from service.partners.routes import ChangeFeedController, WebhookController
from service.search.answered import AnswerCache
from service.search.entry import make_geocoder
from service.server.access import READ, authenticate
from service.server.bodies import StrictBodies
from service.server.deps import DEPENDENCIES
from service.server.hardening import (
    SWEEP_TASK,
    BoundedMemoryStore,
    FallbackStore,
    answer_options,
    body_deadline,
    keep_swept,
    rate_limit_identity,
    security_headers,
    trusted_proxies,
)
from service.server.health import live, ready
from service.server.identities import Identities
from service.server.jobs import Worker, housekeeping, queue_app
from service.server.logs import formatters
from service.server.metrics import admin_metrics, open_metrics
from service.server.open_reads import open_reads
from service.server.openapi import finish_openapi
from service.server.outage import Outage
from service.server.problems import ERROR_MAP
from service.server.runtime import Runtime
from service.server.telemetry import Telemetry, instrumented
from service.settings import Settings
from service.stewardship import notify
from service.stewardship.demo import demo_loop
from service.stewardship.editor import EditorController
from service.stewardship.notification_routes import NotificationController
from service.stewardship.problem_routes import ProblemPagesController, ProblemReportController
from service.stewardship.proposal_routes import ProposalController, ProposalPagesController
from service.stewardship.review_routes import ReviewReportController
from service.stewardship.routes import StewardshipController
from service.stewardship.sites import SitesController
from service.store.db import open_database
from service.store.demo import create_demo_keys, load_demo_if_empty
from service.store.local_snapshot import LocalSnapshot, snapshot_path
from service.store.migrate import migrate
from service.store.taxonomy import current_taxonomies
from service.store.territory import Territories

log = logging.getLogger("service")
SWAGGER_ASSETS = "/schema/assets"
WEB_TEMPLATES = Path(__file__).parent / "pages" / "templates"
WEB_STATIC = Path(__file__).parent / "pages" / "static"
STEWARDSHIP_TEMPLATES = Path(__file__).parent / "stewardship" / "templates"


def create_app(settings: Settings, extra_handlers: Sequence[Any] = ()) -> Litestar:
    """The app. `extra_handlers` are mounted beside the product's routes (the search benchmark adds its own)."""
    telemetry = Telemetry()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_database(settings) as db:
            async with db.pool.acquire() as conn:
                applied = await migrate(conn, settings.schema_dir)
                if applied:
                    log.info("applied migrations: %s", ", ".join(f"{m.version:04d}_{m.name}" for m in applied))
                vocab = await current_taxonomies(conn)
                report = None
                if settings.load_demo:
                    report = await load_demo_if_empty(conn, settings.demo_file, vocab)
                    if report is not None:
                        log.info("loaded the demo directory: %d services", report.services.created)
                    if report is not None and settings.demo_keys:
                        demo_keys = await create_demo_keys(conn)
                        for what, key in demo_keys:
                            # shown once, like every key; only for the demo (PATHWAYS_DEMO_KEYS, set by make run)
                            log.warning("demo key, %s: %s  (sign in at /sign-in)", what, key)
                        await demo_loop(conn, demo_keys, vocab)
            config = IndexConfig(
                detention_window=dt.timedelta(hours=settings.detention_window_hours),
                kind_cap=settings.kind_cap,
                near_miss_minutes=settings.near_miss_minutes,
                transition_window_months=settings.transition_window_months,
                cache_bytes=settings.search_cache_mb << 20,
                review_months=settings.review_months,
            )
            local = None
            if settings.index_snapshot and not db.embedded:
                local = LocalSnapshot(snapshot_path(Path(settings.data_dir) / "index-snapshot"))
            keeper = IndexKeeper(db, vocab, config, events=telemetry, local=local)
            await keeper.start()
            identities = Identities(db, settings, app.stores.get("rate_limit"))
            identities.start()
            demand = app.state.demand = DemandCounter(db)
            demand.start()
            published = app.state.published = Published(vocab, settings.review_months)
            app.state.gap_maps = GapMaps()
            app.state.runtime = Runtime(
                settings=settings,
                db=db,
                vocab=vocab,
                keeper=keeper,
                identities=identities,
                outage=Outage(db),
                territories=Territories(),
                geocoder=make_geocoder(settings.online_geocoder, settings.geocoder_user_agent),
                telemetry=telemetry,
                answers=AnswerCache(settings.answer_cache_seconds),
                searched=(demand.count,),
                caches=(published.cache_stats,),
            )
            telemetry.runtime = app.state.runtime
            if report is not None and settings.synthetic_outcomes:
                made = await add_synthetic_outcomes(db, keeper.index, settings.synthetic_outcomes)
                log.info("added %d synthetic outcome records to the demo (marked synthetic)", made)
            queue = app.state.jobs = queue_app(
                db.dsn,
                (
                    ("queue", housekeeping()),
                    ("outcomes", retention.blueprint()),
                    (notify.NAMESPACE, notify.blueprint(settings)),
                    (webhooks.NAMESPACE, webhooks.blueprint(settings)),
                ),
            )
            worker = Worker(queue, {"state": app.state}, settings.jobs_poll_seconds)
            await worker.start()
            sweeping = asyncio.create_task(keep_swept(app.stores.get("rate_limit")), name=SWEEP_TASK)
            log.info("database: %s", f"embedded ({settings.data_dir})" if db.embedded else "DATABASE_URL")
            # Open Referral records are encoded once each, in a thread, rather than by the first reader to filter.
            warming = asyncio.create_task(asyncio.to_thread(published.warm, app.state.runtime.index))
            try:
                yield
            finally:
                warming.cancel()
                await worker.stop()
                sweeping.cancel()
                await demand.stop()
                await identities.stop()
                await keeper.stop()
                telemetry.runtime = None
                store = app.stores.get("rate_limit")
                if isinstance(store, FallbackStore):
                    await store.close()

    swagger_dir = Path(swagger_ui_bundle.swagger_ui_path)
    extra: list[Any] = list(extra_handlers)
    if settings.metrics_access != "off":
        extra.append(open_metrics if settings.metrics_access == "open" else admin_metrics)
    govuk = Path(settings.web_assets_dir)
    if (govuk / "govuk-frontend.min.css").is_file():
        # GOV.UK Frontend from npm (make installs it); its CSS refers to /assets/fonts and /assets/images.
        extra += [
            create_static_files_router(path="/govuk", directories=[govuk], include_in_schema=False),
            create_static_files_router(path="/assets", directories=[govuk / "assets"], include_in_schema=False),
        ]
    else:
        log.warning("GOV.UK Frontend not found at %s: the pages will be unstyled (run make)", govuk)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    app = Litestar(
        route_handlers=[
            live,
            ready,
            ServiceController,
            AreaController,
            SiteController,
            DirectoryController,
            OpenReferralImportController,
            ReferralController,
            ControlRoomController,
            ReferralRecordController,
            ReportController,
            GapReportController,
            ReviewReportController,
            ProblemReportController,
            ProposalController,
            OpenReferralController,
            FhirController,
            Router(
                path="/",
                route_handlers=[PageController, ControlRoomPageController, record_referral, ReportPageController],
                guards=READ,
            ),
            StewardshipController,
            EditorController,
            SitesController,
            ProblemPagesController,
            NotificationController,
            ProposalPagesController,
            KeyController,
            ChangeController,
            ChangeFeedController,
            WebhookController,
            create_static_files_router(path="/static", directories=[WEB_STATIC], include_in_schema=False),
            create_static_files_router(path=SWAGGER_ASSETS, directories=[swagger_dir], include_in_schema=False),
            *extra,
        ],
        lifespan=[lifespan],
        dependencies=DEPENDENCIES,
        plugins=[StrictBodies()],
        exception_handlers=ERROR_MAP,
        request_max_body_size=settings.max_body_bytes,
        middleware=[
            answer_options,
            *trusted_proxies(settings.trusted_proxies),
            body_deadline(settings.body_timeout),
            authenticate,
            *_rate_limit(settings),
        ],
        before_send=[security_headers],
        stores=_stores(settings),
        template_config=TemplateConfig(directory=[WEB_TEMPLATES, STEWARDSHIP_TEMPLATES], engine=JinjaTemplateEngine),
        cors_config=CORSConfig(allow_origins=origins, allow_methods=["GET", "POST"]) if origins else None,
        openapi_config=OpenAPIConfig(
            title="ld-pathways",
            version=version("ld-pathways"),
            description=(
                "Liaison and Diversion referral pathway directory and routing API for England and Wales. "
                "Errors are application/problem+json (RFC 9457) naming the offending field."
            ),
            path="/schema",
            use_handler_docstrings=True,
            render_plugins=[
                SwaggerRenderPlugin(
                    path=["/", "/swagger"],
                    js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>",
                )
            ],
        ),
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            formatters=formatters(settings.log_format),
            # asyncpg's pool logs a traceback each time it retries its minimum size during an outage; the service
            # says once that the database is down, and once that it is back.
            # procrastinate logs each job's start and end at INFO: every few seconds for the notifier.
            loggers={
                "pgserver": {"level": "WARNING"},
                "asyncpg.pool": {"level": "ERROR"},
                "procrastinate": {"level": "WARNING"},
                # httpx logs each request's whole URL at INFO: a webhook's query string may hold its receiver's token.
                "httpx": {"level": "WARNING"},
            },
            # The error map logs unexpected errors once; 4xx answers are not worth a traceback.
            log_exceptions="never",
        ),
    )
    finish_openapi(app.openapi_schema)
    app.asgi_handler = instrumented(
        open_reads(app.asgi_handler, settings.read_access == "open"), telemetry, settings.request_log
    )
    return app


def _rate_limit(settings: Settings) -> list[Any]:
    """Per key or client address; PATHWAYS_RATE_LIMIT_PER_MINUTE=0 switches it off."""
    if settings.rate_limit_per_minute == 0:
        return []
    config = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        identifier_for_request=rate_limit_identity,
        exclude=["/health", "/static", "/govuk", "/assets", "/schema", "/metrics"],
    )
    return [config.middleware]


def _stores(settings: Settings) -> StoreRegistry:
    """Rate-limit counters in bounded memory by default; in Redis when REDIS_URL is set, so replicas share limits
    (and in bounded memory again while Redis cannot be reached). A store asked for by any other name is bounded
    memory too, never litestar's default unbounded MemoryStore."""
    memory = BoundedMemoryStore(settings.rate_limit_max_clients)
    store: Store = memory
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        store = FallbackStore(
            RedisStore(client, namespace=settings.redis_namespace, handle_client_shutdown=True), memory
        )
    return StoreRegistry(
        {"rate_limit": store}, default_factory=lambda _: BoundedMemoryStore(settings.rate_limit_max_clients)
    )


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The OpenAPI document as plain JSON data (defaults that are Structs encoded as msgspec does)."""
    document: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(app.openapi_schema.to_schema()))
    return document
