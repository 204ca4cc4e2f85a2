"""valkey-py's clients (its own classes, its own exceptions) on the module and library paths."""

from __future__ import annotations

import asyncio

import pytest

from conftest import ServerFactory, pick
from redis_ratelimit import AsyncLimiter, Concurrent, Fixed, Limiter, RateLimitError

valkey = pytest.importorskip("valkey", reason="valkey-py is installed by `make python`")


@pytest.mark.parametrize("module", [True, False], ids=["module", "library"])
def test_valkey_py_clients(server: ServerFactory, module: bool, prefix: str) -> None:
    s = server(pick("valkey9"), module)
    limiter = Limiter(valkey.Valkey(port=s.port))
    d = [limiter.hit(f"{prefix}k", Fixed(2, "1m")) for _ in range(3)]
    assert [x.allowed for x in d] == [True, True, False] and d[0].backend == ("module" if module else "function" if s.has_functions() else "script")
    valkey.Valkey(port=s.port).set(f"{prefix}s", "x")
    with pytest.raises(RateLimitError, match="WRONGTYPE"):
        limiter.acquire(f"{prefix}s", Concurrent(1, "1s"), "a")
    with pytest.raises(valkey.exceptions.ConnectionError):
        Limiter(valkey.Valkey(port=1, socket_connect_timeout=1)).hit("k", Fixed(1, "1s"))

    async def run() -> bool:
        client = valkey.asyncio.Valkey(port=s.port)
        decision = await AsyncLimiter(client).hit(f"{prefix}a", Fixed(1, "1m"))
        await client.aclose()
        return decision.allowed

    assert asyncio.run(run())

