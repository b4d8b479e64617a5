"""Sign-in through a real OpenID Connect provider (the `oidc-provider` package from npm, run by Node on loopback: see
oidc_provider.mjs), in Chromium, against `pathways serve` with the demo directory: a full sign-in whose claims give the
role and scope, a provider's account setting capacity, a sign-in the person cancels at the provider, an account with no
role here, and a callback replayed after it was used."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from service.settings import PROJECT_ROOT
from service.store.db import connect
from tests.conftest import LiveServer, serving
from tests.pages.test_pages import ARGS, CHROMIUM, shot
from tests.pages.test_pages import pytestmark as needs_chromium

NODE = shutil.which("node")
PROVIDER = Path(__file__).with_name("oidc_provider.mjs")
pytestmark = [
    needs_chromium,
    pytest.mark.skipif(
        NODE is None or not (PROJECT_ROOT / "node_modules" / "oidc-provider").is_dir(),
        reason="Node or node_modules/oidc-provider is missing: `make test` installs the package",
    ),
]
CLIENT_ID, CLIENT_SECRET = "ld-pathways", secrets.token_urlsafe(24)
SERVICE = "hull-place-of-safety"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
async def site(admin_dsn: str) -> AsyncIterator[tuple[LiveServer, str]]:
    """`pathways serve` configured with the provider, and the provider itself (started once the server's address,
    which it must know to send people back, is known)."""
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    async with serving(
        admin_dsn,
        PATHWAYS_OIDC_ISSUER=issuer,
        PATHWAYS_OIDC_CLIENT_ID=CLIENT_ID,
        PATHWAYS_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        PATHWAYS_OIDC_SCOPES="openid profile",
        PATHWAYS_OIDC_PROVIDER_NAME="the test provider",
        PATHWAYS_PUBLIC_URL="{base}",
    ) as server:
        env = {
            **os.environ,
            "OIDC_PORT": str(port),
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REDIRECT_URI": f"{server.base}/sign-in/oidc/callback",
            "NODE_PATH": str(PROJECT_ROOT / "node_modules"),
        }
        assert NODE is not None
        process = await asyncio.create_subprocess_exec(
            NODE, str(PROVIDER), env=env, cwd=str(PROJECT_ROOT), stdout=asyncio.subprocess.PIPE
        )
        try:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            assert line.startswith(b"ready"), line
            yield server, issuer
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


async def at_provider(page: Any, server: LiveServer, account: str) -> None:
    """From our sign-in page to the provider's, signed in there as `account`, and its consent given."""
    await page.goto(server.base + "/sign-in")
    await page.click("text=Sign in with the test provider")
    await page.fill("input[name=login]", account)
    await page.fill("input[name=password]", "anything")
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    if "/interaction/" in page.url:  # the consent prompt
        await page.click("button[type=submit]")
        await page.wait_for_load_state()


def read_json(url: str) -> Any:
    with urllib.request.urlopen(url) as r:
        return json.load(r)


async def test_a_full_sign_in_gives_the_role_and_areas_the_providers_claims_say(
    browser: Any, site: tuple[LiveServer, str]
) -> None:
    server, _ = site
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await at_provider(page, server, "editor.E23000012")
    assert page.url == server.base + "/account"
    said = " ".join((await page.inner_text("main")).split())
    assert "Signed in as Test editor.E23000012 (editor)" in said
    await shot(page, "oidc-account-390")
    await context.close()


async def test_a_provider_signed_in_by_its_organisation_sets_capacity(
    browser: Any, site: tuple[LiveServer, str]
) -> None:
    server, _ = site
    conn = await connect(server.database_url)
    try:
        service_id = await conn.fetchval("select id::text from services where slug = $1", SERVICE)
    finally:
        await conn.close()
    context = await browser.new_context()
    page = await context.new_page()
    await at_provider(page, server, f"provider.{service_id}")
    await page.click(f"a[href='/account/services/{SERVICE}/capacity']")
    await page.check("#status-limited")
    await page.fill("#note", "one bed left")
    await page.click("text=Save capacity")
    assert "Saved: Limited" in await page.inner_text("main")
    capacity = (await asyncio.to_thread(read_json, f"{server.base}/v1/services/{SERVICE}"))["capacity"]
    assert (capacity["status"], capacity["note"]) == ("limited", "one bed left")
    history = await asyncio.to_thread(read_json, f"{server.base}/v1/services/{SERVICE}/history")
    assert history[-1]["actor"] == f"oidc:Test provider.{service_id} (provider)"
    await context.close()


async def test_a_sign_in_cancelled_at_the_provider_is_refused_and_makes_no_session(
    browser: Any, site: tuple[LiveServer, str]
) -> None:
    server, _ = site
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(server.base + "/sign-in")
    await page.click("text=Sign in with the test provider")
    await page.click("text=[ Cancel ]")
    await page.wait_for_load_state()
    assert page.url.startswith(server.base + "/sign-in/oidc/callback")
    assert "The test provider did not sign you in" in await page.inner_text("main")
    assert (await page.goto(server.base + "/account")) is not None and page.url.endswith("/sign-in")
    await context.close()


async def test_an_account_with_no_role_here_is_refused(browser: Any, site: tuple[LiveServer, str]) -> None:
    server, _ = site
    context = await browser.new_context()
    page = await context.new_page()
    await at_provider(page, server, "nobody")
    assert "Your account has no role in this service" in await page.inner_text("main")
    await page.goto(server.base + "/account")
    assert page.url.endswith("/sign-in")
    await context.close()


async def test_a_callback_replayed_after_use_is_refused(browser: Any, site: tuple[LiveServer, str]) -> None:
    server, _ = site
    context = await browser.new_context()
    page = await context.new_page()
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/sign-in/oidc/callback" in r.url else None)
    await at_provider(page, server, "admin")
    assert page.url == server.base + "/account" and callbacks
    await page.goto(callbacks[0])
    assert "This sign-in" in await page.inner_text("main") and "start again" in await page.inner_text("main")
    await context.close()
