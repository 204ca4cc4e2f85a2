"""Each path on each server of the run (Redis 6.2, 7.0, 8.2, Valkey 9): which one served a call,
what the package loads where, how it recovers, and the errors it raises."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Tuple

import pytest
import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from conftest import ServerFactory
from redis_ratelimit import (
    AsyncLimiter,
    BackendUnavailable,
    Concurrent,
    Fixed,
    Leaky,
    Limiter,
    Log,
    RateLimitError,
    Sliding,
    Token,
)
from redis_ratelimit import _library
from servers import Server, binaries, library_code

REDIS_PY_5 = int(redis.__version__.split(".")[0]) >= 5


def calls(server: Server, command: str) -> int:
    entry = server.client().info("commandstats").get(f"cmdstat_{command}")
    return int(entry["calls"]) if isinstance(entry, dict) else 0


def traffic(limiter: Limiter, prefix: str) -> List[Tuple[Any, ...]]:
    """The same calls whatever serves them; the Decisions' numbers."""
    out = []
    rules = [Fixed(3, "1m"), Sliding(3, "1m"), Log(3, "1m"), Token(3, 1, "1m"), Leaky(3, 1, "1m")]
    for rule in rules:
        key = f"{prefix}{rule.word}"
        for _ in range(4):
            out.append(limiter.hit(key, rule))
        out.append(limiter.peek(key, rule))
        out.append(limiter.refund(key, rule, 1))
        out.append(limiter.hit(key, rule, 2, force=True))
        out.append(limiter.hit(key, rule, 5))
    jobs = Concurrent(1, "1m")
    out += [limiter.acquire(f"{prefix}jobs", jobs, "a"), limiter.acquire(f"{prefix}jobs", jobs, "b")]
    out += [limiter.peek(f"{prefix}jobs", jobs, id="b"), limiter.release(f"{prefix}jobs", jobs, "a")]
    out.append(limiter.hit_all({f"{{{prefix}}}u": Sliding(5, "1m"), f"{{{prefix}}}j": jobs}, id="c"))
    out.append(limiter.hit_all({f"{{{prefix}}}u": Sliding(5, "1m"), f"{{{prefix}}}v": Fixed(1, "1m")}, cost=2))
    return [(d.allowed, d.limit, d.remaining, d.key[len(prefix):], d.retry_after_ms, d.reset_after_ms, d.delay_ms) for d in out]


def same(a: List[Tuple[Any, ...]], b: List[Tuple[Any, ...]]) -> bool:
    """Equal answers: the same numbers, and times within the few ms that pass between two runs."""
    return len(a) == len(b) and all(x[:4] == y[:4] and all(abs(p - q) <= 200 for p, q in zip(x[4:], y[4:])) for x, y in zip(a, b))


def test_each_server_is_served_by_the_path_it_offers(server: ServerFactory, server_name: str, prefix: str) -> None:
    with_module, without = server(server_name, True), server(server_name, False)
    expected_library = "function" if without.has_functions() else "script"
    paths: Dict[str, Limiter] = {
        "module": Limiter(with_module.client()),
        expected_library: Limiter(without.client()),
        "script": Limiter(without.client(), backend="script"),
    }
    results = {}
    counted = {"module": "rl.fixed", "function": "fcall", "script": "evalsha"}
    for backend, limiter in paths.items():
        target = with_module if backend == "module" else without
        before = calls(target, counted[backend])
        d = limiter.hit(f"{prefix}{backend}", Fixed(5, "1m"))
        assert d.backend == backend and d.allowed and d.remaining == 4
        after = calls(target, counted[backend])
        assert after == before + 1, f"{backend}: the call went elsewhere"
        results[backend] = traffic(limiter, f"{prefix}{backend}:")
    # Byte for byte the same answers, whichever path served them.
    assert same(results["module"], results[expected_library]) and same(results["module"], results["script"]), results


def test_the_library_is_loaded_where_missing_or_older_and_never_replaces_a_newer(server: ServerFactory, server_name: str, prefix: str) -> None:
    s = server(server_name, False)
    if not s.has_functions():
        pytest.skip(f"{server_name} has no FUNCTION: the script serves it (the test above)")
    admin = s.client()
    older = _library.LIBRARY.replace("-- redis-ratelimit 0.1.0 ", "-- redis-ratelimit 0.0.9 ", 1)
    unversioned = "\n".join(line for line in _library.LIBRARY.split("\n") if not line.startswith("-- redis-ratelimit 0."))
    newer = _library.LIBRARY.replace("-- redis-ratelimit 0.1.0 ", "-- redis-ratelimit 0.10.0 ", 1)
    for loaded, kept in [(None, False), (older, False), (unversioned, False), (newer, True)]:
        admin.function_flush()
        if loaded is not None:
            admin.function_load(loaded)
        d = Limiter(s.client()).hit(f"{prefix}k", Fixed(10, "1m"))
        assert d.backend == "function"
        assert library_code(s.client()) == (loaded if kept else _library.LIBRARY)


