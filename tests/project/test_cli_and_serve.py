"""The `pathways` command as a user runs it: import with progress, export, and `serve` on the embedded database."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from service.store.db import Connection
from tests.conftest import DEMO_FILE, SHARED_GEODATA, needs_shared

PATHWAYS = str(Path(sys.executable).with_name("pathways"))


def run(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "DATABASE_URL": database_url, **env}
    return subprocess.run([PATHWAYS, *args], env=environ, capture_output=True, text=True, timeout=120, check=False)


async def test_cli_import_reports_progress_and_export_round_trips(
    database_url: str, conn: Connection, tmp_path: Path
) -> None:
    imported = run(database_url, "import", str(DEMO_FILE), "--actor", "cli-test")
    assert imported.returncode == 0, imported.stderr
    assert "importing services" in imported.stderr and "(100%)" in imported.stderr
    report = json.loads(imported.stdout)
    assert report["services"]["created"] == len(json.loads(DEMO_FILE.read_bytes())["services"])
    assert await conn.fetchval("select count(*) from changes where actor = 'cli-test'") > 0

    out = tmp_path / "export.json"
    assert run(database_url, "export", "-o", str(out)).returncode == 0
    await conn.execute("truncate services, sites, areas, changes restart identity cascade")
    assert run(database_url, "import", str(out)).returncode == 0
    again = run(database_url, "export")
    assert json.loads(again.stdout) == json.loads(out.read_text())


async def test_cli_import_of_a_bad_document_names_records_exits_1_and_writes_nothing(
    database_url: str, conn: Connection, tmp_path: Path
) -> None:
    document = json.loads(DEMO_FILE.read_bytes())
    document["services"][2]["eligibility"]["needs"] = ["astrology"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    result = run(database_url, "import", str(bad))
    slug = document["services"][2]["slug"]
    assert result.returncode == 1
    assert f"services[2] ({slug}): eligibility.needs[0]: unknown need 'astrology'" in result.stderr
    assert await conn.fetchval("select count(*) from changes") == 0


@needs_shared()
async def test_cli_imports_the_police_force_areas(database_url: str, conn: Connection) -> None:
    result = run(
        database_url,
        "import-areas",
        str(SHARED_GEODATA / "police_force_areas.geojson"),
        "--code-property",
        "PFA23CD",
        "--name-property",
        "PFA23NM",
        "--kind",
        "police_force_area",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["created"] == 43
    assert await conn.fetchval("select count(*) from areas where kind = 'police_force_area'") == 43


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def _serve_until_ready(data_dir: Path, port: int, **more: str) -> tuple[subprocess.Popen[str], float]:
    """`pathways serve` on the embedded database (or on DATABASE_URL when given in `more`), until ready."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"PATHWAYS_DATA_DIR": str(data_dir), "PATHWAYS_PORT": str(port), **more}
    started = time.monotonic()
    process = subprocess.Popen(
        [PATHWAYS, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    while time.monotonic() - started < 90:
        try:
            if _get(f"http://127.0.0.1:{port}/health/ready")[0] == 200:
                return process, time.monotonic() - started
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    output = process.communicate()[0]
    pytest.fail(f"pathways serve did not become ready:\n{output}")


def _stop(process: subprocess.Popen[str]) -> str:
    """Stopped as an operator would (Ctrl-C); what it printed."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    return process.communicate()[0]


@pytest.mark.embedded
def test_serve_on_the_embedded_database_lists_the_demo_and_keeps_data_across_a_restart(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", _free_port()
    process, _ = _serve_until_ready(data_dir, port)
    try:
        status, page = _get(f"http://127.0.0.1:{port}/v1/services?limit=200")
        assert status == 200 and page["total"] == len(json.loads(DEMO_FILE.read_bytes())["services"])
        version = _get(f"http://127.0.0.1:{port}/health/ready")[1]["directory_version"]
    finally:
        _stop(process)

    process, seconds = _serve_until_ready(data_dir, port)
    try:
        assert seconds < 15, f"a restart took {seconds:.1f}s to be ready"
        assert _get(f"http://127.0.0.1:{port}/health/ready")[1]["directory_version"] == version
    finally:
        _stop(process)


async def test_serve_restarted_starts_from_its_local_snapshot_brought_up_to_the_database(
    database_url: str, conn: Connection, tmp_path: Path
) -> None:
    assert run(database_url, "import", str(DEMO_FILE)).returncode == 0
    data_dir, port = tmp_path / "data", _free_port()
    settings = {"DATABASE_URL": database_url, "PATHWAYS_LOAD_DEMO": "false", "PATHWAYS_LOG_FORMAT": "text"}
    process, _ = await asyncio.to_thread(_serve_until_ready, data_dir, port, **settings)
    first = await asyncio.to_thread(_stop, process)  # which waits for the snapshot to be written
    assert "from the database" in first and (data_dir / "index-snapshot" / "directory.json").is_file()

    slug = json.loads(DEMO_FILE.read_bytes())["services"][0]["slug"]
    await conn.execute("update services set body = jsonb_set(body, '{name}', '\"Renamed\"') where slug = $1", slug)
    process, _ = await asyncio.to_thread(_serve_until_ready, data_dir, port, **settings)
    try:
        version = await conn.fetchval("select coalesce(max(id), 0) from changes")
        status, health = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/health/ready")
        assert status == 200 and health["directory_version"] == version
    finally:
        second = await asyncio.to_thread(_stop, process)
    assert "from the local snapshot (1 service(s) read again from the database)" in second


@needs_shared()
async def test_cli_imports_the_public_outcode_table_and_searches_resolve_by_it(
    database_url: str, conn: Connection, settings: Any
) -> None:
    from litestar.testing import AsyncTestClient

    from service.app import create_app
    from service.settings import Settings

    result = run(database_url, "import-postcodes", str(SHARED_GEODATA / "outcodes.csv"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"imported": 2864}
    async with AsyncTestClient(app=create_app(Settings(database_url=database_url, load_demo=False))) as client:
        r = await client.get("/v1/referral-options?postcode=YO1 7HH&context=street&age=30")
        assert r.status_code == 200, r.text
        assert r.json()["origin"]["label"] == "YO1"


async def test_a_malformed_postcode_table_is_refused_naming_the_row(
    database_url: str, conn: Connection, tmp_path: Path
) -> None:
    bad = tmp_path / "codes.csv"
    bad.write_text("outcode,latitude,longitude\nHU1,53.74,-0.33\nNOT A CODE,53.7,-0.3\nHU2,north,-0.3\n")
    result = run(database_url, "import-postcodes", str(bad))
    assert result.returncode == 1
    assert "rows[1] (NOT A CODE): outcode" in result.stderr and "rows[2] (HU2): latitude" in result.stderr
    assert await conn.fetchval("select count(*) from postcode_centroids") == 0


async def test_the_first_admin_key_comes_from_the_cli_and_is_shown_once(
    database_url: str, conn: Connection, settings: Any
) -> None:
    from litestar.testing import AsyncTestClient

    from service.app import create_app

    created = run(database_url, "keys", "create", "--name", "first admin", "--role", "admin")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("ldp_") and "only time the key is shown" in created.stderr
    assert await conn.fetchval("select count(*) from api_keys where key_hash like $1", f"%{key}%") == 0
    listed = run(database_url, "keys", "list")
    assert "first admin" in listed.stdout and key not in listed.stdout
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/v1/keys", headers={"Authorization": f"Bearer {key}"})).status_code == 200
        key_id = listed.stdout.split()[0]
        assert run(database_url, "keys", "revoke", key_id).returncode == 0
        await asyncio.sleep(0.6)  # past the half-second key cache
        assert (await client.get("/v1/keys", headers={"Authorization": f"Bearer {key}"})).status_code == 401


# --- which database a command uses, said out loud; help, version, no third-party warnings ------------------------


def _embedded_env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PATHWAYS_DATA_DIR", "XDG_RUNTIME_DIR")}
    return env | more


@pytest.mark.embedded
def test_a_command_beside_a_server_on_another_data_folder_warns_and_with_the_servers_setting_does_not(
    tmp_path: Path,
) -> None:
    short = Path(tempfile.mkdtemp(prefix="ldp-"))  # PostgreSQL's socket path must stay short
    data_dir, port = short / "server-data", _free_port()
    elsewhere = short / "elsewhere"
    elsewhere.mkdir()
    process, _ = _serve_until_ready(data_dir, port)
    try:
        args = [PATHWAYS, "keys", "create", "--name", "an admin", "--role", "admin"]
        apart = subprocess.run(args, env=_embedded_env(), cwd=elsewhere, capture_output=True, text=True, timeout=120)
        assert apart.returncode == 0, apart.stderr
        assert (
            f"writing to the embedded PostgreSQL in {elsewhere / '.pathways-data'} (PATHWAYS_DATA_DIR: the default"
            in (apart.stderr)
        )
        assert f"warning: a server is running (process {process.pid}) on the embedded PostgreSQL in {data_dir}" in (
            apart.stderr
        )
        assert f"run the command with PATHWAYS_DATA_DIR={data_dir}" in apart.stderr
        assert "Warning" not in apart.stderr  # platformdirs' RuntimeDirWarning, among others

        together = subprocess.run(
            args,
            env=_embedded_env(PATHWAYS_DATA_DIR=str(data_dir)),
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert together.returncode == 0, together.stderr
        assert f"writing to the embedded PostgreSQL in {data_dir} (PATHWAYS_DATA_DIR)" in together.stderr
        assert "warning" not in together.stderr.lower()
    finally:
        _stop(process)
        shutil.rmtree(short, ignore_errors=True)


def test_the_command_has_a_version_and_every_option_of_every_command_has_help() -> None:
    from service.cli import _parser

    version = subprocess.run([PATHWAYS, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("pathways 0.")

    def undocumented(parser: Any, path: str) -> list[str]:
        missing: list[str] = []
        for action in parser._actions:
            if action.help is None and action.dest != "help":
                missing.append(f"{path} {action.dest}")
            choices = getattr(action, "choices", None)
            for name, child in choices.items() if isinstance(choices, dict) else ():
                missing += undocumented(child, f"{path} {name}")
        return missing

    assert undocumented(_parser(), "pathways") == []


def test_the_help_states_the_one_rule_for_which_database_a_command_uses() -> None:
    helped = subprocess.run([PATHWAYS, "import-sites", "--help"], capture_output=True, text=True, timeout=60)
    assert "uses DATABASE_URL when it is set; otherwise the embedded PostgreSQL in" in helped.stdout
    assert "PATHWAYS_DATA_DIR" in helped.stdout


def test_the_same_database_spelt_otherwise_is_the_same_and_a_password_is_never_shown() -> None:
    from service.cli.database import _masked, _same_as

    same = {
        _same_as(url)
        for url in (
            "postgresql://postgres@127.0.0.1:5432/ld",
            "postgresql://postgres@localhost/ld",
            "postgresql:///ld?host=127.0.0.1&user=postgres",
            "postgresql:///ld?host=/var/run/postgresql",
        )
    }
    assert len(same) == 1
    assert _same_as("postgresql://postgres@db.example:5432/ld") not in same
    assert _same_as("postgresql://postgres@127.0.0.1:5433/ld") not in same
    assert _masked("postgresql://ld:s3cret@db/ld") == "postgresql://ld:***@db/ld"
    assert "s3cret" not in _masked("postgresql://ld@db/ld?sslmode=require&password=s3cret")
    assert _masked("postgresql://postgres@127.0.0.1:notaport/x") == "postgresql://postgres@127.0.0.1:notaport/x"


def test_a_database_that_cannot_be_reached_or_read_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    for url in ("postgresql://postgres@127.0.0.1:1/ld", "postgresql://postgres@127.0.0.1:notaport/ld"):
        done = run(url, "keys", "list")
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and done.stderr.strip().splitlines()[-1].startswith(
            ("cannot go on:", "database error:", "configuration error:")
        )
