"""A real cluster (three primaries, one replica each), with the module on every node and with
it on none, driven through redis-py's ``RedisCluster`` (:class:`Limiter`) and
``redis.asyncio.cluster.RedisCluster`` (:class:`AsyncLimiter`).

What is checked is what the servers saw: ``INFO commandstats`` and ``INFO errorstats`` of
every node, before and after. In steady state every call is one command on the primary that
owns its key (no ``MOVED``, no ``COMMAND GETKEYS``, nothing else); the library is loaded on
every primary; cross-slot keys fail before anything is sent; the script path recovers from
``SCRIPT FLUSH``; a flushed library is loaded again; a manual failover is followed.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

import pytest
import redis
import redis.asyncio.cluster
from redis.crc import key_slot

from redis_ratelimit import AsyncLimiter, Concurrent, CrossSlotError, Fixed, Leaky, Limiter, Sliding, Token
from servers import Cluster, Server, binaries, error_count, eventually, library_code

LIBRARY = Path(__file__).resolve().parents[1] / "src" / "redis_ratelimit" / "ratelimit.lua"
#: The commands a node counts on its own (replication, the harness's polling, these checks).
BACKGROUND = ("info", "replconf", "ping", "psync", "sync", "select", "cluster|", "config|", "wait")
#: The commands a limiter may send. A node also counts the commands that the library's code
#: calls (TIME, ZADD, ...) and a replica the writes its primary replicates (and the DEL of
#: each key that expires there): those are not.
LIMITER = ("rl.", "fcall", "eval", "function", "script", "command", "cluster", "client", "asking", "readonly")


# --- the servers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clusters() -> Iterator[Callable[[bool], Cluster]]:
    """``clusters(module)``: the cluster with the module on every node, or on none; each
    started at its first use and stopped after this file's tests."""
    started: Dict[bool, Cluster] = {}
    # Redis 7.0 (FUNCTION and errorstats): RL_SERVERS's, else Debian's.
    binary = binaries().get("redis70") or shutil.which("redis-server") or "/usr/bin/redis-server"

    def get(module: bool) -> Cluster:
        if module not in started:
            started[module] = Cluster(binary, module)
        return started[module]

    yield get
    for cluster in started.values():
        for node in cluster.nodes:
            stats_client = _STATS.pop(node.port, None)
            if stats_client is not None:
                stats_client.close()
        cluster.stop()


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def owners(cluster: Cluster) -> List[Tuple[int, int, int]]:
    """``(first slot, last slot, primary's port)`` by CLUSTER SLOTS."""
    reply = direct(cluster.nodes[0]).execute_command("CLUSTER", "SLOTS")
    return [(int(r[0]), int(r[1]), int(r[2][1])) for r in reply]


def owner(cluster: Cluster, key: str, table: Optional[List[Tuple[int, int, int]]] = None) -> int:
    slot = key_slot(key.encode())
    for first, last, port in table or owners(cluster):
        if first <= slot <= last:
            return port
    raise AssertionError(f"slot {slot} has no owner")


def primaries(cluster: Cluster) -> List[Server]:
    ports = {port for _, _, port in owners(cluster)}
    return [n for n in cluster.nodes if n.port in ports]


_STATS: Dict[int, "redis.Redis[bytes]"] = {}


def direct(server: Server) -> "redis.Redis[bytes]":
    """The node's client for these checks: one connection kept per node, which sends no CLIENT
    SETINFO (redis-py 5 does on every new connection, and Redis 7.0 answers it with an error,
    which would count in INFO errorstats)."""
    client = _STATS.get(server.port)
    if client is None:
        client = _STATS[server.port] = server.client(**QUIET)
    return client


def stats(server: Server, section: str) -> Dict[str, Any]:
    return dict(direct(server).info(section))


