"""The Prometheus metrics (metrics-contract.md): what each operation counts, per policy and per
path (module, function, script), against real servers; Redis errors from a closed port, a
server that never answers and a WRONGTYPE key; the fail-open counter through both middlewares;
the registry shared by two limiters; and the package without prometheus_client.

Every test reads a fresh ``CollectorRegistry`` of its own, whole: every series it holds is in
the expected dict, so a stray label set fails the test as a wrong count does."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Mapping, Tuple

import prometheus_client
import pytest
import redis
import redis.asyncio
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from flask import Flask
from prometheus_client import CollectorRegistry
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from conftest import ServerFactory, pick
from middleware_cases import options
from redis_ratelimit import AsyncLimiter, Concurrent, CrossSlotError, Fixed, Limiter, RateLimitError, Sliding, Token
from redis_ratelimit import _recording
from redis_ratelimit.asgi import RateLimitMiddleware
from redis_ratelimit.flask import RateLimit
from redis_ratelimit.metrics import BUCKETS, PrometheusMetrics
from servers import Server, free_port
from web import Site, serve_asgi, serve_wsgi, sites

Pair = Tuple[str, str]  # (policy, backend)
Counts = Dict[str, Dict[Pair, float]]

#: The contract's series, by a short name; "calls" is the histogram's observation count.
SERIES = {
    "ratelimit_checks_total": "checks",
    "ratelimit_refusals_total": "refusals",
    "ratelimit_redis_errors_total": "redis_errors",
    "ratelimit_fail_open_total": "fail_open",
    "ratelimit_call_duration_seconds_count": "calls",
}


def counts(registry: CollectorRegistry) -> Counts:
    """Every series of the five metrics in ``registry``, by short name and label pair."""
    out: Counts = {short: {} for short in SERIES.values()}
    for family in registry.collect():
        for sample in family.samples:
            short = SERIES.get(sample.name)
            if short is not None:
                out[short][(sample.labels["policy"], sample.labels["backend"])] = sample.value
    return out


def expected(pairs: List[Pair], **given: Mapping[Pair, float]) -> Counts:
    """The five metrics at 0 for each of ``pairs`` (created at their first sight), but for the
    values ``given`` by short name."""
    out: Counts = {short: {pair: 0.0 for pair in pairs} for short in SERIES.values()}
    for short, values in given.items():
        out[short].update(values)
    return out


def no_retry() -> Dict[str, Any]:
    """One try per command: redis-py 6+ retries a refused connection with backoff."""
    return {"retry": Retry(NoBackoff(), 0)}


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    return free_port()


@pytest.fixture(params=["module", "function", "script"])
def path(request: pytest.FixtureRequest, server: ServerFactory) -> Tuple[Server, str]:
    """A server and the path that serves it: the module, FCALL, or EVALSHA (pinned)."""
    backend = str(request.param)
    s = server(pick("redis70"), backend == "module")
    if backend == "function" and not s.has_functions():
        pytest.skip(f"{pick('redis70')} has no FUNCTION")
    return s, backend


def limiter_on(path: Tuple[Server, str], registry: CollectorRegistry) -> Limiter:
    s, backend = path
    return Limiter(s.client(), backend="script" if backend == "script" else None, metrics=PrometheusMetrics(registry))


def served_by(s: Server) -> str:
    """The path an unpinned limiter finds on ``s``."""
    if "--loadmodule" in s.args:
        return "module"
    return "function" if s.has_functions() else "script"


def test_admitted_and_refused_checks_are_counted_per_policy_and_backend(path: Tuple[Server, str], prefix: str) -> None:
    registry = CollectorRegistry()
    limiter = limiter_on(path, registry)
    backend = path[1]
    fixed, token = Fixed(5, "1m"), Token(2, 1, "1m", name="api")
    decisions = [limiter.hit(f"{prefix}a", fixed) for _ in range(8)] + [limiter.hit(f"{prefix}b", token) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3 + [True] * 2 + [False]
    assert {d.backend for d in decisions} == {backend}
    f, t = ("fixed-5-1m", backend), ("api", backend)
    assert counts(registry) == expected([f, t], checks={f: 8, t: 3}, refusals={f: 3, t: 1}, calls={f: 8, t: 3})


def test_a_cost_that_can_never_fit_is_a_refusal(path: Tuple[Server, str], prefix: str) -> None:
    registry = CollectorRegistry()
    limiter = limiter_on(path, registry)
    assert limiter.hit(f"{prefix}k", Fixed(5, "1m"), 6).never
    pair = ("fixed-5-1m", path[1])
    assert counts(registry) == expected([pair], checks={pair: 1}, refusals={pair: 1}, calls={pair: 1})


def test_hit_all_checks_every_rule_and_refuses_by_the_decisive_one_only(path: Tuple[Server, str], prefix: str) -> None:
    registry = CollectorRegistry()
    limiter = limiter_on(path, registry)
    backend = path[1]
    rules = {f"{{{prefix}}}first": Fixed(1, "1m", name="first"), f"{{{prefix}}}second": Fixed(1, "1m", name="second"), f"{{{prefix}}}roomy": Sliding(10, "1m")}
    assert limiter.hit_all(rules).allowed
    refused = limiter.hit_all(rules)  # both Fixed rules refuse; the first is decisive
    assert not refused.allowed and refused.rule.policy == "first"
    assert limiter.hit_all(rules, peek=True).rule.policy == "first"  # a peek: not a check
    first, second, roomy = ("first", backend), ("second", backend), ("sliding-10-1m", backend)
    assert counts(registry) == expected(
        [first, second, roomy],
        checks={first: 2, second: 2, roomy: 2},
        refusals={first: 1},
        calls={first: 3, second: 3, roomy: 3},
    )


def test_peek_refund_and_release_are_timed_but_not_checks(path: Tuple[Server, str], prefix: str) -> None:
    registry = CollectorRegistry()
    limiter = limiter_on(path, registry)
    backend = path[1]
    rate, jobs = Token(5, 5, "1m"), Concurrent(1, "1m")
    assert limiter.hit(f"{prefix}r", rate).allowed
    assert limiter.peek(f"{prefix}r", rate).allowed and limiter.peek(f"{prefix}r", rate, 5).allowed is False
    assert limiter.refund(f"{prefix}r", rate, 1).remaining == 5
    assert limiter.acquire(f"{prefix}j", jobs, "a").allowed
    assert not limiter.acquire(f"{prefix}j", jobs, "b").allowed
    assert limiter.acquire(f"{prefix}j", jobs, "a").allowed  # a renewal is a check too
    assert not limiter.peek(f"{prefix}j", jobs, id="b").allowed
    assert limiter.release(f"{prefix}j", jobs, "a").allowed
    r, j = ("token-5-5-1m", backend), ("concurrent-1-1m", backend)
    assert counts(registry) == expected([r, j], checks={r: 1, j: 3}, refusals={j: 1}, calls={r: 4, j: 5})


def test_the_histogram_has_the_contract_buckets_and_one_observation_per_call(path: Tuple[Server, str], prefix: str) -> None:
    registry = CollectorRegistry()
    limiter = limiter_on(path, registry)
    for _ in range(7):
        limiter.hit(f"{prefix}k", Sliding(3, "1m"))
    labels = {"policy": "sliding-3-1m", "backend": path[1]}
    buckets = [s for f in registry.collect() for s in f.samples if s.name == "ratelimit_call_duration_seconds_bucket"]
    assert [float(s.labels["le"]) for s in buckets] == [*BUCKETS, float("inf")]
    assert [*BUCKETS] == [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    assert registry.get_sample_value("ratelimit_call_duration_seconds_count", labels) == 7
    assert registry.get_sample_value("ratelimit_call_duration_seconds_bucket", {**labels, "le": "+Inf"}) == 7
    total = registry.get_sample_value("ratelimit_call_duration_seconds_sum", labels)
    assert total is not None and 0 < total < 7 * 5  # seconds, not milliseconds


def test_the_first_call_of_a_pair_creates_its_counters_at_zero_even_a_peek(path: Tuple[Server, str], prefix: str) -> None:
    registry = CollectorRegistry()
    limiter = limiter_on(path, registry)
    assert counts(registry) == expected([])  # nothing before any call
    limiter.peek(f"{prefix}k", Fixed(5, "1m"))
    pair = ("fixed-5-1m", path[1])
    assert counts(registry) == expected([pair], calls={pair: 1})
    exposed = prometheus_client.generate_latest(registry).decode()
    for name in ("ratelimit_checks_total", "ratelimit_refusals_total", "ratelimit_redis_errors_total", "ratelimit_fail_open_total"):
        assert f'{name}{{backend="{path[1]}",policy="fixed-5-1m"}} 0.0' in exposed


def test_a_closed_port_counts_one_redis_error_per_rule_of_every_operation(server: ServerFactory, prefix: str) -> None:
    registry = CollectorRegistry()
    limiter = Limiter(redis.Redis(port=closed_port(), socket_connect_timeout=1, **no_retry()), metrics=PrometheusMetrics(registry))
    with pytest.raises(redis.exceptions.ConnectionError):
        limiter.hit(f"{prefix}k", Fixed(5, "1m"))
    with pytest.raises(redis.exceptions.ConnectionError):
        limiter.peek(f"{prefix}k", Fixed(5, "1m"))
    with pytest.raises(redis.exceptions.ConnectionError):
        limiter.hit_all({f"{{{prefix}}}a": Fixed(5, "1m"), f"{{{prefix}}}b": Token(1, 1, "1s")})
    f, t = ("fixed-5-1m", "unknown"), ("token-1-1-1s", "unknown")
    assert counts(registry) == expected([f, t], redis_errors={f: 3, t: 1}, calls={f: 3, t: 1})


def test_a_wrongtype_key_counts_a_redis_error_of_the_path_that_answered(path: Tuple[Server, str], prefix: str) -> None:
    registry = CollectorRegistry()
    limiter = limiter_on(path, registry)
    s, backend = path
    s.client().rpush(f"{prefix}list", "x")
    with pytest.raises(RateLimitError, match="WRONGTYPE"):
        limiter.hit(f"{prefix}list", Fixed(5, "1m"))
    assert limiter.hit(f"{prefix}k", Fixed(5, "1m")).allowed
    pair = ("fixed-5-1m", backend)
    assert counts(registry) == expected([pair], checks={pair: 1}, redis_errors={pair: 1}, calls={pair: 2})


def test_argument_errors_are_raised_before_redis_and_not_counted(server: ServerFactory, prefix: str) -> None:
    registry = CollectorRegistry()
    limiter = Limiter(server(pick("redis70"), True).client(), metrics=PrometheusMetrics(registry))
    with pytest.raises(ValueError):
        limiter.hit(f"{prefix}k", Fixed(5, "1m"), 0)
    with pytest.raises(TypeError):
        limiter.hit(f"{prefix}k", Concurrent(1, "1m"))
    with pytest.raises(TypeError):
        limiter.peek(f"{prefix}k", Concurrent(1, "1m"))  # no id
    with pytest.raises(ValueError):
        limiter.hit_all({f"{prefix}{i}": Fixed(1, "1m") for i in range(17)})
    with pytest.raises(ValueError):
        limiter.refund(f"{prefix}k", Fixed(5, "1m"), -1)
    assert counts(registry) == expected([])


def test_two_prometheus_metrics_on_one_registry_share_its_collectors(server: ServerFactory, prefix: str) -> None:
    registry = CollectorRegistry()
    s = server(pick("redis70"), True)
    first = Limiter(s.client(), metrics=PrometheusMetrics(registry))
    second = Limiter(s.client(), metrics=PrometheusMetrics(registry))  # no "Duplicated timeseries"
    for _ in range(2):
        first.hit(f"{prefix}k", Fixed(4, "1m"))
    for _ in range(3):
        second.hit(f"{prefix}k", Fixed(4, "1m"))
    pair = ("fixed-4-1m", "module")
    assert counts(registry) == expected([pair], checks={pair: 5}, refusals={pair: 1}, calls={pair: 5})
    # Another registry has collectors of its own.
    other = CollectorRegistry()
    Limiter(s.client(), metrics=PrometheusMetrics(other)).hit(f"{prefix}k", Fixed(4, "1m"))
    assert counts(other) == expected([pair], checks={pair: 1}, refusals={pair: 1}, calls={pair: 1})
    assert counts(registry)["checks"] == {pair: 5}


def test_the_default_registry_is_prometheus_clients_own() -> None:
    assert PrometheusMetrics().registry is prometheus_client.REGISTRY
    assert PrometheusMetrics().registry is prometheus_client.REGISTRY  # made twice: reused


def test_a_registry_given_as_metrics_is_refused_when_the_limiter_is_made(server: ServerFactory) -> None:
    with pytest.raises(TypeError, match=r"metrics must be a Metrics sink such as PrometheusMetrics\(registry\), not CollectorRegistry"):
        Limiter(server(pick("redis70"), True).client(), metrics=CollectorRegistry())  # type: ignore[arg-type]


class Reports:
    """A sink of the Metrics protocol of its own: every report, in order."""

    def __init__(self) -> None:
        self.seen: List[Tuple[Any, ...]] = []

    def observe_call(self, policy: str, backend: str, seconds: float) -> None:
        assert 0 < seconds < 5
        self.seen.append(("call", policy, backend))

    def count_check(self, policy: str, backend: str, refused: bool) -> None:
        self.seen.append(("check", policy, backend, refused))

    def count_redis_error(self, policy: str, backend: str) -> None:
        self.seen.append(("redis_error", policy, backend))

    def count_fail_open(self, policy: str, backend: str) -> None:
        self.seen.append(("fail_open", policy, backend))


def test_any_sink_of_the_protocol_gets_each_call_timed_then_counted_per_rule(server: ServerFactory, prefix: str) -> None:
    reports = Reports()
    limiter = Limiter(server(pick("redis70"), True).client(), metrics=reports)
    assert limiter.metrics is reports
    limiter.hit_all({f"{{{prefix}}}a": Fixed(1, "1m", name="a"), f"{{{prefix}}}b": Fixed(1, "1m", name="b")})
    limiter.hit_all({f"{{{prefix}}}a": Fixed(1, "1m", name="a"), f"{{{prefix}}}b": Fixed(1, "1m", name="b")})
    limiter.peek(f"{{{prefix}}}a", Fixed(1, "1m", name="a"))
    assert reports.seen == [
        ("call", "a", "module"), ("check", "a", "module", False), ("call", "b", "module"), ("check", "b", "module", False),
        ("call", "a", "module"), ("check", "a", "module", True), ("call", "b", "module"), ("check", "b", "module", False),
        ("call", "a", "module"),
    ]  # fmt: skip


def test_without_metrics_nothing_is_timed_or_recorded(server: ServerFactory, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    s = server(pick("redis70"), True)
    registry = CollectorRegistry()
    with_metrics = Limiter(s.client(), metrics=PrometheusMetrics(registry))
    measured = [with_metrics.hit(f"{prefix}on", Fixed(2, "1m")) for _ in range(3)]

    def no_recorder(*args: object, **kwargs: object) -> None:
        raise AssertionError("a limiter without metrics reached the recorder")

    monkeypatch.setattr(_recording, "perf_counter", no_recorder)
    monkeypatch.setattr(_recording.Recorder, "flow", no_recorder)
    plain = Limiter(s.client())
    assert plain.metrics is None
    unmeasured = [plain.hit(f"{prefix}off", Fixed(2, "1m")) for _ in range(3)]
    unmeasured.append(plain.peek(f"{prefix}off", Fixed(2, "1m")))
    assert [(d.allowed, d.remaining, d.backend) for d in unmeasured] == [(True, 1, "module"), (True, 0, "module"), (False, 0, "module"), (False, 0, "module")]
    assert [(d.allowed, d.remaining) for d in measured] == [(d.allowed, d.remaining) for d in unmeasured[:3]]


def test_the_async_limiter_counts_as_the_blocking_one(path: Tuple[Server, str], prefix: str) -> None:
    s, backend = path
    registry = CollectorRegistry()

    async def traffic() -> None:
        client = redis.asyncio.Redis(port=s.port)
        limiter = AsyncLimiter(client, backend="script" if backend == "script" else None, metrics=PrometheusMetrics(registry))
        try:
            for _ in range(8):
                await limiter.hit(f"{prefix}k", Fixed(5, "1m"))
            await limiter.peek(f"{prefix}k", Fixed(5, "1m"))
            await limiter.hit_all({f"{{{prefix}}}a": Fixed(1, "1m", name="a"), f"{{{prefix}}}b": Fixed(1, "1m", name="b")})
            await limiter.hit_all({f"{{{prefix}}}a": Fixed(1, "1m", name="a"), f"{{{prefix}}}b": Fixed(1, "1m", name="b")})
            s.client().rpush(f"{prefix}list", "x")
            with pytest.raises(RateLimitError):
                await limiter.hit(f"{prefix}list", Fixed(5, "1m"))
        finally:
            await (getattr(client, "aclose", None) or client.close)()

    asyncio.run(traffic())
    f, a, b = ("fixed-5-1m", backend), ("a", backend), ("b", backend)
    assert counts(registry) == expected(
        [f, a, b],
        checks={f: 8, a: 2, b: 2},
        refusals={f: 3, a: 1},
        redis_errors={f: 1},
        calls={f: 10, a: 2, b: 2},
    )


def test_the_async_limiter_counts_a_closed_port_and_a_call_cancelled_by_a_timeout(prefix: str) -> None:
    registry = CollectorRegistry()
    silent = socket.socket()  # accepts connections (the backlog), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)

    async def traffic() -> None:
        refused = AsyncLimiter(redis.asyncio.Redis(port=closed_port(), retry=AsyncRetry(NoBackoff(), 0)), metrics=PrometheusMetrics(registry))
        with pytest.raises(redis.exceptions.ConnectionError):
            await refused.hit(f"{prefix}k", Fixed(5, "1m"))
        slow = AsyncLimiter(redis.asyncio.Redis(port=silent.getsockname()[1]), metrics=PrometheusMetrics(registry))
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(slow.hit(f"{prefix}k", Token(1, 1, "1s")), 0.2)

    try:
        asyncio.run(traffic())
    finally:
        silent.close()
    f, t = ("fixed-5-1m", "unknown"), ("token-1-1-1s", "unknown")
    assert counts(registry) == expected([f, t], redis_errors={f: 1, t: 1}, calls={f: 1, t: 1})
    waited = registry.get_sample_value("ratelimit_call_duration_seconds_sum", {"policy": "token-1-1-1s", "backend": "unknown"})
    assert waited is not None and 0.2 <= waited < 2


def test_an_async_cluster_client_counts_its_slot_map_failure_and_checks_slots_first(prefix: str) -> None:
    registry = CollectorRegistry()

    async def traffic() -> None:
        client = redis.asyncio.RedisCluster(host="127.0.0.1", port=closed_port(), retry=AsyncRetry(NoBackoff(), 0))
        limiter = AsyncLimiter(client, metrics=PrometheusMetrics(registry))
        with pytest.raises(CrossSlotError):  # from the keys alone: nothing sent, nothing counted
            await limiter.hit_all({f"{prefix}a": Fixed(5, "1m"), f"{prefix}b": Fixed(5, "1m")})
        with pytest.raises(redis.exceptions.RedisClusterException, match="cannot be connected"):
            await limiter.hit(f"{prefix}k", Fixed(5, "1m"))

    asyncio.run(traffic())
    pair = ("fixed-5-1m", "unknown")
    assert counts(registry) == expected([pair], redis_errors={pair: 1}, calls={pair: 1})


# The middleware: each adapter in front of an app of two endpoints, with its limiter's metrics.


def asgi_app(port: int, registry: CollectorRegistry, **middleware: Any) -> FastAPI:
    client = redis.asyncio.Redis(port=port, retry=AsyncRetry(NoBackoff(), 0))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await (getattr(client, "aclose", None) or client.close)()

    app = FastAPI(lifespan=lifespan)

    @app.get("/", response_class=PlainTextResponse)
    @app.get("/login", response_class=PlainTextResponse)
    async def home() -> str:
        return "ok"

    app.add_middleware(RateLimitMiddleware, limiter=AsyncLimiter(client, metrics=PrometheusMetrics(registry)), **middleware)
    return app


def flask_app(port: int, registry: CollectorRegistry, **extension: Any) -> Flask:
    app = Flask(__name__)
    client = redis.Redis(port=port, socket_timeout=5, **no_retry())
    RateLimit(app, limiter=Limiter(client, metrics=PrometheusMetrics(registry)), **extension)

    @app.get("/")
    @app.get("/login")
    def home() -> str:
        return "ok"

    return app


SiteOf = Callable[..., Site]


@pytest.fixture(params=["asgi", "flask"])
def site(request: pytest.FixtureRequest) -> Iterator[SiteOf]:
    """``site(port, registry, **options)``: the adapter's app served over HTTP."""
    if request.param == "asgi":
        yield from sites(serve_asgi, asgi_app)
    else:
        yield from sites(serve_wsgi, flask_app)


