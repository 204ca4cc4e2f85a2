"""The middleware contract (spec/clients.md, "Middleware" and "HTTP headers"), written once and
run against both adapters: test_asgi.py (FastAPI under uvicorn) and test_flask.py (Flask under
werkzeug) import these tests, each with its own ``site`` fixture that serves the same
endpoints behind its adapter:

``/`` and ``/login`` answer ``ok``; ``/hold`` waits on the test's :class:`web.Gate`; ``/boom``
raises. ``site(redis_server, redis_timeout=None, **options)`` serves them with the adapter
given ``options`` (``redis_timeout``: the ASGI ``timeout``, the Flask client's
``socket_timeout``).

Every test runs against a server with the module and one without (the script library).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from redis_ratelimit import QUOTA_EXCEEDED, Concurrent, Leaky, Limiter, Token
from conftest import pick
from servers import Cluster, Server, errorstat
from web import Gate, Reply, Site

SiteFactory = Callable[..., Site]

TITLE = "Request cannot be satisfied as assigned quota has been exceeded"
PROBLEM = "application/problem+json"


@pytest.fixture
def gate() -> Iterator[Gate]:
    """What the ``/hold`` endpoint waits on; opened at the end whatever happened."""
    opened = Gate()
    yield opened
    opened.open()


def key_of(request: Any) -> Optional[str]:
    """The request's key: its X-Client header (none: exempt). Starlette's and Flask's
    requests both have ``headers.get``."""
    client: Optional[str] = request.headers.get("X-Client")
    return client


def cost_of(request: Any) -> int:
    return int(request.headers.get("X-Cost", "1"))


def options(prefix: str, **more: Any) -> Dict[str, Any]:
    return {"key": key_of, "cost": cost_of, "prefix": prefix, **more}


def refused(reply: Reply, status: int, problem: Dict[str, Any]) -> None:
    assert reply.status == status, reply
    assert reply.headers["content-type"] == PROBLEM
    assert reply.json() == problem


def test_requests_pass_with_headers_until_refused_429_with_problem_details(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, **options(prefix, rule=Token(3, 3, "1m")))
    policy = '"token-3-3-1m";q=3;w=60'
    for remaining, reset in [(2, 20), (1, 40), (0, 60)]:
        ok = app.get()
        assert ok.status == 200 and ok.body == b"ok"
        assert ok.rate_headers() == {"ratelimit-policy": policy, "ratelimit": f'"token-3-3-1m";r={remaining};t={reset}'}
    denied = app.get()
    refused(denied, 429, {"type": QUOTA_EXCEEDED, "title": TITLE, "status": 429, "violated-policies": ["token-3-3-1m"]})
    assert denied.rate_headers() == {"ratelimit-policy": policy, "ratelimit": '"token-3-3-1m";r=0;t=60', "retry-after": "20"}
    # The keys are <prefix>{<key>}:<policy>, counted once each: what the limiter sees.
    peeked = Limiter(redis_server.client()).peek(f"{prefix}{{c1}}:token-3-3-1m", Token(3, 3, "1m"))
    assert (peeked.allowed, peeked.remaining) == (False, 0)
    assert peeked.backend in (("module",) if "--loadmodule" in redis_server.args else ("function", "script"))
    other = app.get(client="c2")
    assert other.status == 200 and other.headers["ratelimit"] == '"token-3-3-1m";r=2;t=20'


def test_a_cost_above_the_limit_is_413_and_charges_nothing(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, **options(prefix, rule=Token(3, 3, "1m")))
    never = app.get(cost=4)
    refused(never, 413, {
        "type": QUOTA_EXCEEDED,
        "title": TITLE,
        "status": 413,
        "violated-policies": ["token-3-3-1m"],
        "detail": "the request's cost is more than the limit of 3: it can never be admitted",
    })
    assert never.rate_headers() == {"ratelimit-policy": '"token-3-3-1m";q=3;w=60', "ratelimit": '"token-3-3-1m";r=3;t=0'}
    within = app.get(cost=3)
    assert within.status == 200 and within.headers["ratelimit"] == '"token-3-3-1m";r=0;t=60'


def test_a_request_the_key_function_exempts_has_no_headers_and_no_limit(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, **options(prefix, rule=Token(1, 1, "1m")))
    for _ in range(3):
        reply = app.get(client=None)
        assert (reply.status, reply.body, reply.rate_headers()) == (200, b"ok", {})
    assert app.get().status == 200 and app.get().status == 429


def test_a_route_limit_applies_beside_the_global_one_in_one_call(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, **options(prefix, rule=Token(100, 100, "1m"), routes={"/login": Token(2, 2, "1m")}))
    both = '"token-100-100-1m";q=100;w=60, "token-2-2-1m";q=2;w=60'
    for remaining, reset in [(1, 30), (0, 60)]:
        ok = app.get("/login")
        assert ok.status == 200
        assert ok.rate_headers() == {"ratelimit-policy": both, "ratelimit": f'"token-2-2-1m";r={remaining};t={reset}'}
    denied = app.get("/login")
    refused(denied, 429, {"type": QUOTA_EXCEEDED, "title": TITLE, "status": 429, "violated-policies": ["token-2-2-1m"]})
    assert denied.rate_headers() == {"ratelimit-policy": both, "ratelimit": '"token-2-2-1m";r=0;t=60', "retry-after": "30"}
    # Elsewhere only the global rule applies; it counted the two logins, not the refused one.
    home = app.get("/")
    assert home.rate_headers() == {"ratelimit-policy": '"token-100-100-1m";q=100;w=60', "ratelimit": '"token-100-100-1m";r=97;t=2'}


def test_a_leaky_rule_delays_the_request_by_its_delay(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, **options(prefix, rule=Leaky(10, 4, "1s")))  # one request every 250 ms
    started = time.monotonic()
    first = app.get()
    second = app.get()
    # The second was admitted into a queue that drains 250 ms after the first was admitted:
    # it was answered no earlier (1 ms for the server's millisecond clock).
    assert time.monotonic() - started >= 0.250 - 0.001
    assert first.seconds < 0.2 and second.seconds >= 0.250 - 0.001 - first.seconds
    assert (first.status, second.status) == (200, 200)
    assert second.rate_headers() == {"ratelimit-policy": '"leaky-10-4-1s";q=10;w=3', "ratelimit": '"leaky-10-4-1s";r=8;t=1'}


def test_a_leaky_delay_past_max_delay_is_refused_and_refunded(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    rule = Leaky(10, 2, "1s")  # one unit every 500 ms, 5 s of queue
    app = site(redis_server, **options(prefix, rule=rule, max_delay=1.0))
    assert app.get(cost=3).status == 200  # no wait, 1.5 s of queue behind it
    denied = app.get()  # would wait ~1.5 s
    assert denied.seconds < 1.0
    refused(denied, 429, {"type": QUOTA_EXCEEDED, "title": TITLE, "status": 429, "violated-policies": ["leaky-10-2-1s"]})
    # Refunded: 7 units left as before it (6 had it kept its place), the queue at ~1.5 s.
    assert denied.rate_headers() == {"ratelimit-policy": '"leaky-10-2-1s";q=10;w=5', "ratelimit": '"leaky-10-2-1s";r=7;t=2', "retry-after": "1"}
    queue = Limiter(redis_server.client()).peek(f"{prefix}{{c1}}:leaky-10-2-1s", rule)
    assert queue.allowed and 1000 < queue.delay_ms <= 1500 and queue.remaining == 7


@pytest.mark.parametrize("fail_open", [True, False], ids=["fail_open", "fail_closed"])
def test_redis_killed_mid_run_follows_fail_open(site: SiteFactory, own_server: Server, prefix: str, fail_open: bool, caplog: pytest.LogCaptureFixture) -> None:
    app = site(own_server, **options(prefix, rule=Token(3, 3, "1m"), fail_open=fail_open))
    assert app.get().headers["ratelimit"] == '"token-3-3-1m";r=2;t=20'
    own_server.kill()
    with caplog.at_level(logging.WARNING, logger="redis_ratelimit"):
        reply = app.get()
    if fail_open:
        assert (reply.status, reply.body, reply.rate_headers()) == (200, b"ok", {})
    else:
        refused(reply, 503, {"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": "the rate limiter could not reach Redis"})
        assert reply.rate_headers() == {}
    warnings = [r.getMessage() for r in caplog.records if r.name == "redis_ratelimit" and r.levelno == logging.WARNING]
    consequence = "request let through (fail_open)" if fail_open else "answered 503 (fail_open is off)"
    # ConnectionError, or TimeoutError where the client's own retries (redis-py 6+ retries a
    # refused connection with backoff) outlast the middleware's timeout: unreachable either way.
    unreachable = ("rate limiter: Redis unreachable (ConnectionError", "rate limiter: Redis unreachable (TimeoutError")
    assert len(warnings) == 1 and warnings[0].startswith(unreachable) and warnings[0].endswith(consequence), warnings


@pytest.mark.parametrize("fail_open", [True, False], ids=["fail_open", "fail_closed"])
def test_a_redis_slower_than_the_timeout_counts_as_unreachable(site: SiteFactory, own_server: Server, prefix: str, fail_open: bool, caplog: pytest.LogCaptureFixture) -> None:
    app = site(own_server, redis_timeout=0.2, **options(prefix, rule=Token(3, 3, "1m"), fail_open=fail_open))
    assert app.get().status == 200
    assert own_server.process is not None
    os.kill(own_server.process.pid, signal.SIGSTOP)  # accepts, never answers
    try:
        with caplog.at_level(logging.WARNING, logger="redis_ratelimit"):
            slow = app.get()
    finally:
        os.kill(own_server.process.pid, signal.SIGCONT)
    assert slow.status == (200 if fail_open else 503) and slow.rate_headers() == {}
    assert 0.2 <= slow.seconds < 2.0
    assert any("TimeoutError" in r.getMessage() for r in caplog.records if r.name == "redis_ratelimit")
    # Once Redis answers again, so does the limiter (the late first call counted too).
    back = app.get()
    assert back.status == 200 and back.headers["ratelimit"] in ('"token-3-3-1m";r=0;t=60', '"token-3-3-1m";r=1;t=40')


def _hold(app: Site, replies: List[Reply]) -> threading.Thread:
    thread = threading.Thread(target=lambda: replies.append(app.get("/hold")))
    thread.start()
    return thread


def test_a_concurrent_rule_holds_a_slot_until_the_response_is_done(site: SiteFactory, redis_server: Server, prefix: str, gate: Gate) -> None:
    app = site(redis_server, **options(prefix, rule=Concurrent(2, "30s")))
    policy = '"concurrent-2-30s";q=2;qu="concurrent-requests";w=30'
    held: List[Reply] = []
    threads = [_hold(app, held) for _ in range(2)]
    try:
        gate.wait_inside(2)
        for _ in range(2):
            extra = app.get()
            refused(extra, 429, {"type": QUOTA_EXCEEDED, "title": TITLE, "status": 429, "violated-policies": ["concurrent-2-30s"]})
            assert extra.rate_headers() == {"ratelimit-policy": policy, "ratelimit": '"concurrent-2-30s";r=0;t=30', "retry-after": "30"}
    finally:
        gate.open()
        for thread in threads:
            thread.join(10)
    assert sorted(r.headers["ratelimit"] for r in held) == ['"concurrent-2-30s";r=0;t=30', '"concurrent-2-30s";r=1;t=30']
    assert [r.status for r in held] == [200, 200]
    # Both slots came back with the responses: each request now finds one of two taken (its own).
    for _ in range(3):
        again = app.get()
        assert again.status == 200 and again.rate_headers() == {"ratelimit-policy": policy, "ratelimit": '"concurrent-2-30s";r=1;t=30'}


def test_a_lease_is_released_when_the_application_fails(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, **options(prefix, rule=Concurrent(1, "30s")))
    assert app.get("/boom").status == 500
    assert app.get("/boom").status == 500  # not 429: the first one's slot came back
    ok = app.get()
    assert ok.status == 200 and ok.headers["ratelimit"] == '"concurrent-1-30s";r=0;t=30'


def test_legacy_headers_on_request(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, **options(prefix, rule=Token(3, 3, "1m"), legacy_headers=True))
    before = time.time()
    headers = app.get().rate_headers()
    reset = int(headers.pop("x-ratelimit-reset"))
    assert before + 20 <= reset <= time.time() + 21
    assert headers == {
        "ratelimit-policy": '"token-3-3-1m";q=3;w=60',
        "ratelimit": '"token-3-3-1m";r=2;t=20',
        "x-ratelimit-limit": "3",
        "x-ratelimit-remaining": "2",
    }


@pytest.mark.parametrize("module", [True, False], ids=["module", "library"])
def test_on_a_cluster_a_request_is_one_call_to_the_node_of_its_key(site: SiteFactory, cluster: Callable[[str, bool], Cluster], module: bool, prefix: str) -> None:
    nodes = cluster(pick("redis70"), module)
    app = site(nodes, **options(prefix, rule=Token(3, 3, "1m"), routes={"/login": Token(2, 2, "1m")}))
    moved = sum(errorstat(node, "MOVED") for node in nodes.nodes)
    # Four clients (four slots), each: two logins, then refused by the route's rule.
    statuses = [app.get("/login", client=f"user{i % 4}").status for i in range(12)]
    assert statuses == [200] * 8 + [429] * 4
    owners = {nodes.client().get_node_from_key(f"{{user{i}}}").name for i in range(4)}
    assert len(owners) > 1  # the clients' keys live on more than one primary
    assert sum(errorstat(node, "MOVED") for node in nodes.nodes) == moved
