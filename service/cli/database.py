"""Which database a command uses, said out loud.

The rule (the README's, and `pathways --help`'s): a command uses `DATABASE_URL` when it is set; otherwise the
embedded PostgreSQL in `PATHWAYS_DATA_DIR` (default `.pathways-data`, relative to the folder the command runs in).
`serve` follows the same rule, so a command run with the server's environment, from the server's folder, writes to
the server's database.

Every command that writes says where ("writing to …") on standard error. A running `serve` leaves a note of its
database in a folder of this user's (removed when it stops); a command whose database is not the one any running
server uses says so, with the setting that would make it the same.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from service.settings import Settings
from service.store.embedded import cluster_dir


@dataclass(frozen=True)
class Where:
    """A database as a person reads it, and as it is compared with another."""

    words: str
    same_as: str
    setting: str
    """What to export to use it."""


LOCAL_HOSTS = frozenset({"", "localhost", "localhost.", "127.0.0.1", "::1"})


def where(settings: Settings) -> Where:
    if settings.database_url:
        url = _masked(settings.database_url)
        return Where(
            words=f"the PostgreSQL at {url} (DATABASE_URL)",
            same_as=_same_as(settings.database_url),
            setting="the server's DATABASE_URL" if url != settings.database_url else f"DATABASE_URL={url}",
        )
    folder = Path(settings.data_dir).resolve()
    default = "" if "PATHWAYS_DATA_DIR" in os.environ else ": the default; set PATHWAYS_DATA_DIR for another"
    return Where(
        words=f"the embedded PostgreSQL in {folder} (PATHWAYS_DATA_DIR{default})",
        same_as=str(cluster_dir(folder)),
        setting=f"PATHWAYS_DATA_DIR={folder} (and no DATABASE_URL)",
    )


def _same_as(url: str) -> str:
    """The database a URL names, however it is spelt: the host (this machine's names as one; libpq's `?host=` and
    `?port=` as the URL's own), the port and the database."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = (query.get("host") or [parts.hostname or ""])[0]
    try:
        port = int((query.get("port") or [str(parts.port or 5432)])[0])
    except ValueError:
        port = 5432
    host = "this machine" if host in LOCAL_HOSTS or host.startswith("/") else host.lower()
    return f"{host}:{port}/{(query.get('dbname') or [parts.path.lstrip('/')])[0]}"


def _masked(url: str) -> str:
    """The URL with its password hidden, whether in its user part or its query (`?password=`)."""
    parts = urlsplit(url)
    query = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    try:
        hidden = parts.password is not None
    except ValueError:
        hidden = False
    netloc = parts.netloc
    if hidden:
        netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    masked = parts._replace(netloc=netloc, query=urlencode(query, safe="*/:"))
    return urlunsplit(masked) if (hidden or any(v == "***" for _, v in query)) else url


def servers_folder() -> Path:
    return Path(tempfile.gettempdir()) / f"ld-pathways-{os.getuid()}" / "servers"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_servers() -> list[tuple[int, Where]]:
    """The servers running on this machine for this user, each with its database (notes of stopped ones are
    removed)."""
    found: list[tuple[int, Where]] = []
    folder = servers_folder()
    try:
        if folder.parent.stat().st_uid != os.getuid() or folder.parent.stat().st_mode & 0o077:
            return found  # notes no one but this user could have left are the only ones believed
    except OSError:
        return found
    for note in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(note.read_text(encoding="utf-8"))
            pid = int(data["pid"])
            w = Where(words=str(data["words"]), same_as=str(data["same_as"]), setting=str(data["setting"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _alive(pid):
            found.append((pid, w))
        else:
            with contextlib.suppress(OSError):
                note.unlink()
    return found


def register_server(settings: Settings) -> None:
    """Leave a note of this server's database for the commands run beside it; removed when the process exits."""
    w = where(settings)
    folder = servers_folder()
    try:
        folder.parent.mkdir(exist_ok=True, mode=0o700)
        if folder.parent.stat().st_uid != os.getuid():
            return  # another user's folder: no note is left there
        if folder.parent.stat().st_mode & 0o077:
            folder.parent.chmod(0o700)  # this user's own, made looser by an earlier version: only we may write
        folder.mkdir(exist_ok=True, mode=0o700)
        note = folder / f"{os.getpid()}.json"
        note.write_text(json.dumps({"pid": os.getpid(), **w.__dict__}), encoding="utf-8")
    except OSError:
        return
    atexit.register(lambda: note.unlink(missing_ok=True))


def say_writing(settings: Settings, out: TextIO = sys.stderr) -> None:
    """ "writing to …", and a warning when a server is running on another database."""
    w = where(settings)
    print(f"writing to {w.words}", file=out)
    others = [(pid, s) for pid, s in running_servers() if s.same_as != w.same_as and pid != os.getpid()]
    if others and not any(s.same_as == w.same_as for _, s in running_servers()):
        for pid, s in others:
            print(
                f"warning: a server is running (process {pid}) on {s.words}, not on this command's database; "
                f"to write to the server's, run the command with {s.setting}",
                file=out,
            )