def test_the_middleware_counts_requests_let_through_by_fail_open_per_rule(site: SiteOf, own_server: Server, prefix: str) -> None:
    registry = CollectorRegistry()
    app = site(own_server.port, registry, **options(prefix, rule=Token(3, 3, "1m"), routes={"/login": Fixed(5, "1m", name="login")}, fail_open=True))
    backend = served_by(own_server)
    assert app.get("/login").status == 200
    own_server.kill()
    assert [(r.status, r.rate_headers()) for r in (app.get("/login"), app.get("/"))] == [(200, {}), (200, {})]
    t, login = ("token-3-3-1m", backend), ("login", backend)
    assert counts(registry) == expected(
        [t, login],
        checks={t: 1, login: 1},
        redis_errors={t: 2, login: 1},
        fail_open={t: 2, login: 1},
        calls={t: 3, login: 2},
    )


@pytest.mark.parametrize("fail_open", [True, False], ids=["fail_open", "fail_closed"])
def test_the_middleware_counts_fail_open_only_when_it_let_the_request_through(site: SiteOf, fail_open: bool, prefix: str) -> None:
    registry = CollectorRegistry()
    app = site(closed_port(), registry, **options(prefix, rule=Token(3, 3, "1m"), fail_open=fail_open))
    assert [app.get().status for _ in range(2)] == [200 if fail_open else 503] * 2
    pair = ("token-3-3-1m", "unknown")  # no path of the node ever answered
    assert counts(registry) == expected([pair], redis_errors={pair: 2}, fail_open={pair: 2 if fail_open else 0}, calls={pair: 2})