def test_a_flushed_library_is_loaded_again(server: ServerFactory, server_name: str, prefix: str) -> None:
    s = server(server_name, False)
    if not s.has_functions():
        pytest.skip(f"{server_name} has no FUNCTION")
    limiter = Limiter(s.client())
    assert limiter.hit(f"{prefix}k", Fixed(10, "1m")).remaining == 9
    s.client().function_flush()
    d = limiter.hit(f"{prefix}k", Fixed(10, "1m"))
    assert (d.backend, d.remaining) == ("function", 8) and library_code(s.client()) == _library.LIBRARY


def test_the_script_recovers_from_noscript_by_itself(server: ServerFactory, server_name: str, prefix: str) -> None:
    s = server(server_name, False)
    s.client().script_flush()
    limiter = Limiter(s.client(), backend="script")
    evals, shas = calls(s, "eval"), calls(s, "evalsha")
    for i in range(3):
        assert limiter.hit(f"{prefix}k", Fixed(10, "1m")).remaining == 9 - i
    # The first EVALSHA was answered NOSCRIPT: the script went whole once, then by its hash.
    assert (calls(s, "eval") - evals, calls(s, "evalsha") - shas) == (1, 3)
    s.client().script_flush()
    assert limiter.hit(f"{prefix}k", Fixed(10, "1m")).remaining == 6
    assert (calls(s, "eval") - evals, calls(s, "evalsha") - shas) == (2, 4)


def test_a_module_that_goes_away_is_replaced_by_the_library(server: ServerFactory, server_name: str, prefix: str) -> None:
    s = Server(binaries()[server_name], True)
    try:
        limiter = Limiter(s.client())
        assert limiter.hit(f"{prefix}k", Fixed(10, "1m")).backend == "module"
        s.kill()
        s.args = s.args[: s.args.index("--loadmodule")]
        s.start(port=s.port)
        d = limiter.hit(f"{prefix}k", Fixed(10, "1m"))
        assert d.backend == ("function" if s.has_functions() else "script") and d.remaining == 9
    finally:
        s.stop()


def acl_user(s: Server, name: str, *rules: str) -> "redis.Redis[bytes]":
    admin = s.client()
    admin.execute_command("ACL", "SETUSER", name, "reset", "on", ">pw", "~*", "+ping", "+info", *rules)
    return redis.Redis(port=s.port, username=name, password="pw", socket_timeout=5)


def test_a_user_who_may_not_load_the_library_gets_the_script(server: ServerFactory, server_name: str, prefix: str) -> None:
    s = server(server_name, False)
    if not s.has_functions():
        pytest.skip(f"{server_name} has no FUNCTION")
    s.client().function_flush()
    user = acl_user(s, "noload", "+@all", "-function|load")
    d = Limiter(user).hit(f"{prefix}k", Fixed(10, "1m"))
    assert d.backend == "script" and d.remaining == 9 and library_code(s.client()) is None


def test_evalsha_alone_fails_after_a_flush_with_an_error_that_names_what_is_missing(server: ServerFactory, server_name: str, prefix: str) -> None:
    s = server(server_name, False)
    # Everything but scripting (the script's own commands: TIME, GET, SET...), then EVALSHA.
    user = acl_user(s, "shaonly", "+@all", "-@scripting", "+evalsha")
    if s.has_functions():
        s.client().function_flush()
    s.client().script_load(_library.SCRIPT)
    limiter = Limiter(user, backend="script")
    assert limiter.hit(f"{prefix}k", Fixed(10, "1m")).backend == "script"
    s.client().script_flush()
    with pytest.raises(BackendUnavailable, match="EVAL"):
        limiter.hit(f"{prefix}k", Fixed(10, "1m"))
    nothing = acl_user(s, "nothing", "+@all", "-@scripting")
    with pytest.raises(BackendUnavailable) as refused:
        Limiter(nothing).hit(f"{prefix}k", Fixed(10, "1m"))
    assert "EVAL" in str(refused.value) and "EVALSHA" in str(refused.value)
    if s.has_functions():
        assert "FCALL" in str(refused.value)


def test_numbers_are_exact_and_the_library_says_where_it_cannot_be(server: ServerFactory, server_name: str, prefix: str) -> None:
    big = Token(2**63 - 1, 2**62, "1d")
    d = Limiter(server(server_name, True).client()).hit(f"{prefix}big", big, 2**62 + 1)
    assert (d.limit, d.remaining) == (2**63 - 1, 2**63 - 1 - (2**62 + 1))
    with pytest.raises(RateLimitError, match="2\\^53"):
        Limiter(server(server_name, False).client()).hit(f"{prefix}big", big)