def commands(server: Server) -> Counter[str]:
    """Calls per command (``rl.sliding``, ``fcall``, ``function|load``), background left out."""
    stats_ = stats(server, "commandstats")
    found: Counter[str] = Counter()
    for name, entry in stats_.items():
        command = name[len("cmdstat_"):]
        if not command.startswith(BACKGROUND):
            found[command] = int(entry["calls"])
    return found


def limiter(cmds: Mapping[str, int]) -> Dict[str, int]:
    """The limiter's own commands among ``cmds``."""
    return {k: v for k, v in cmds.items() if k.startswith(LIMITER)}


def errors(server: Server) -> Counter[str]:
    found = stats(server, "errorstats")
    return Counter({name[len("errorstat_"):]: error_count(entry) for name, entry in found.items()})


def snapshot(cluster: Cluster) -> Dict[int, Tuple[Counter[str], Counter[str]]]:
    """Every node's counts, once the replicas have applied all that their primary sent (a
    FUNCTION LOAD counts on a replica too, whenever the replication stream brings it)."""
    for p in primaries(cluster):
        replicas = int(stats(p, "replication")["connected_slaves"])
        assert direct(p).execute_command("WAIT", replicas, 5000) == replicas
    return {n.port: (commands(n), errors(n)) for n in cluster.nodes}


def grown(before: Dict[int, Tuple[Counter[str], Counter[str]]], after: Dict[int, Tuple[Counter[str], Counter[str]]]) -> Dict[int, Tuple[Dict[str, int], Dict[str, int]]]:
    """Per node: the commands and errors counted since ``before`` (only what grew)."""
    out = {}
    for port, (cmds, errs) in after.items():
        c = {k: v - before[port][0][k] for k, v in cmds.items() if v != before[port][0][k]}
        e = {k: v - before[port][1][k] for k, v in errs.items() if v != before[port][1][k]}
        out[port] = (c, e)
    return out


def moved(cluster: Cluster) -> int:
    return sum(errors(n)["MOVED"] for n in cluster.nodes)


# --- the limiters, blocking and asyncio, behind one face ------------------------------------


#: redis-py 5 sends CLIENT SETINFO on every new connection, which Redis 7.0 answers with an
#: error: a reconnection would count in INFO errorstats. redis-py 4.6 sends nothing.
QUIET: Dict[str, Any] = {"lib_name": None, "lib_version": None} if int(redis.__version__.split(".")[0]) >= 5 else {}


class Side:
    """A limiter on a fresh cluster client; ``call(method, ...)`` runs the method (awaited on
    the side's own loop for the asyncio one)."""

    def __init__(self, kind: str, cluster: Cluster, backend: Optional[str]) -> None:
        self.kind = kind
        port = cluster.nodes[0].port
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        if kind == "sync":
            self.client: Any = redis.RedisCluster(host="127.0.0.1", port=port, socket_timeout=5, **QUIET)
            self.limiter: Any = Limiter(self.client, backend=backend)
        else:
            self.loop = asyncio.new_event_loop()
            self.client = redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=port, socket_timeout=5, **QUIET)
            self.limiter = AsyncLimiter(self.client, backend=backend)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.limiter, method)(*args, **kwargs)
        if self.loop is not None:
            return self.loop.run_until_complete(result)
        return result

    def close(self) -> None:
        if self.loop is None:
            self.client.close()
            return
        closing = getattr(self.client, "aclose", None) or self.client.close  # aclose: redis-py 5
        self.loop.run_until_complete(closing())
        self.loop.close()


@pytest.fixture(params=["sync", "async"])
def side(request: pytest.FixtureRequest) -> Iterator[Callable[..., Side]]:
    made: List[Side] = []

    def make(cluster: Cluster, backend: Optional[str] = None) -> Side:
        made.append(Side(request.param, cluster, backend))
        return made[-1]

    yield make
    for s in made:
        s.close()


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


MODULE = pytest.mark.parametrize("module", [True, False], ids=["module", "nomodule"])