def test_the_asgi_timeout_is_a_redis_error_and_a_fail_open(prefix: str) -> None:
    registry = CollectorRegistry()
    silent = socket.socket()  # a "Redis" that accepts and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        app = asgi_app(silent.getsockname()[1], registry, timeout=0.2, **options(prefix, rule=Token(3, 3, "1m"), fail_open=True))
        with serve_asgi(app) as port:
            reply = Site(port).get()
        assert reply.status == 200 and 0.2 <= reply.seconds < 2
    finally:
        silent.close()
    pair = ("token-3-3-1m", "unknown")
    assert counts(registry) == expected([pair], redis_errors={pair: 1}, fail_open={pair: 1}, calls={pair: 1})


# prometheus_client is optional.

WITHOUT_PROMETHEUS = """
import json, sys
sys.modules["prometheus_client"] = None  # import prometheus_client now raises ImportError
import redis, redis_ratelimit, redis_ratelimit.metrics, redis_ratelimit.asgi, redis_ratelimit.flask
limiter = redis_ratelimit.Limiter(redis.Redis(port=int(sys.argv[1])))
decision = limiter.hit(sys.argv[2], redis_ratelimit.Fixed(5, "1m"))
try:
    redis_ratelimit.metrics.PrometheusMetrics()
    error = None
except ImportError as e:
    error = str(e)
print(json.dumps({"remaining": decision.remaining, "error": error}))
"""


def test_the_package_works_without_prometheus_client_until_prometheus_metrics_is_made(server: ServerFactory, prefix: str) -> None:
    s = server(pick("redis70"), True)
    out = subprocess.run([sys.executable, "-c", WITHOUT_PROMETHEUS, str(s.port), f"{prefix}k"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "remaining": 4,
        "error": "PrometheusMetrics needs prometheus_client: pip install 'redis-ratelimit[prometheus]'",
    }


def test_importing_the_package_does_not_import_prometheus_client() -> None:
    code = "import sys, redis_ratelimit, redis_ratelimit.metrics; print('prometheus_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout.strip()) == (0, "False"), out.stderr
