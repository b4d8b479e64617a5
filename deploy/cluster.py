"""Three `pathways serve` replicas behind HAProxy on one machine, on its PostgreSQL and Redis: `make cluster`.

    python deploy/cluster.py start | stop | status | roll | kill N | restart N

The replicas listen on 127.0.0.1:8101-8103 and the proxy on 127.0.0.1:8080 (PATHWAYS_CLUSTER_PORT moves both:
the proxy on it, the replicas on the three ports 21 above it). The proxy reads deploy/haproxy.cfg, the file
compose.yaml mounts too. Processes, logs and the proxy's socket live in .cluster/; `stop` ends them all. `roll`
restarts each replica in turn without failing a request: drained at the proxy, stopped once its last request has
been answered, started, and put back once it is ready. The cluster test (tests/cluster/) drives the same class.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "haproxy.cfg"
REPLICAS = 3


class ClusterError(RuntimeError):
    pass


def haproxy_binary() -> str | None:
    found = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).is_file()), None)
    return found


def http_status(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except OSError:
        return 0


@dataclass
class Cluster:
    run_dir: Path
    database_url: str
    redis_url: str
    proxy_port: int
    replica_ports: tuple[int, ...]
    settings: Mapping[str, str] = field(default_factory=dict)
    """PATHWAYS_* settings for every replica, over the defaults below."""
    _children: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    """The replicas this object started, held until they are reaped (a later `stop` finds the others by pid file)."""

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def replica(self, n: int) -> str:
        return f"http://127.0.0.1:{self.replica_ports[n - 1]}"

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "haproxy.sock"

    def _pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def _pid(self, name: str) -> int | None:
        if name.startswith("replica") and (child := self._children.get(int(name[7:]))) is not None:
            if child.poll() is None:
                return child.pid
            del self._children[int(name[7:])]
            return None
        try:
            pid = int(self._pid_file(name).read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def _proxy_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATHWAYS_PROXY_BIND": f"127.0.0.1:{self.proxy_port}",
            "PATHWAYS_PROXY_SOCKET": str(self.socket_path),
            **{f"PATHWAYS_REPLICA_{n}": f"127.0.0.1:{p}" for n, p in enumerate(self.replica_ports, 1)},
        }

    # --- replicas -------------------------------------------------------------------------------------------------

    def start_replica(self, n: int) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "PATHWAYS_HOST": "127.0.0.1",
            "PATHWAYS_PORT": str(self.replica_ports[n - 1]),
            # X-Forwarded-For from the proxy on loopback is believed, so limits count the real client.
            "PATHWAYS_TRUSTED_PROXIES": "127.0.0.1",
            **self.settings,
        }
        pathways = str(Path(sys.executable).with_name("pathways"))
        log = (self.run_dir / f"replica{n}.log").open("ab")
        process = subprocess.Popen(
            [pathways, "serve"], env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()
        self._children[n] = process
        self._pid_file(f"replica{n}").write_text(str(process.pid))

    def wait_ready(self, n: int, timeout: float = 120.0) -> float:
        """Seconds until the replica's /health/ready answers 200."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if http_status(f"{self.replica(n)}/health/ready", timeout=1.0) == 200:
                return time.monotonic() - started
            if self._pid(f"replica{n}") is None:
                raise ClusterError(f"replica {n} exited; see {self.run_dir / f'replica{n}.log'}")
            time.sleep(0.05)
        raise ClusterError(f"replica {n} not ready after {timeout:.0f} s")

    def signal_replica(self, n: int, sig: signal.Signals) -> None:
        pid = self._pid(f"replica{n}")
        if pid is not None:
            os.kill(pid, sig)

    def wait_exit(self, n: int, timeout: float = 30.0) -> None:
        started = time.monotonic()
        while self._pid(f"replica{n}") is not None:
            if time.monotonic() - started > timeout:
                self.signal_replica(n, signal.SIGKILL)
            time.sleep(0.02)
        self._pid_file(f"replica{n}").unlink(missing_ok=True)

    def kill(self, n: int) -> None:
        """kill -9: no goodbye, in-flight requests cut off."""
        self.signal_replica(n, signal.SIGKILL)
        self.wait_exit(n)

    # --- the proxy -----------------------------------------------------------------------------------------------

    def start_proxy(self) -> None:
        binary = haproxy_binary()
        if binary is None:
            raise ClusterError("haproxy is not installed (Debian: apt-get install haproxy)")
        env = self._proxy_env()
        subprocess.run([binary, "-c", "-q", "-f", str(CONFIG)], env=env, check=True)
        subprocess.run([binary, "-D", "-f", str(CONFIG), "-p", str(self._pid_file("haproxy"))], env=env, check=True)

    def command(self, line: str) -> str:
        """One command on HAProxy's runtime API."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(self.socket_path))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """The backend's servers as HAProxy sees them: status (UP, DOWN, DRAIN, MAINT …) and current sessions."""
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {r["svname"]: r for r in rows if r["pxname"] == "replicas" and r["svname"].startswith("replica")}

    def wait_status(self, n: int, wanted: str, timeout: float = 30.0) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.servers()[f"replica{n}"]["status"].startswith(wanted):
                return
            time.sleep(0.05)
        raise ClusterError(f"replica {n} not {wanted} at the proxy after {timeout:.0f} s")

    def drain(self, n: int, timeout: float = 30.0) -> None:
        """No new requests to the replica; return once those it has are answered."""
        self.command(f"set server replicas/replica{n} state drain")
        started = time.monotonic()
        while int(self.servers()[f"replica{n}"]["scur"] or 0) > 0 and time.monotonic() - started < timeout:
            time.sleep(0.02)

    def restore(self, n: int) -> None:
        self.command(f"set server replicas/replica{n} state ready")
        self.wait_status(n, "UP")

    # --- the whole ----------------------------------------------------------------------------------------------

    def start(self) -> dict[str, float]:
        """The first replica alone (it applies migrations and loads the demo on an empty database), then the other
        two, then the proxy. Returns each replica's seconds to ready."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if any(self._pid(f"replica{n}") for n in range(1, REPLICAS + 1)) or self._pid("haproxy"):
            raise ClusterError(f"a cluster is already running from {self.run_dir} (stop it first)")
        timings = {}
        self.start_replica(1)
        timings["replica1"] = self.wait_ready(1)
        started = time.monotonic()
        for n in range(2, REPLICAS + 1):
            self.start_replica(n)
        for n in range(2, REPLICAS + 1):  # started together: each one's time counts from then
            self.wait_ready(n)
            timings[f"replica{n}"] = time.monotonic() - started
        self.start_proxy()
        for n in range(1, REPLICAS + 1):
            self.wait_status(n, "UP")
        return timings

    def restart(self, n: int) -> None:
        """Start a replica that is down, and wait until the proxy sends it requests again."""
        self.start_replica(n)
        self.wait_ready(n)
        self.command(f"set server replicas/replica{n} state ready")
        self.wait_status(n, "UP")

    def roll(self) -> None:
        """Each replica in turn: drained, stopped gracefully, started, ready, back in service."""
        for n in range(1, REPLICAS + 1):
            self.drain(n)
            self.signal_replica(n, signal.SIGTERM)
            self.wait_exit(n)
            self.start_replica(n)
            self.wait_ready(n)
            self.restore(n)

    def stop(self) -> None:
        pid = self._pid("haproxy")
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
        for n in range(1, REPLICAS + 1):
            self.signal_replica(n, signal.SIGTERM)
        for n in range(1, REPLICAS + 1):
            self.wait_exit(n)
        self._pid_file("haproxy").unlink(missing_ok=True)

    def status(self) -> dict[str, object]:
        seen: dict[str, object] = {"proxy": self.proxy if self._pid("haproxy") else "not running"}
        servers = self.servers() if self._pid("haproxy") else {}
        for n in range(1, REPLICAS + 1):
            alive = self._pid(f"replica{n}") is not None
            at_proxy = servers.get(f"replica{n}", {}).get("status", "-")
            seen[f"replica{n}"] = f"{self.replica(n)} process {'up' if alive else 'down'}, proxy {at_proxy}"
        return seen


def from_environment() -> Cluster:
    port = int(os.environ.get("PATHWAYS_CLUSTER_PORT", "8080"))
    return Cluster(
        run_dir=ROOT / ".cluster",
        database_url=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/pathways_cluster"),
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        proxy_port=port,
        replica_ports=tuple(port + 21 + n for n in range(REPLICAS)),
        settings={"PATHWAYS_PAGES_FOR_STAFF": "true", "PATHWAYS_REPORTS_ACCESS": "open"},
    )


def ensure_database(url: str) -> None:
    """The cluster's database on the machine's PostgreSQL, created if absent."""
    import asyncio

    import asyncpg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        try:
            if not await conn.fetchval("select 1 from pg_database where datname = $1", name):
                await conn.execute(f'create database "{name}"')  # a name from the operator's own DATABASE_URL
        finally:
            await conn.close()

    asyncio.run(create())


def main(argv: list[str]) -> int:
    cluster = from_environment()
    match argv:
        case ["start"]:
            ensure_database(cluster.database_url)
            timings = cluster.start()
            print(f"ld-pathways cluster: 3 replicas behind HAProxy, database {cluster.database_url}")
            print(f"  the service:   {cluster.proxy}  (API docs: /schema; the lookup page: /)")
            for n in range(1, REPLICAS + 1):
                print(
                    f"  replica {n}:     {cluster.replica(n)}  metrics {cluster.replica(n)}/metrics, "
                    f"log {cluster.run_dir / f'replica{n}.log'}, ready in {timings[f'replica{n}']:.1f} s"
                )
            print(f"  proxy state:   python deploy/cluster.py status  (HAProxy's runtime API: {cluster.socket_path})")
            print("  stop with:     make cluster-stop   roll with: python deploy/cluster.py roll")
        case ["stop"]:
            cluster.stop()
            print("stopped")
        case ["status"]:
            print(json.dumps(cluster.status(), indent=2))
        case ["roll"]:
            cluster.roll()
            print("rolled all three replicas")
        case ["kill", n]:
            cluster.kill(int(n))
        case ["restart", n]:
            cluster.restart(int(n))
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ClusterError, subprocess.CalledProcessError) as e:
        print(f"cluster: {e}", file=sys.stderr)
        sys.exit(1)