def test_server_errors_raise_the_package_s_error_and_connection_errors_the_client_s(server: ServerFactory, server_name: str, prefix: str) -> None:
    for module in (True, False):
        c = server(server_name, module).client()
        c.set(f"{prefix}s", "not a sorted set")
        with pytest.raises(RateLimitError, match="WRONGTYPE"):
            Limiter(c).acquire(f"{prefix}s", Concurrent(1, "1s"), "a")
        assert c.get(f"{prefix}s") == b"not a sorted set"
    with pytest.raises(redis.exceptions.ConnectionError):
        # No retries (redis-py 6+ retries a refused connection three times by default).
        unreachable = redis.Redis(port=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
        Limiter(unreachable).hit("k", Fixed(1, "1s"))


def test_leases_and_delays(server: ServerFactory, server_name: str, prefix: str) -> None:
    for module in (True, False):
        limiter = Limiter(server(server_name, module).client())
        jobs = Concurrent(2, "10s")
        with limiter.lease(f"{prefix}{module}jobs", jobs) as first:
            assert first.allowed and first.remaining == 1
            with limiter.lease(f"{prefix}{module}jobs", jobs, id="two") as second:
                assert second.allowed and not limiter.acquire(f"{prefix}{module}jobs", jobs, "three").allowed
        # Both released on leaving their blocks.
        assert limiter.peek(f"{prefix}{module}jobs", jobs, id="x").remaining == 2
        queue = Leaky(3, 2, "1s")
        delays = [limiter.hit(f"{prefix}{module}q", queue).delay_ms for _ in range(3)]
        assert delays[0] == 0 and 495 <= delays[1] <= 500 and 995 <= delays[2] <= 1000


def test_decoded_replies_and_resp3(server: ServerFactory, server_name: str, prefix: str) -> None:
    s = server(server_name, False)
    clients = [s.client(decode_responses=True)]
    if REDIS_PY_5 and s.has_functions():
        clients.append(s.client(protocol=3))
    for i, client in enumerate(clients):
        if s.has_functions():
            s.client().function_flush()
        d = Limiter(client).hit(f"{prefix}{i}", Sliding(10, "1m"))
        assert d.remaining == 9 and d.backend == ("function" if s.has_functions() else "script")


def test_async_limiter_on_every_path(server: ServerFactory, server_name: str, prefix: str) -> None:
    async def run() -> List[Tuple[str, bool, int]]:
        out = []
        for module, pinned in [(True, None), (False, None), (False, "script")]:
            s = server(server_name, module)
            client = redis.asyncio.Redis(port=s.port)
            limiter = AsyncLimiter(client, backend=pinned)
            d = await limiter.hit(f"{prefix}{module}{pinned}", Fixed(2, "1m"), 2)
            async with limiter.lease(f"{prefix}{module}{pinned}j", Concurrent(1, "5s")) as held:
                other = await limiter.acquire(f"{prefix}{module}{pinned}j", Concurrent(1, "5s"), "other")
            out.append((d.backend, held.allowed and not other.allowed, d.remaining))
            await client.aclose() if hasattr(client, "aclose") else await client.close()
        return out

    library = "function" if server(server_name, False).has_functions() else "script"
    assert asyncio.run(run()) == [("module", True, 0), (library, True, 0), ("script", True, 0)]


def test_arguments_are_checked_before_anything_is_sent(server: ServerFactory, server_name: str) -> None:
    s = server(server_name, True)
    limiter = Limiter(s.client())
    before = calls(s, "rl.fixed")
    bad: List[Any] = [
        lambda: limiter.hit("k", Fixed(1, "1m"), 0),
        lambda: limiter.hit("k", Concurrent(1, "1m")),
        lambda: limiter.refund("k", Fixed(1, "1m"), -1),
        lambda: limiter.acquire("k", Concurrent(1, "1m"), ""),
        lambda: limiter.acquire("k", Concurrent(1, "1m"), "x" * 257),
        lambda: limiter.hit_all({}),
        lambda: limiter.hit_all({"a": Concurrent(1, "1s")}),
        lambda: limiter.hit_all({"a": Fixed(1, "1s")}, id="x"),
        lambda: limiter.hit(b"k", Fixed(1, "1m")),  # type: ignore[arg-type]
        lambda: Limiter(s.client(), backend="lua"),
    ]
    for call in bad:
        with pytest.raises((ValueError, TypeError)):
            call()
    assert calls(s, "rl.fixed") == before
