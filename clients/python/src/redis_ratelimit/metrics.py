"""The limiters' metrics, off unless a limiter is given a sink (``metrics=``).

:class:`Metrics` is what a limiter and the middleware report to: one call per rule of each
limiter call. :class:`PrometheusMetrics` turns those reports into the Prometheus series that
the Node package exposes too (one set of recording rules, alerts and dashboards for both):

============================================  =========  ========================================
``ratelimit_checks_total``                    counter    rules charged by ``hit``, ``hit_all``,
                                                         ``acquire`` that got a decision
``ratelimit_refusals_total``                  counter    those refused (``hit_all``: the
                                                         decisive rule's alone)
``ratelimit_redis_errors_total``              counter    calls that raised after reaching for
                                                         Redis (any operation)
``ratelimit_fail_open_total``                 counter    requests the middleware let through
                                                         because the check failed
``ratelimit_call_duration_seconds``           histogram  every call's wall time, failed too
============================================  =========  ========================================

each labelled ``policy`` (the rule's :attr:`~redis_ratelimit.Rule.policy`) and ``backend``
(``"module"``, ``"function"``, ``"script"``, or ``"unknown"`` for an error before any path of
the node answered). Keys are never labels: their number has no bound.

``prometheus_client`` is imported when a :class:`PrometheusMetrics` is made, not before
(``pip install 'redis-ratelimit[prometheus]'``).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Optional, Protocol, Tuple

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["Metrics", "PrometheusMetrics", "BUCKETS", "UNKNOWN"]

#: The histogram's upper bounds in seconds (+Inf added): 100 µs, the floor of a call on
#: loopback, up to 5 s, past any sane client timeout.
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: The ``backend`` label of an error before any path of the node answered.
UNKNOWN = "unknown"

INSTALL_HINT = "pip install 'redis-ratelimit[prometheus]'"


class Metrics(Protocol):
    """Where a limiter reports, one call per rule of each limiter call: the call's duration
    first, then what it counted. ``policy`` is the rule's policy name, ``backend`` the path
    that served the call (``"module"``, ``"function"``, ``"script"``) or ``"unknown"``.

    Any of the methods may be the first to name a (policy, backend) pair: a sink that
    initialises its series (as :class:`PrometheusMetrics` does, every counter of the pair at
    0) does it at that first report, before counting it. The methods are called from the
    application's threads and event loops, concurrently: they must be thread-safe and must
    not block.
    """

    def observe_call(self, policy: str, backend: str, seconds: float) -> None:
        """A limiter call of this rule took ``seconds`` (every operation, failed ones too)."""

    def count_check(self, policy: str, backend: str, refused: bool) -> None:
        """The rule was checked (``hit``, ``hit_all``, ``acquire``) and got a decision;
        ``refused``: it was the rule that refused it."""

    def count_redis_error(self, policy: str, backend: str) -> None:
        """A call of this rule raised after reaching for Redis."""

    def count_fail_open(self, policy: str, backend: str) -> None:
        """The middleware let a request through although its check of this rule failed."""


@dataclass(frozen=True)
class _Series:
    """One (policy, backend) pair's children of the five collectors."""

    checks: Counter
    refusals: Counter
    redis_errors: Counter
    fail_open: Counter
    duration: Histogram


class _Collectors:
    """The five collectors registered on one registry, and their children by label pair,
    shared by every PrometheusMetrics on that registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        from prometheus_client import Counter, Histogram

        labels = ("policy", "backend")
        self.checks = Counter("ratelimit_checks_total", "Rules checked by hit, hit_all or acquire that got a decision", labels, registry=registry)
        self.refusals = Counter("ratelimit_refusals_total", "Checks refused (hit_all: the decisive rule's)", labels, registry=registry)
        self.redis_errors = Counter("ratelimit_redis_errors_total", "Limiter calls that raised after reaching for Redis, one per rule", labels, registry=registry)
        self.fail_open = Counter("ratelimit_fail_open_total", "Requests the middleware let through because the check failed (fail_open)", labels, registry=registry)
        self.duration = Histogram(
            "ratelimit_call_duration_seconds", "Wall time of limiter calls, one observation per rule", labels, registry=registry, buckets=BUCKETS
        )
        self.series: Dict[Tuple[str, str], _Series] = {}
        self.lock = threading.Lock()

    def of(self, policy: str, backend: str) -> _Series:
        pair = (policy, backend)
        found = self.series.get(pair)
        if found is not None:
            return found
        with self.lock:
            found = self.series.get(pair)
            if found is None:
                # labels() creates each child at 0: the pair's counters start at 0 before the
                # report that named them counts, so rate() and increase() see every increment.
                found = _Series(
                    self.checks.labels(policy, backend),
                    self.refusals.labels(policy, backend),
                    self.redis_errors.labels(policy, backend),
                    self.fail_open.labels(policy, backend),
                    self.duration.labels(policy, backend),
                )
                self.series[pair] = found
        return found


# By registry, so that two PrometheusMetrics on one registry (two limiters, or a limiter made
# per test or per request) share its collectors instead of failing with "Duplicated
# timeseries"; weak, so that a dropped registry takes its collectors with it.
_registered: "weakref.WeakKeyDictionary[CollectorRegistry, _Collectors]" = weakref.WeakKeyDictionary()
_registering = threading.Lock()


class PrometheusMetrics:
    """The limiters' metrics as ``prometheus_client`` collectors on ``registry`` (default
    ``prometheus_client.REGISTRY``, what ``generate_latest()``, ``make_wsgi_app()`` and
    ``make_asgi_app()`` expose). Several limiters may share one, or each have their own on
    one registry: the collectors are registered once per registry.

    Raises ImportError when ``prometheus_client`` is not installed.
    """

    def __init__(self, registry: Optional[CollectorRegistry] = None) -> None:
        try:
            import prometheus_client
        except ImportError as missing:
            raise ImportError(f"PrometheusMetrics needs prometheus_client: {INSTALL_HINT}") from missing
        self.registry: CollectorRegistry = prometheus_client.REGISTRY if registry is None else registry
        with _registering:
            collectors = _registered.get(self.registry)
            if collectors is None:
                collectors = _registered[self.registry] = _Collectors(self.registry)
        self._collectors = collectors

    def observe_call(self, policy: str, backend: str, seconds: float) -> None:
        self._collectors.of(policy, backend).duration.observe(seconds)

    def count_check(self, policy: str, backend: str, refused: bool) -> None:
        series = self._collectors.of(policy, backend)
        series.checks.inc()
        if refused:
            series.refusals.inc()

    def count_redis_error(self, policy: str, backend: str) -> None:
        self._collectors.of(policy, backend).redis_errors.inc()

    def count_fail_open(self, policy: str, backend: str) -> None:
        self._collectors.of(policy, backend).fail_open.inc()
