"""Rate limits for ASGI applications (Starlette, FastAPI): one middleware.

>>> app.add_middleware(
...     RateLimitMiddleware,
...     limiter=AsyncLimiter(redis.asyncio.Redis()),
...     rule=Sliding(100, "1m"),
...     routes={"/login": Fixed(5, "1m"), "/v1/generate/*": Concurrent(4, "2m")},
...     key=lambda request: request.client.host,
... )

Needs Starlette (``pip install redis-ratelimit[asgi]``, or ``[fastapi]``) for the
``Request`` the key and cost functions take; it is imported when the middleware is made.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Awaitable, Callable, List, Mapping, MutableMapping, Optional, Tuple

from ._http import PROBLEM, Flow, Options, Outcome, Rules, T, Wait, admit, release
from .aio import AsyncLimiter

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["RateLimitMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RateLimitMiddleware:
    """Limits every HTTP request of an ASGI application by a key of the request (websocket
    and lifespan events pass through).

    ``limiter``: an :class:`~redis_ratelimit.AsyncLimiter`. ``key``: a function of the
    Starlette ``Request`` (it must not read the body) returning the client's key, or None to
    exempt the request (no limit, no headers). ``rule``: the global rule (or rules), applied
    to every request. ``routes``: more rules by path pattern, applied beside the global ones,
    every matching pattern's (``/login`` exactly, ``/users/{id}`` one segment per parameter,
    ``/api/*`` everything under ``/api/``), each counted on its own. ``cost``: a function of
    the request giving its cost in units of every rate rule (default 1; a Concurrent rule
    always takes one slot).

    All rules of a request are charged in one ``hit_all`` (all or nothing), under the keys
    ``<prefix>{<key>}:<policy>`` and ``<prefix>{<key>}:<pattern>:<policy>`` (one hash tag: one
    cluster slot); a rule given a ``name`` keeps its counts when its numbers change, as the
    key holds the policy name. Every limited response carries ``RateLimit-Policy`` and ``RateLimit``
    (``legacy_headers``: also ``X-RateLimit-*``); a refusal is answered 429 with
    ``Retry-After`` and ``application/problem+json``, or 413 when the cost is more than a
    limit (no wait can admit it). A Leaky rule's ``delay_ms`` is awaited before the
    application runs, up to ``max_delay`` seconds (None: any the rule gives); past it the
    request is refused and every unit it was charged given back. A Concurrent rule takes a
    lease with a fresh id for the request and releases it once the response is sent, or the
    application failed.

    ``timeout``: seconds a Redis call may take (None: the client's own timeouts). Redis
    unreachable or slower than that: with ``fail_open`` the request passes without headers,
    else it is answered 503; either way a warning is logged (logger ``redis_ratelimit``), and a
    request let through is counted in the limiter's ``metrics`` (``ratelimit_fail_open_total``).
    Other errors (a server's error reply, a bad rule) are raised.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: AsyncLimiter,
        key: Callable[[Request], Optional[str]],
        rule: Optional[Rules] = None,
        routes: Optional[Mapping[str, Rules]] = None,
        cost: Optional[Callable[[Request], int]] = None,
        fail_open: bool = False,
        timeout: Optional[float] = 1.0,
        max_delay: Optional[float] = None,
        legacy_headers: bool = False,
        prefix: str = "rl:",
    ) -> None:
        from starlette.requests import Request  # the key function's argument

        if not isinstance(limiter, AsyncLimiter):
            raise TypeError(f"limiter must be an AsyncLimiter (a Limiter is for blocking code), not {type(limiter).__name__}")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ValueError(f"timeout must be seconds (more than 0) or None, not {timeout!r}")
        self.app = app
        self.limiter = limiter
        self.timeout = timeout
        self._request = Request
        self._options: Options[Request] = Options(
            key=key,
            rule=rule,
            routes=routes,
            cost=cost,
            fail_open=fail_open,
            max_delay=max_delay,
            legacy_headers=legacy_headers,
            prefix=prefix,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        plan = self._options.plan(self._request(scope, receive), str(scope["path"]))
        if plan is None:
            await self.app(scope, receive, send)
            return
        outcome = await self._run(admit(plan, self._options, self.limiter._recorder))
        headers = _raw(outcome)
        if outcome.status is not None:
            await _answer(send, outcome.status, outcome.body, headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and headers:
                message = {**message, "headers": [*message.get("headers", ()), *headers]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            for lease in outcome.leases:
                # Shielded: a cancelled request (the client went away) still gives its slot back.
                await asyncio.shield(self._run(release(lease)))

    async def _run(self, flow: Flow[T]) -> T:
        """Drive a flow of :mod:`._http` with the AsyncLimiter, each call within ``timeout``."""
        try:
            step = next(flow)
            while True:
                try:
                    reply = None
                    if isinstance(step, Wait):
                        await asyncio.sleep(step.seconds)
                    else:
                        reply = await asyncio.wait_for(step(self.limiter), self.timeout)
                except Exception as error:
                    step = flow.throw(error)
                else:
                    step = flow.send(reply)
        except StopIteration as done:
            result: T = done.value
            return result


def _raw(outcome: Outcome) -> List[Tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in outcome.headers.items()]


async def _answer(send: Send, status: int, body: bytes, headers: List[Tuple[bytes, bytes]]) -> None:
    """The middleware's own response: problem details and the rate-limit headers."""
    head = [(b"content-type", PROBLEM.encode("latin-1")), (b"content-length", str(len(body)).encode("latin-1")), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
