"""redis_ratelimit.flask.RateLimit in a Flask app served by werkzeug's threaded server, over
HTTP: the contract's cases (middleware_cases.py) and what is the Flask extension's own (the
per-view decorator, exempt views, init_app)."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Optional, Union

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from flask import Flask

from middleware_cases import *  # noqa: F401,F403 (the shared contract tests and their gate fixture)
from middleware_cases import TITLE, SiteFactory, options, refused
from redis_ratelimit import QUOTA_EXCEEDED, AsyncLimiter, Fixed, Limiter, Token
from redis_ratelimit.flask import RateLimit
from servers import Cluster, Server
from web import Gate, serve_wsgi, sites

Views = Callable[[Flask, RateLimit], None]


def flask_app(redis_server: Union[Server, Cluster], redis_timeout: Optional[float], gate: Gate, views: Optional[Views] = None, **extension: Any) -> Flask:
    app = Flask(__name__)
    client: Any
    if isinstance(redis_server, Cluster):
        client = redis.RedisCluster(host="127.0.0.1", port=redis_server.nodes[0].port, socket_timeout=redis_timeout or 5)
    else:
        # No retries: redis-py 6+ retries a timeout or a refused connection three times with
        # backoff by default, which multiplies the wait the extension's docs promise.
        client = redis.Redis(port=redis_server.port, socket_timeout=redis_timeout or 5, retry=Retry(NoBackoff(), 0))
    ratelimit = RateLimit(limiter=Limiter(client), **extension)
    ratelimit.init_app(app)  # the factory pattern: made first, given the app later

    @app.get("/")
    @app.get("/login")
    def home() -> str:
        return "ok"

    @app.get("/hold")
    def hold() -> str:
        gate.pass_through()
        return "held"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    if views is not None:
        views(app, ratelimit)
    return app


@pytest.fixture
def site(gate: Gate) -> Iterator[SiteFactory]:
    def build(redis_server: Union[Server, Cluster], redis_timeout: Optional[float] = None, views: Optional[Views] = None, **extension: Any) -> Flask:
        return flask_app(redis_server, redis_timeout, gate, views, **extension)

    yield from sites(serve_wsgi, build)


def views(app: Flask, ratelimit: RateLimit) -> None:
    @app.get("/search")
    @ratelimit.limit(Token(2, 2, "1m"))
    def search() -> str:
        return "found"

    @ratelimit.limit(Fixed(1, "1h", name="export-hourly"))  # either side of app.get
    @app.get("/export")
    @ratelimit.limit(Token(5, 5, "1m"))
    def export() -> str:
        return "exported"

    @app.get("/health")
    @ratelimit.exempt
    def health() -> str:
        return "up"

    @app.get("/webhook")
    @ratelimit.exempt
    @ratelimit.limit(Token(1, 1, "1m"))
    def webhook() -> str:
        return "hooked"


def test_a_view_limit_applies_beside_the_global_rule_and_counts_on_its_own(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, views=views, **options(prefix, rule=Token(100, 100, "1m")))
    both = '"token-100-100-1m";q=100;w=60, "token-2-2-1m";q=2;w=60'
    assert [app.get("/search").headers["ratelimit"] for _ in range(2)] == ['"token-2-2-1m";r=1;t=30', '"token-2-2-1m";r=0;t=60']
    denied = app.get("/search")
    refused(denied, 429, {"type": QUOTA_EXCEEDED, "title": TITLE, "status": 429, "violated-policies": ["token-2-2-1m"]})
    assert denied.rate_headers() == {"ratelimit-policy": both, "ratelimit": '"token-2-2-1m";r=0;t=60', "retry-after": "30"}
    assert app.get("/").headers["ratelimit"] == '"token-100-100-1m";r=97;t=2'
    keys = sorted(k.decode() for k in redis_server.client().keys(f"{prefix}*"))
    assert keys == [f"{prefix}{{c1}}:@search:token-2-2-1m", f"{prefix}{{c1}}:token-100-100-1m"]


def test_limit_decorators_stack_in_reading_order(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, views=views, **options(prefix, rule=Token(100, 100, "1m")))
    first = app.get("/export")
    assert first.status == 200
    assert first.headers["ratelimit-policy"] == '"token-100-100-1m";q=100;w=60, "export-hourly";q=1;w=3600, "token-5-5-1m";q=5;w=60'
    assert first.headers["ratelimit"].startswith('"export-hourly";r=0;t=')
    assert app.get("/export").status == 429


def test_an_exempt_view_has_no_global_limit_and_keeps_its_own(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, views=views, **options(prefix, rule=Token(1, 1, "1m"), routes={"/*": Token(1, 1, "1h")}))
    assert app.get("/").status == 200 and app.get("/").status == 429
    for _ in range(3):
        health = app.get("/health")
        assert (health.status, health.body, health.rate_headers()) == (200, b"up", {})
    hook = app.get("/webhook")
    assert hook.rate_headers() == {"ratelimit-policy": '"token-1-1-1m";q=1;w=60', "ratelimit": '"token-1-1-1m";r=0;t=60'}
    assert app.get("/webhook").status == 429


def test_two_rules_of_one_policy_name_on_a_view_are_refused_when_declared(redis_server: Server) -> None:
    ratelimit = RateLimit(limiter=Limiter(redis_server.client()), key=lambda request: "k")
    with pytest.raises(ValueError, match="two rules have the policy name 'token-1-1-1m'"):
        ratelimit.limit(Token(1, 1, "1m"))(ratelimit.limit(Token(1, 1, "1m"))(lambda: "x"))


def test_the_extension_takes_a_blocking_limiter(redis_server: Server) -> None:
    with pytest.raises(TypeError, match="limiter must be a Limiter"):
        RateLimit(limiter=AsyncLimiter(redis_server.client()), key=lambda request: "k")  # type: ignore[arg-type]
