"""The asyncio limiter, for ``redis.asyncio`` (or ``valkey.asyncio``) ``Redis`` and
``RedisCluster``: the methods of :class:`~redis_ratelimit.Limiter`, as coroutines."""

from __future__ import annotations

from asyncio import CancelledError
from contextlib import asynccontextmanager
from time import perf_counter
from typing import Any, AsyncIterator, Mapping, Optional

from . import _calls
from ._backend import Backends, Call, Flow
from ._calls import Id, Route, new_id
from ._recording import recorder
from .decision import Decision
from .metrics import UNKNOWN, Metrics
from .rules import Concurrent, Rule

__all__ = ["AsyncLimiter"]


class AsyncLimiter:
    """:class:`~redis_ratelimit.Limiter` for asyncio clients: the same paths, rules and
    Decisions and ``metrics``, every method a coroutine (and ``async with limiter.lease(...)``)."""

    def __init__(self, client: Any, *, backend: Optional[str] = None, metrics: Optional[Metrics] = None) -> None:
        self.client = client
        self._route = Route(client)
        self._backends = Backends(backend)
        self._recorder = recorder(metrics, self._backends)
        self._initialized = not self._route.cluster

    @property
    def metrics(self) -> Optional[Metrics]:
        """The sink given as ``metrics`` (None: metrics off)."""
        return None if self._recorder is None else self._recorder.metrics

    async def hit(self, key: str, rule: Rule, cost: int = 1, *, force: bool = False) -> Decision:
        """Charge ``cost`` if ``rule`` admits it (``force``: record it even past the limit)."""
        return await self._run(_calls.hit(key, rule, cost, force))

    async def peek(self, key: str, rule: Rule, cost: int = 1, *, id: Optional[Id] = None) -> Decision:
        """Whether a hit of ``cost`` (a Concurrent rule: an acquire by ``id``) would be
        admitted now; changes nothing."""
        return await self._run(_calls.peek(key, rule, cost, id))

    async def refund(self, key: str, rule: Rule, amount: int) -> Decision:
        """Give back ``amount`` units that were charged and not used (never below empty)."""
        return await self._run(_calls.refund(key, rule, amount))

    async def hit_all(self, rules: Mapping[str, Rule], cost: int = 1, *, id: Optional[Id] = None, peek: bool = False) -> Decision:
        """Charge every ``key -> rule`` pair, or none (one ``RL.ALL`` call): see
        :meth:`redis_ratelimit.Limiter.hit_all`."""
        return await self._run(_calls.hit_all(rules, cost, id, peek))

    async def acquire(self, key: str, rule: Concurrent, id: Id) -> Decision:
        """Take a slot for ``id``, or renew the one it holds (a renewal is always allowed)."""
        return await self._run(_calls.lease(key, rule, id, release=False))

    async def release(self, key: str, rule: Concurrent, id: Id) -> Decision:
        """Give ``id``'s slot back; ``allowed`` says whether its lease was still live."""
        return await self._run(_calls.lease(key, rule, id, release=True))

    @asynccontextmanager
    async def lease(self, key: str, rule: Concurrent, id: Optional[Id] = None) -> AsyncIterator[Decision]:
        """Acquire for the ``async with`` block and release after it (when it was allowed:
        check ``allowed`` before doing the work). ``id`` defaults to a fresh random one."""
        holder = new_id() if id is None else id
        decision = await self.acquire(key, rule, holder)
        try:
            yield decision
        finally:
            if decision.allowed:
                await self.release(key, rule, holder)

    async def _run(self, call: Call) -> Decision:
        self._route.check_slots(call)  # from the keys alone: nothing is sent before it passes
        started: Optional[float] = None
        if self._route.cluster and getattr(self.client, "_initialize", not self._initialized):
            # The slot map, which routing reads: at the first call, and again after the client
            # dropped it (it does after a connection error, and every few MOVED) so that the
            # call is routed by the new map, not sent to a node of the old one.
            started = await self._initialize(call)
        node, name = self._route.node(call)
        flow = self._backends.run(call, node, name, self._route.primaries)
        if self._recorder is not None:
            flow = self._recorder.flow(call, name, flow, started)
        result: Decision = await self._drive(flow)
        return result

    async def _initialize(self, call: Call) -> Optional[float]:
        """Fetch the cluster's slot map; with metrics, when it began (the call's time
        includes it) and a failure reported as the call's."""
        began = None if self._recorder is None else perf_counter()
        try:
            await self.client.initialize()
        except (Exception, CancelledError):
            if self._recorder is not None and began is not None:
                self._recorder.failed(call, UNKNOWN, began)
            raise
        self._initialized = True
        return began

    async def _drive(self, flow: Flow) -> Any:
        try:
            send = next(flow)
            while True:
                try:
                    reply = await self.client.execute_command(*send.args, **self._route.args(send.node))
                except (Exception, CancelledError) as error:
                    # A cancellation (asyncio.wait_for past its timeout) goes through the flow
                    # too, which raises it again: the metrics count it as the call's failure.
                    send = flow.throw(error)
                else:
                    send = flow.send(reply)
        except StopIteration as done:
            return done.value
