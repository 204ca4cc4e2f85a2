"""What a limiter with metrics reports of each call, written once for both limiters.

:meth:`Recorder.flow` wraps a call's flow (:mod:`._backend`): the blocking and the asyncio
limiter drive it as they drive any flow, and it times the call and reports its outcome when the
flow ends. A limiter without metrics has no Recorder and never gets here.
"""

from __future__ import annotations

from asyncio import CancelledError
from time import perf_counter
from typing import Iterable, Optional

from ._backend import Backends, Call, Flow
from .decision import Decision
from .metrics import UNKNOWN, Metrics
from .rules import Rule


class Recorder:
    """One limiter's reports to its ``metrics``; ``backends`` is the limiter's knowledge of
    which path serves each node (the ``backend`` label of an error)."""

    def __init__(self, metrics: Metrics, backends: Backends) -> None:
        self.metrics = metrics
        self._backends = backends

    def flow(self, call: Call, name: str, flow: Flow, started: Optional[float] = None) -> Flow:
        """``flow`` (``call`` on the node ``name``), timed from its first step (or from
        ``started``: the asyncio cluster client's slot map, fetched before it) to its end."""
        began = perf_counter() if started is None else started
        try:
            decision: Decision = yield from flow
        except (Exception, CancelledError):
            # Everything a flow raises came after reaching for Redis (the call's arguments
            # were checked when it was made): a connection error, a timeout, an error reply,
            # no path; or asyncio's cancellation of a call past the middleware's timeout.
            state = self._backends.nodes.get(name)
            self.failed(call, (state.backend if state is not None else None) or UNKNOWN, began)
            raise
        self.answered(call, decision, perf_counter() - began)
        return decision

    def answered(self, call: Call, decision: Decision, seconds: float) -> None:
        metrics, backend = self.metrics, decision.backend
        # hit_all's decisive rule is the only one refused; keys of one call are distinct.
        refused = -1 if decision.allowed else call.keys.index(decision.key)
        for index, rule in enumerate(call.rules):
            metrics.observe_call(rule.policy, backend, seconds)
            if call.charges:
                metrics.count_check(rule.policy, backend, index == refused)

    def failed(self, call: Call, backend: str, began: float) -> None:
        seconds = perf_counter() - began
        for rule in call.rules:
            self.metrics.observe_call(rule.policy, backend, seconds)
            self.metrics.count_redis_error(rule.policy, backend)

    def failed_open(self, rules: Iterable[Rule]) -> None:
        """The middleware let a request through although its check of ``rules`` failed."""
        backend = self._backends.serving() or UNKNOWN
        for rule in rules:
            self.metrics.count_fail_open(rule.policy, backend)


_REPORTS = ("observe_call", "count_check", "count_redis_error", "count_fail_open")


def recorder(metrics: Optional[Metrics], backends: Backends) -> Optional[Recorder]:
    """A limiter's Recorder, or None when it has no metrics; a TypeError for a ``metrics``
    that is not a sink (a registry given where PrometheusMetrics(registry) was meant)."""
    if metrics is None:
        return None
    missing = [name for name in _REPORTS if not callable(getattr(metrics, name, None))]
    if missing:
        raise TypeError(
            f"metrics must be a Metrics sink such as PrometheusMetrics(registry), not {type(metrics).__name__} (it lacks {', '.join(missing)})"
        )
    return Recorder(metrics, backends)


__all__ = ["Recorder", "recorder"]
