"""An embedded PostgreSQL (the pgserver package) for when DATABASE_URL is unset."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def cluster_dir(data_dir: Path) -> Path:
    """Where the embedded cluster lives: the data folder itself when it already holds one (as folders made before
    the cluster had a folder of its own do), else its `postgres` subfolder. So a data folder may also hold what a
    replica on DATABASE_URL keeps there (its local index snapshot) without initdb refusing it as not empty."""
    return data_dir if (data_dir / "PG_VERSION").is_file() else data_dir / "postgres"


class DataFolderError(RuntimeError):
    """The embedded database cannot live in the data folder given (its path is too long for PostgreSQL's socket)."""


class EmbeddedPostgres:
    """Starts (or joins) a server whose data lives in `data_dir` (see cluster_dir); it persists across restarts."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = cluster_dir(Path(data_dir).resolve())
        self._server: Any = None

    def start(self) -> str:
        # platformdirs (which pgserver uses) warns on every call when XDG_RUNTIME_DIR is unset, as it is outside a
        # desktop session; its own fallback, set before the import, says the same without the warning.
        if not os.environ.get("XDG_RUNTIME_DIR"):
            runtime = Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}"
            runtime.mkdir(mode=0o700, exist_ok=True)
            if runtime.stat().st_uid == os.getuid() and runtime.stat().st_mode & 0o077:
                runtime.chmod(0o700)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        # Imported here: pgserver is only needed when no DATABASE_URL is given.
        import pgserver  # type: ignore[import-untyped,unused-ignore]

        # Unix socket paths are limited to ~107 bytes; pgserver puts its socket in the data folder.
        if len(str(self.data_dir)) > 90:
            raise DataFolderError(
                f"data folder path too long for a Unix socket: {self.data_dir} (set PATHWAYS_DATA_DIR to a shorter one)"
            )
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # 'stop': the server stops when the last process using it exits.
        self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        return str(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
