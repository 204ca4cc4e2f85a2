"""redis_ratelimit.asgi.RateLimitMiddleware in a FastAPI app served by uvicorn, over HTTP: the
contract's cases (middleware_cases.py) and what is the ASGI adapter's own."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, Iterator, Optional, Union

import pytest
import redis.asyncio
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from middleware_cases import *  # noqa: F401,F403 (the shared contract tests and their gate fixture)
from middleware_cases import SiteFactory, options
from redis_ratelimit import AsyncLimiter, Fixed, Limiter, Token
from redis_ratelimit.asgi import RateLimitMiddleware
from servers import Cluster, Server
from web import Gate, serve_asgi, sites


def fastapi_app(redis_server: Union[Server, Cluster], redis_timeout: Optional[float], gate: Gate, **middleware: Any) -> FastAPI:
    client: Any
    if isinstance(redis_server, Cluster):
        client = redis.asyncio.RedisCluster(host="127.0.0.1", port=redis_server.nodes[0].port)
    else:
        client = redis.asyncio.Redis(port=redis_server.port)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        close = getattr(client, "aclose", None) or client.close  # redis-py 5 / 4.6
        await close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/", response_class=PlainTextResponse)
    @app.get("/login", response_class=PlainTextResponse)
    async def home() -> str:
        return "ok"

    @app.get("/hold", response_class=PlainTextResponse)
    def hold() -> str:  # a plain def: FastAPI runs it on a worker thread, where it may block
        gate.pass_through()
        return "held"

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    timeout: Dict[str, Any] = {} if redis_timeout is None else {"timeout": redis_timeout}
    app.add_middleware(RateLimitMiddleware, limiter=AsyncLimiter(client), **timeout, **middleware)
    return app


@pytest.fixture
def site(gate: Gate) -> Iterator[SiteFactory]:
    def build(redis_server: Union[Server, Cluster], redis_timeout: Optional[float] = None, **middleware: Any) -> FastAPI:
        return fastapi_app(redis_server, redis_timeout, gate, **middleware)

    yield from sites(serve_asgi, build)


def test_the_middleware_takes_an_async_limiter(redis_server: Server) -> None:
    with pytest.raises(TypeError, match="limiter must be an AsyncLimiter"):
        RateLimitMiddleware(FastAPI(), limiter=Limiter(redis_server.client()), key=lambda r: "k")  # type: ignore[arg-type]


def test_a_route_pattern_with_a_parameter_counts_every_path_it_matches_together(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, **options(prefix, routes={"/users/{id}": Fixed(2, "1h", name="users")}))
    assert [app.get(p).status for p in ("/users/1", "/users/2", "/users/3")] == [404, 404, 429]
    # Not matched: no rule applies, so no headers.
    assert app.get("/users/1/posts").rate_headers() == {}
    assert app.get("/").rate_headers() == {}


def test_a_key_with_braces_keeps_every_key_of_a_request_in_one_hash_tag(site: SiteFactory, redis_server: Server, prefix: str) -> None:
    app = site(redis_server, **options(prefix, rule=Token(5, 5, "1m"), routes={"/login": Token(2, 2, "1m")}))
    assert app.get("/login", client="}{a}").status == 200
    keys = sorted(k.decode() for k in redis_server.client().keys(f"{prefix}*"))
    assert keys == [f"{prefix}{{%7D%7Ba%7D}}:/login:token-2-2-1m", f"{prefix}{{%7D%7Ba%7D}}:token-5-5-1m"]