SLIDING = Sliding(1000, "1m")
FIXED = Fixed(1000, "1m")
TOKEN = Token(1000, 100, "1s")
LEAKY = Leaky(1000, 1000, "1s")
LEASES = Concurrent(1000, "30s")

#: One operation: (method, its arguments, the key whose slot routes it).
Op = Tuple[str, Tuple[Any, ...], Dict[str, Any], str]


def operations(tag: str, count: int) -> List[Op]:
    """``count`` calls of every kind over keys spread across the slots."""
    ops: List[Op] = []
    for i in range(count):
        key = f"rl:{tag}:{i}"
        kind = i % 8
        if kind == 0:
            ops.append(("hit", (key, SLIDING), {}, key))
        elif kind == 1:
            ops.append(("peek", (key, FIXED), {}, key))
        elif kind == 2:
            ops.append(("refund", (key, TOKEN, 5), {}, key))
        elif kind == 3:
            ops.append(("hit_all", ({f"{{{key}}}:user": SLIDING, f"{{{key}}}:ip": FIXED},), {}, f"{{{key}}}:user"))
        elif kind == 4:
            ops.append(("hit_all", ({f"{{{key}}}:user": TOKEN, f"{{{key}}}:jobs": LEASES},), {"id": "r1"}, f"{{{key}}}:user"))
        elif kind == 5:
            ops.append(("acquire", (key, LEASES, f"h{i}"), {}, key))
        elif kind == 6:
            ops.append(("release", (key, LEASES, f"h{i - 1}"), {}, key))
        else:
            ops.append(("hit", (key, LEAKY), {}, key))
    return ops


def drive(s: Side, ops: List[Op], backend: str) -> None:
    for method, args, kwargs, _ in ops:
        decision = s.call(method, *args, **kwargs)
        assert decision.backend == backend, (method, args, decision)


def served_by(cmds: Mapping[str, int], backend: str) -> int:
    """The calls counted for ``backend``'s command."""
    if backend == "module":
        return sum(v for k, v in cmds.items() if k.startswith("rl."))
    return int(cmds.get({"function": "fcall", "script": "evalsha"}[backend], 0))


def expect_only(delta: Dict[int, Tuple[Dict[str, int], Dict[str, int]]], per_port: Counter[int], backend: str) -> None:
    """Every node counted exactly its keys' calls of ``backend``'s command, and nothing else:
    no other command (COMMAND GETKEYS, a probe, a load) and no error (MOVED)."""
    for port, (cmds, errs) in delta.items():
        assert errs == {}, f"node {port} answered errors: {errs}"
        assert served_by(cmds, backend) == per_port[port], f"node {port}: {cmds}, expected {per_port[port]} calls"
        other = {k: v for k, v in limiter(cmds).items() if served_by({k: v}, backend) == 0}
        assert other == {}, f"node {port} counted other commands: {other}"


# --- the tests ----------------------------------------------------------------------------


@MODULE
def test_every_call_lands_on_the_node_owning_its_key(clusters: Callable[[bool], Cluster], side: Callable[..., Side], module: bool, tag: str) -> None:
    cluster = clusters(module)
    backend = "module" if module else "function"
    s = side(cluster)
    table = owners(cluster)
    # Warm-up: one call of each kind on every shard finds each node's path (and loads the
    # library where it is missing).
    drive(s, operations(tag + "w", 48), backend)

    ops = operations(tag, 320)
    per_port = Counter(owner(cluster, routed, table) for *_, routed in ops)
    assert len(per_port) == 3 and min(per_port.values()) > 50  # every shard has its share
    before, moved_before = snapshot(cluster), moved(cluster)
    drive(s, ops, backend)
    assert moved(cluster) == moved_before  # zero MOVED in steady state
    delta = grown(before, snapshot(cluster))
    # No COMMAND GETKEYS either: the calls name their node, redis-py looks up no keys.
    assert sum(v for cmds, _ in delta.values() for k, v in cmds.items() if k.startswith("command")) == 0
    expect_only(delta, per_port, backend)


