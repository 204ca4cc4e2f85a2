"""Real servers for the tests: redis-server / valkey-server processes on free loopback ports,
with or without the module, single or as a cluster, stopped when the test is done.

Which binaries: ``RL_SERVERS`` (``name=path,name=path``; ``make test`` passes Redis 6.2, 7.0,
8.2 and Valkey 9), else Debian's ``redis-server`` alone. The module: ``RL_MODULE``, else the
repository's ``target/release/libredis_ratelimit.so``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import redis

REPO = Path(__file__).resolve().parents[3]


def module_path() -> str:
    path = os.environ.get("RL_MODULE") or str(REPO / "target" / "release" / "libredis_ratelimit.so")
    if not Path(path).is_file():
        raise RuntimeError(f"no module at {path}: `cargo build --release` (make test does)")
    return path


def binaries() -> Dict[str, str]:
    """The servers to run against, by name; every listed one must exist (a missing one fails
    the run rather than skipping its tests)."""
    spec = os.environ.get("RL_SERVERS", "")
    found: Dict[str, str] = {}
    for item in filter(None, spec.split(",")):
        name, _, path = item.partition("=")
        if not Path(path).is_file():
            raise RuntimeError(f"RL_SERVERS names {name}={path}, which does not exist")
        found[name] = path
    if not found:
        default = shutil.which("redis-server")
        if default is None:
            raise RuntimeError("no redis-server: `make test` installs it")
        found["redis70"] = default
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


class Server:
    """One server process; ``client()`` gives a redis-py client to it."""

    def __init__(self, binary: str, module: bool, *extra: str) -> None:
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="rl-py-")
        self.args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir, *extra]
        if module:
            self.args += ["--loadmodule", module_path()]
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.port = 0
        self.start()

    def start(self, port: Optional[int] = None) -> None:
        for _ in range(5):
            self.port = port or free_port()
            log = open(os.path.join(self.dir, "server.log"), "ab")
            self.process = subprocess.Popen([self.binary, "--port", str(self.port), *self.args], stdout=log, stderr=subprocess.STDOUT)
            log.close()
            if eventually(self._ready):
                return
            self.kill()
        raise RuntimeError(f"{self.binary} did not start: {self.log()}")

    def _ready(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.exceptions.RedisError:
            return False

    def log(self) -> str:
        try:
            return Path(self.dir, "server.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def client(self, **kwargs: object) -> "redis.Redis[bytes]":
        return redis.Redis(port=self.port, socket_timeout=5, **kwargs)  # type: ignore[arg-type]

    def has_functions(self) -> bool:
        """FUNCTION and FCALL: Redis 7.0 and later, every Valkey."""
        version = str(self.client().info("server")["redis_version"])
        return tuple(int(p) for p in version.split(".")[:2]) >= (7, 0)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Cluster:
    """``primaries`` primaries with one replica each, the module on every node or on none."""

    def __init__(self, binary: str, module: bool, primaries: int = 3) -> None:
        self.nodes: List[Server] = []
        try:
            for _ in range(primaries * 2):
                self.nodes.append(self._node(binary, module))
            addrs = [f"127.0.0.1:{n.port}" for n in self.nodes]
            cli = shutil.which("redis-cli") or str(Path(binary).with_name("redis-cli"))
            out = subprocess.run([cli, "--cluster", "create", *addrs, "--cluster-replicas", "1", "--cluster-yes"], capture_output=True)
            if out.returncode != 0:
                raise RuntimeError(f"cluster create failed: {out.stdout.decode(errors='replace')}")
            if not eventually(self._settled, 30):
                raise RuntimeError("the cluster never reached state ok with every replica linked")
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _node(binary: str, module: bool) -> Server:
        bus = free_port()
        return Server(binary, module, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                      "--cluster-node-timeout", "1500", "--cluster-port", str(bus))

    def _settled(self) -> bool:
        try:
            for node in self.nodes:
                c = node.client()
                info = c.execute_command("CLUSTER", "INFO")
                text = info.decode() if isinstance(info, bytes) else str(info)
                if "cluster_state:ok" not in text:
                    return False
                replication = c.info("replication")
                if replication.get("role") == "slave" and replication.get("master_link_status") != "up":
                    return False
            return True
        except redis.exceptions.RedisError:
            return False

    def primaries(self) -> List[Server]:
        return [n for n in self.nodes if n.client().info("replication").get("role") == "master"]

    def client(self, **kwargs: object) -> "redis.RedisCluster[bytes]":
        first = self.nodes[0]
        return redis.RedisCluster(host="127.0.0.1", port=first.port, socket_timeout=5, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def library_code(client: Any) -> Optional[str]:
    """The code of the ``ratelimit`` library loaded on ``client``'s server (None: not loaded),
    read by the package's own reader (RESP2 lists or RESP3 maps)."""
    from redis_ratelimit import _library

    return _library.code_in(client.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "ratelimit", "WITHCODE"))


def errorstat(server: Server, name: str) -> int:
    """``INFO errorstats``'s count for an error prefix (``MOVED``), 0 if none was answered."""
    stats = server.client().info("errorstats")
    return error_count(stats.get(f"errorstat_{name}"))


def error_count(entry: object) -> int:
    """The count of one ``INFO errorstats`` entry: redis-py 5 parses ``count=3`` into
    ``{"count": 3}``, redis-py 4.6 leaves the string ``"count=3"``; None (absent) is 0."""
    if isinstance(entry, dict):
        return int(entry["count"])
    if isinstance(entry, (str, bytes)):
        text = entry.decode() if isinstance(entry, bytes) else entry
        return int(text.partition("count=")[2].split(",")[0])
    return 0
