"""The blocking limiter, for redis-py's (or valkey-py's) ``Redis`` and ``RedisCluster``."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Optional

from . import _calls
from ._backend import Backends, Call, Flow
from ._calls import Id, Route, new_id
from ._recording import recorder
from .decision import Decision
from .metrics import Metrics
from .rules import Concurrent, Rule

__all__ = ["Limiter"]


class Limiter:
    """Rate limits and leases on Redis or Valkey, through the ``ratelimit`` module where it is
    loaded and the package's script library where it is not.

    ``client`` is a ``redis.Redis``, ``redis.RedisCluster``, ``valkey.Valkey`` or
    ``valkey.ValkeyCluster``. The path that serves each node (``"module"``, ``"function"`` for
    FCALL, ``"script"`` for EVALSHA) is found at its first call, and the library loaded where
    it is missing or older; ``backend`` pins one path instead.

    A server's error reply raises :class:`~redis_ratelimit.RateLimitError`; a connection error
    or a timeout is the client's own exception.

    ``metrics``: where to report each call (:class:`~redis_ratelimit.metrics.PrometheusMetrics`,
    or any :class:`~redis_ratelimit.metrics.Metrics`); None, the default, reports nothing and
    times nothing.
    """

    def __init__(self, client: Any, *, backend: Optional[str] = None, metrics: Optional[Metrics] = None) -> None:
        self.client = client
        self._route = Route(client)
        self._backends = Backends(backend)
        self._recorder = recorder(metrics, self._backends)

    @property
    def metrics(self) -> Optional[Metrics]:
        """The sink given as ``metrics`` (None: metrics off)."""
        return None if self._recorder is None else self._recorder.metrics

    def hit(self, key: str, rule: Rule, cost: int = 1, *, force: bool = False) -> Decision:
        """Charge ``cost`` if ``rule`` admits it (``force``: record it even past the limit)."""
        return self._run(_calls.hit(key, rule, cost, force))

    def peek(self, key: str, rule: Rule, cost: int = 1, *, id: Optional[Id] = None) -> Decision:
        """Whether a hit of ``cost`` (a Concurrent rule: an acquire by ``id``) would be
        admitted now; changes nothing."""
        return self._run(_calls.peek(key, rule, cost, id))

    def refund(self, key: str, rule: Rule, amount: int) -> Decision:
        """Give back ``amount`` units that were charged and not used (never below empty)."""
        return self._run(_calls.refund(key, rule, amount))

    def hit_all(self, rules: Mapping[str, Rule], cost: int = 1, *, id: Optional[Id] = None, peek: bool = False) -> Decision:
        """Charge every ``key -> rule`` pair, or none: the request is admitted only if every
        limiter admits it (one ``RL.ALL`` call). On a cluster the keys need one slot (a hash
        tag); a Concurrent rule takes a lease for ``id``. The Decision is the decisive
        limiter's: the first that refused, or the one with the least remaining."""
        return self._run(_calls.hit_all(rules, cost, id, peek))

    def acquire(self, key: str, rule: Concurrent, id: Id) -> Decision:
        """Take a slot for ``id``, or renew the one it holds (a renewal is always allowed)."""
        return self._run(_calls.lease(key, rule, id, release=False))

    def release(self, key: str, rule: Concurrent, id: Id) -> Decision:
        """Give ``id``'s slot back; ``allowed`` says whether its lease was still live."""
        return self._run(_calls.lease(key, rule, id, release=True))

    @contextmanager
    def lease(self, key: str, rule: Concurrent, id: Optional[Id] = None) -> Iterator[Decision]:
        """Acquire for the ``with`` block and release after it (when it was allowed: check
        ``allowed`` before doing the work). ``id`` defaults to a fresh random one."""
        holder = new_id() if id is None else id
        decision = self.acquire(key, rule, holder)
        try:
            yield decision
        finally:
            if decision.allowed:
                self.release(key, rule, holder)

    def _run(self, call: Call) -> Decision:
        self._route.check_slots(call)
        node, name = self._route.node(call)
        flow = self._backends.run(call, node, name, self._route.primaries)
        if self._recorder is not None:
            flow = self._recorder.flow(call, name, flow)
        result: Decision = self._drive(flow)
        return result

    def _drive(self, flow: Flow) -> Any:
        try:
            send = next(flow)
            while True:
                try:
                    reply = self.client.execute_command(*send.args, **self._route.args(send.node))
                except Exception as error:
                    send = flow.throw(error)
                else:
                    send = flow.send(reply)
        except StopIteration as done:
            return done.value