def test_the_library_is_loaded_on_every_primary(clusters: Callable[[bool], Cluster], side: Callable[..., Side], tag: str) -> None:
    cluster = clusters(False)
    for p in primaries(cluster):
        direct(p).execute_command("FUNCTION", "FLUSH")
    assert all(library_code(direct(p)) is None for p in primaries(cluster))
    s = side(cluster)
    assert s.call("hit", f"one:{tag}", SLIDING).backend == "function"
    shipped = LIBRARY.read_text(encoding="utf-8")
    for p in primaries(cluster):
        assert library_code(direct(p)) == shipped, f"primary {p.port} lacks the package's library"


def test_the_module_serves_where_it_is_loaded(clusters: Callable[[bool], Cluster], side: Callable[..., Side], tag: str) -> None:
    cluster = clusters(True)
    s = side(cluster)
    before = snapshot(cluster)
    ops = operations(tag, 24)
    drive(s, ops, "module")
    for port, (cmds, _) in grown(before, snapshot(cluster)).items():
        assert not any(k.startswith(("function", "fcall", "eval", "script")) for k in cmds), (port, cmds)


@MODULE
def test_hit_all_across_slots_fails_before_sending(clusters: Callable[[bool], Cluster], side: Callable[..., Side], module: bool, tag: str) -> None:
    cluster = clusters(module)
    s = side(cluster)
    s.call("hit", f"warm:{tag}", SLIDING)  # the client knows its slot map
    keys = {f"a:{tag}": SLIDING, f"b:{tag}": FIXED}
    assert len({key_slot(k.encode()) for k in keys}) == 2
    before = snapshot(cluster)
    with pytest.raises(CrossSlotError, match="slots"):
        s.call("hit_all", keys)
    other = next(k for k in (f"{tag}:ip{i}" for i in range(3)) if key_slot(k.encode()) != key_slot(tag.encode()))
    with pytest.raises(CrossSlotError):
        s.call("hit_all", {f"{{{tag}}}:user": SLIDING, other: LEASES}, id="r1")
    delta = grown(before, snapshot(cluster))
    assert all(limiter(cmds) == {} and errs == {} for cmds, errs in delta.values()), delta


@MODULE
def test_the_pinned_script_recovers_from_script_flush(clusters: Callable[[bool], Cluster], side: Callable[..., Side], module: bool, tag: str) -> None:
    cluster = clusters(module)
    s = side(cluster, backend="script")
    drive(s, operations(tag + "w", 16), "script")
    table = owners(cluster)
    for node in cluster.nodes:
        direct(node).script_flush()

    ops = operations(tag, 48)
    per_port = Counter(owner(cluster, routed, table) for *_, routed in ops)
    assert len(per_port) == 3
    before, moved_before = snapshot(cluster), moved(cluster)
    drive(s, ops, "script")
    assert moved(cluster) == moved_before
    for port, (cmds, errs) in grown(before, snapshot(cluster)).items():
        n = per_port[port]
        if n == 0:
            assert limiter(cmds) == {} and errs == {}, (port, cmds, errs)
            continue
        # One EVALSHA answered NOSCRIPT, one EVAL sent the script whole, EVALSHA since.
        assert errs == {"NOSCRIPT": 1}, (port, errs)
        assert limiter(cmds) == {"evalsha": n, "eval": 1}, (port, cmds, n)

    before = snapshot(cluster)
    drive(s, ops, "script")
    expect_only(grown(before, snapshot(cluster)), per_port, "script")


def test_a_flushed_library_is_loaded_again_on_each_shard(clusters: Callable[[bool], Cluster], side: Callable[..., Side], tag: str) -> None:
    cluster = clusters(False)
    s = side(cluster)
    drive(s, operations(tag + "w", 48), "function")
    table = owners(cluster)
    shards = primaries(cluster)
    for p in shards:
        direct(p).execute_command("FUNCTION", "FLUSH")

    ops = operations(tag, 48)
    per_port = Counter(owner(cluster, routed, table) for *_, routed in ops)
    before = snapshot(cluster)
    drive(s, ops, "function")
    shipped = LIBRARY.read_text(encoding="utf-8")
    delta = grown(before, snapshot(cluster))
    for p in shards:
        cmds, errs = delta[p.port]
        assert library_code(direct(p)) == shipped
        # The first FCALL: "Function not found"; then the library looked at and loaded once.
        assert errs == {"ERR": 1}, (p.port, errs)
        assert limiter(cmds) == {"fcall": per_port[p.port] + 1, "function|list": 1, "function|load": 1}, (p.port, cmds)


def _failover(cluster: Cluster, shard: Server) -> Server:
    """Fail ``shard`` over to its replica; returns the new primary once every node's slot map
    and both roles say so."""
    node_id = _text(direct(shard).execute_command("CLUSTER", "MYID"))
    replica = next(n for n in cluster.nodes if direct(n).info("replication").get("role") == "slave"
                   and _text(direct(n).execute_command("CLUSTER", "MYID")) != node_id
                   and direct(n).info("replication").get("master_port") == shard.port)
    ranges = [(a, b) for a, b, port in owners(cluster) if port == shard.port]
    assert direct(replica).execute_command("CLUSTER", "FAILOVER") in (b"OK", "OK", True)

    def settled() -> bool:
        try:
            if direct(replica).info("replication").get("role") != "master":
                return False
            old = direct(shard).info("replication")
            if old.get("role") != "slave" or old.get("master_link_status") != "up":
                return False
            for node in cluster.nodes:
                info = _text(direct(node).execute_command("CLUSTER", "INFO"))
                if "cluster_state:ok" not in info:
                    return False
                slots = direct(node).execute_command("CLUSTER", "SLOTS")
                mine = {(int(r[0]), int(r[1])) for r in slots if int(r[2][1]) == replica.port}
                if not set(ranges) <= mine:
                    return False
            return True
        except redis.exceptions.RedisError:
            return False

    assert eventually(settled, 20), "the failover did not settle"
    return replica


@pytest.mark.parametrize("module,kind", [(True, "sync"), (False, "async")], ids=["module-sync", "nomodule-async"])
def test_a_manual_failover_is_followed(clusters: Callable[[bool], Cluster], module: bool, kind: str, tag: str) -> None:
    cluster = clusters(module)
    backend = "module" if module else "function"
    s = Side(kind, cluster, None)
    try:
        drive(s, operations(tag + "w", 48), backend)  # the client's slot map, before the change
        shard = primaries(cluster)[0]
        promoted = _failover(cluster, shard)

        table = owners(cluster)
        ops = [op for op in operations(tag + "a", 400) if owner(cluster, op[3], table) == promoted.port][:60]
        moved_before = moved(cluster)
        drive(s, ops, backend)  # MOVED while the client learns the new map is fine
        print(f"MOVED after the failover ({kind}, {backend}): {moved(cluster) - moved_before}")
        # The client's own map names the real primaries (one MOVED from a node that its map
        # did not name for the slot makes redis-py mark the slot's owner a replica).
        assert sorted(n.port for n in s.client.get_primaries()) == sorted(n.port for n in primaries(cluster))

        ops = operations(tag + "b", 120)
        per_port = Counter(owner(cluster, routed, table) for *_, routed in ops)
        assert per_port[promoted.port] > 0 and per_port[shard.port] == 0
        before, moved_before = snapshot(cluster), moved(cluster)
        drive(s, ops, backend)
        assert moved(cluster) == moved_before
        expect_only(grown(before, snapshot(cluster)), per_port, backend)
    finally:
        s.close()
