"""The metrics end to end, with the real components on loopback ports: redis-server with the
module, Debian's prometheus-redis-exporter running contrib/prometheus/ratelimit.lua, a Flask app
limited by the Python package with its metrics on, and Debian's Prometheus scraping both every
second with contrib/prometheus/rules.yml loaded.

Traffic with known numbers goes through them (the middleware charges a request in one RL.ALL); then every recording rule (as Prometheus itself
reports it at /api/v1/rules) and every query of every panel of dashboard.json is asked of that
Prometheus and must give the numbers the traffic implies.

Why the numbers can be exact: `rate(x[5m])` is (last - first) / 300 s, times an extrapolation
factor that is exactly 1 when the first sample in the window is 0 (extrapolation stops at the
counter's zero) and the query is evaluated at the time of the last sample (nothing to
extrapolate at the end). So every series starts at 0 before the traffic (the module's counters
on a fresh server, the package's label sets created at 0 by a first peek), and each job's
queries are evaluated at the timestamp of its last scrape. Latencies are measured, so they are
checked against what bounds them (the histogram's own buckets), not against a number.

    RL_MODULE=target/release/libredis_ratelimit.so pytest contrib/prometheus/tests
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
import redis

from redis_ratelimit import Fixed, Leaky, Limiter

HERE = Path(__file__).resolve().parent
CONTRIB = HERE.parent
WINDOW = "5m"  # what the test puts for Grafana's $__rate_interval: the rules' window
SECONDS = 300.0

TENANTS = [f"tenant-{i}" for i in range(1, 6)]
REQUESTS_PER_TENANT = 30  # the policy admits 20 an hour
ADMITTED, REFUSED = 20 * len(TENANTS), 10 * len(TENANTS)
BAD_CALLS = 2  # argument errors sent straight to the server
LEAKY_CALLS = 4  # RL.LEAKY, 1 per 5 s: waits of 0, ~5 s, ~10 s, ~15 s
FAILED_OPEN = 3  # requests after Redis is gone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(what: str, done: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = done()
        except (OSError, redis.RedisError) as error:
            last = error
        else:
            if last:
                return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return bytes(response.read())


class Prometheus:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def api(self, path: str, **params: str) -> Any:
        body = json.loads(get(f"{self.base}/api/v1/{path}?{urllib.parse.urlencode(params)}"))
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str, at: Optional[str] = None) -> List[Dict[str, Any]]:
        params = {"query": expr} if at is None else {"query": expr, "time": at}
        data = self.api("query", **params)
        assert data["resultType"] == "vector", (expr, data)
        return list(data["result"])

    def values(self, expr: str, at: Optional[str] = None, by: Tuple[str, ...] = ()) -> Dict[Tuple[str, ...], float]:
        """The instant vector of ``expr`` as {label values of ``by``: value}."""
        out = {}
        for sample in self.query(expr, at):
            labels = tuple(sample["metric"].get(name, "") for name in by)
            assert labels not in out, (expr, labels)
            out[labels] = float(sample["value"][1])
        return out

    def last_scrape(self, job: str) -> str:
        """The timestamp of ``job``'s latest sample, as Prometheus prints it (ms precision)."""
        [sample] = self.query(f'timestamp(up{{job="{job}"}})')
        return str(sample["value"][1])


def start(argv: List[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT, env={**os.environ, **env}, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Stack:
    """What the traffic left, read at the right moments for the assertions."""

    prometheus: Prometheus
    redis_at: str  # the exporter's last scrape with Redis up, after the traffic
    app_at: str  # the app's last scrape, after the failed-open requests
    used_memory: float
    wait_sum_ms: int
    top: List[List[Any]]
    alerts_before_stop: List[Dict[str, Any]]
    alerts_after: List[Dict[str, Any]]
    scrape: str  # the exporter's ratelimit lines at redis_at


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    module = os.environ["RL_MODULE"]
    tools = {name: shutil.which(name) for name in ("redis-server", "prometheus-redis-exporter", "prometheus", "promtool")}
    missing = [name for name, path in tools.items() if path is None]
    assert not missing, f"not installed: {missing} (make prometheus installs the Debian packages)"
    work = Path(tempfile.mkdtemp(prefix="rl-prometheus-"))
    ports = {name: free_port() for name in ("redis", "exporter", "app", "prometheus")}
    processes: List[subprocess.Popen[bytes]] = []
    result = Stack()
    try:
        processes.append(start([os.environ.get("RL_REDIS", "redis-server"), "--port", str(ports["redis"]), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(work), "--loadmodule", module,
                                # p95 beside Redis's default p50/p99/p99.9 (what operations.md tells operators to set)
                                "--latency-tracking-info-percentiles", "50 95 99"], work / "redis.log"))
        client = redis.Redis(port=ports["redis"], socket_timeout=5)
        wait_until("redis", client.ping)
        processes.append(start(["prometheus-redis-exporter", "-redis.addr", f"redis://127.0.0.1:{ports['redis']}",
                                "-web.listen-address", f"127.0.0.1:{ports['exporter']}", "-script", str(CONTRIB / "ratelimit.lua")],
                               work / "exporter.log"))
        processes.append(start([sys.executable, str(HERE / "app.py"), str(ports["redis"]), str(ports["app"])], work / "app.log"))
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(CONTRIB / "rules.yml")],
            "scrape_configs": [
                {"job_name": "redis", "static_configs": [{"targets": [f"127.0.0.1:{ports['exporter']}"]}]},
                {"job_name": "app", "static_configs": [{"targets": [f"127.0.0.1:{ports['app']}"]}]},
            ],
        }
        (work / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        processes.append(start(["prometheus", f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
                                f"--web.listen-address=127.0.0.1:{ports['prometheus']}"], work / "prometheus.log"))
        prom = result.prometheus = Prometheus(ports["prometheus"])
        wait_until("prometheus", lambda: get(f"{prom.base}/-/ready"), timeout=60)

        # Redis lists a command in INFO commandstats from its first call: a peek of RL.LEAKY and
        # of RL.ALL (neither a decision nor a wait) so that the time-per-call series start
        # before the traffic, as the app's warm-up peek does for RL.FIXED.
        queue = Leaky(10, 1, "5s", name="queue")
        Limiter(client).peek("queue", queue)
        Limiter(client).hit_all({"rl:{warm-up}:api": Fixed(20, "1h", name="api")}, peek=True)
        # Every series at 0 in Prometheus before any traffic.
        wait_until("zeros scraped", lambda: prom.values('redis_commands_total{cmd=~"rl.all|rl.leaky"}', by=("cmd",)) == {("rl.all",): 1, ("rl.leaky",): 1}
                   and prom.values('redis_script_values{key="ratelimit_fixed_denied"}') == {(): 0.0}
                   and prom.values('ratelimit_refusals_total{policy="api", backend="module"}') == {(): 0.0}
                   and prom.values('ratelimit_checks_total{policy="api", backend="module"}') == {(): 0.0}, timeout=60)

        # The traffic: through the app, straight to the server, through the package's Limiter.
        app = f"http://127.0.0.1:{ports['app']}/work"
        statuses: Dict[int, int] = {}
        for _ in range(REQUESTS_PER_TENANT):
            for tenant in TENANTS:
                request = urllib.request.Request(app, headers={"X-Tenant": tenant})
                try:
                    status = urllib.request.urlopen(request, timeout=5).status
                except urllib.error.HTTPError as error:
                    status = error.code
                statuses[status] = statuses.get(status, 0) + 1
        assert statuses == {200: ADMITTED, 429: REFUSED}
        for _ in range(BAD_CALLS):
            with pytest.raises(redis.ResponseError):
                client.execute_command("RL.FIXED", "bad", "0", "1m")
        waits = [Limiter(client).hit("queue", queue).delay_ms for _ in range(LEAKY_CALLS)]
        assert waits[0] == 0 and all(4_000 < b - a <= 5_000 for a, b in zip(waits, waits[1:])), waits

        info = client.info("ratelimit")
        # The middleware charges a request's rules in one RL.ALL.
        assert (info["ratelimit_all_allowed"], info["ratelimit_all_denied"]) == (ADMITTED, REFUSED)
        # RL.FIXED: the app's warm-up peek and the bad calls.
        assert (info["ratelimit_fixed_calls"], info["ratelimit_fixed_peeks"], info["ratelimit_fixed_errors"]) == (1 + BAD_CALLS, 1, BAD_CALLS)
        result.wait_sum_ms = int(info["ratelimit_leaky_wait_ms_sum"])
        assert result.wait_sum_ms == sum(waits)

        def scraped_all() -> bool:
            server = prom.values('redis_script_values{key=~"ratelimit_(all_allowed|all_denied|fixed_errors|leaky_wait_ms_count)"}', by=("key",))
            return server == {("ratelimit_all_allowed",): ADMITTED, ("ratelimit_all_denied",): REFUSED,
                              ("ratelimit_fixed_errors",): BAD_CALLS, ("ratelimit_leaky_wait_ms_count",): LEAKY_CALLS}

        wait_until("the traffic scraped", scraped_all)
        result.redis_at = prom.last_scrape("redis")
        result.used_memory = prom.values("redis_memory_used_bytes", result.redis_at)[()]
        result.scrape = "\n".join(line for line in get(f"http://127.0.0.1:{ports['exporter']}/metrics").decode().splitlines()
                                  if "ratelimit_" in line)
        result.top = client.execute_command("RL.TOP", "10")
        # The block-rate alerts see a third refused: pending (they wait 5 minutes to fire).
        result.alerts_before_stop = wait_until("block-rate alerts pending", lambda: pending(prom, {"RateLimitBlockRateHigh", "RateLimitServerBlockRateHigh"}))

        # Redis goes away: the app lets requests through (fail-open) and counts the errors.
        client.shutdown(nosave=True)
        for tenant in TENANTS[:FAILED_OPEN]:
            assert urllib.request.urlopen(urllib.request.Request(app, headers={"X-Tenant": tenant}), timeout=5).status == 200
        wait_until("the errors scraped", lambda: prom.values('ratelimit_fail_open_total{policy="api"}') == {(): FAILED_OPEN}
                   and prom.values('ratelimit_redis_errors_total{policy="api"}') == {(): FAILED_OPEN})
        result.app_at = prom.last_scrape("app")
        result.alerts_after = wait_until("the error alert pending", lambda: pending(prom, {"RateLimitRedisErrors"}))
        yield result
    finally:
        for process in reversed(processes):
            stop(process)
        if os.environ.get("RL_KEEP") is None:
            shutil.rmtree(work, ignore_errors=True)


def pending(prom: Prometheus, names: set) -> List[Dict[str, Any]]:
    alerts = [a for a in prom.api("alerts")["alerts"] if a["labels"]["alertname"] in names]
    return alerts if {a["labels"]["alertname"] for a in alerts} == names else []


def report(text: str) -> None:
    """What the closing note quotes: the scrape's lines and every query's result (RL_REPORT)."""
    path = os.environ.get("RL_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(text.rstrip("\n") + "\n")


def close(got: float, want: float) -> bool:
    return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15)


def assert_values(got: Dict[Tuple[str, ...], float], want: Dict[Tuple[str, ...], float], what: str) -> None:
    assert got.keys() == want.keys(), f"{what}: series {sorted(got)} != {sorted(want)}"
    for labels, value in want.items():
        assert close(got[labels], value), f"{what}{labels}: {got[labels]!r} != {value!r}"


COMMANDS = ["fixed", "sliding", "log", "token", "leaky", "concurrent", "all", "throttle"]


def decisions() -> Dict[Tuple[str, ...], float]:
    """Decisions per second by (command, outcome) over the window, from the traffic."""
    counts = {(c, o): 0 for c in COMMANDS for o in ("allowed", "denied")}
    counts[("all", "allowed")] = ADMITTED
    counts[("all", "denied")] = REFUSED
    counts[("leaky", "allowed")] = LEAKY_CALLS
    return {k: v / SECONDS for k, v in counts.items()}


# The waits' buckets: 0 in le_10 (and every bucket above), ~5 s, ~10 s in le_10000, ~15 s only
# in +Inf: cumulative counts 1, 1, 1, 3, 4.
WAIT_BUCKETS = [(10.0, 1), (100.0, 1), (1_000.0, 1), (10_000.0, 3), (math.inf, 4)]


def quantile_ms(q: float) -> float:
    """histogram_quantile over WAIT_BUCKETS, as Prometheus interpolates it (in ms)."""
    rank = q * WAIT_BUCKETS[-1][1]
    lower, below = 0.0, 0
    for le, count in WAIT_BUCKETS:
        if count >= rank:
            return lower if math.isinf(le) else lower + (le - lower) * (rank - below) / (count - below)
        lower, below = le, count
    raise AssertionError("rank past the last bucket")


def latency_bounds(prom: Prometheus, at: str) -> Tuple[float, float]:
    """The p95 of the app's call durations lies in the bucket holding the 95th percentile of its
    observations (widened to the buckets of the 90th and 99th: rate()'s extrapolation may move
    each bucket's rate by the share of the warm-up peek)."""
    buckets = sorted((float(le), count) for (le,), count in
                     prom.values('ratelimit_call_duration_seconds_bucket{policy="api"}', at, by=("le",)).items())
    total = buckets[-1][1]

    def bucket_of(q: float) -> Tuple[float, float]:
        lower = 0.0
        for le, count in buckets:
            if count >= q * total:
                return lower, le
            lower = le
        raise AssertionError(buckets)

    return bucket_of(0.90)[0], bucket_of(0.99)[1]


# ---- the recording rules --------------------------------------------------------------------

def check_rule(name: str, got: Dict[Tuple[str, ...], float], stack: Stack) -> None:
    prom = stack.prometheus
    if name == "instance_command_outcome:ratelimit_decisions:rate5m":
        assert_values(got, decisions(), name)
    elif name == "instance:ratelimit_refusals:ratio_rate5m":
        assert_values(got, {(): REFUSED / (ADMITTED + REFUSED + LEAKY_CALLS)}, name)
    elif name == "instance:ratelimit_command_duration_seconds:mean5m":
        [mean] = got.values()
        assert 0 < mean < 0.001, (name, mean)
    elif name == "instance:ratelimit_leaky_wait_seconds:p95_5m":
        assert_values(got, {(): quantile_ms(0.95) / 1000}, name)
    elif name == "instance:ratelimit_leaky_wait_seconds:mean5m":
        assert_values(got, {(): stack.wait_sum_ms / LEAKY_CALLS / 1000}, name)
    elif name == "policy:ratelimit_checks:rate5m":
        assert_values(got, {(): (ADMITTED + REFUSED) / SECONDS}, name)
    elif name == "policy:ratelimit_refusals:ratio_rate5m":
        assert_values(got, {(): REFUSED / (ADMITTED + REFUSED)}, name)
    elif name == "policy:ratelimit_call_duration_seconds:p95_5m":
        [p95] = got.values()
        low, high = latency_bounds(prom, stack.app_at)
        assert low <= p95 <= high, (name, p95, low, high)
    elif name in ("policy:ratelimit_redis_errors:rate5m", "policy:ratelimit_fail_open:rate5m"):
        assert_values(got, {(): FAILED_OPEN / SECONDS}, name)
    else:
        raise AssertionError(f"no expectation for the recording rule {name}")


def recording_rules(prom: Prometheus) -> List[Tuple[str, Dict[str, Any]]]:
    rules = []
    for group in prom.api("rules")["groups"]:
        for rule in group["rules"]:
            assert rule["health"] == "ok", rule
            if rule["type"] == "recording":
                rules.append((group["name"], rule))
    return rules


def test_every_recording_rule_gives_the_traffics_numbers(stack: Stack) -> None:
    rules = recording_rules(stack.prometheus)
    assert len(rules) == 10
    for group, rule in rules:
        at = stack.redis_at if group == "ratelimit-server" else stack.app_at
        by = ("command", "outcome") if rule["name"].startswith("instance_command_outcome:") else ()
        got = stack.prometheus.values(rule["query"], at, by=by)
        report(f"rule {rule['name']} = {got}")
        check_rule(rule["name"], got, stack)


def test_the_alerts_are_loaded_and_pending_on_the_traffic(stack: Stack) -> None:
    alerts = [rule for group in stack.prometheus.api("rules")["groups"] for rule in group["rules"] if rule["type"] == "alerting"]
    assert sorted(a["name"] for a in alerts) == sorted([
        "RateLimitDecisionLatencyHigh", "RateLimitDecisionLatencyCritical", "RateLimitServerLatencyHigh",
        "RateLimitBlockRateHigh", "RateLimitServerBlockRateHigh", "RateLimitRedisErrors"])
    by_name = {a["labels"]["alertname"]: a for a in stack.alerts_before_stop + stack.alerts_after}
    assert by_name["RateLimitBlockRateHigh"]["labels"]["policy"] == "api"
    assert by_name["RateLimitBlockRateHigh"]["state"] == "pending"
    assert by_name["RateLimitServerBlockRateHigh"]["state"] == "pending"
    assert by_name["RateLimitRedisErrors"]["labels"]["policy"] == "api"
    assert by_name["RateLimitRedisErrors"]["state"] == "pending"
    assert close(float(by_name["RateLimitBlockRateHigh"]["value"]), REFUSED / (ADMITTED + REFUSED))


def test_promtool_unit_tests_pass() -> None:
    run = subprocess.run(["promtool", "test", "rules", str(HERE / "rules_test.yml")], capture_output=True, text=True)
    assert run.returncode == 0 and "SUCCESS" in run.stdout, run.stdout + run.stderr


# ---- the dashboard ---------------------------------------------------------------------------

def panel_checks(stack: Stack) -> Dict[Tuple[str, str], Tuple[str, Tuple[str, ...], Callable[[Dict[Tuple[str, ...], float]], None]]]:
    """(panel title, target refId) -> (which scrape to read it at, labels, the check)."""
    redis_at, app_at = stack.redis_at, stack.app_at

    def exact(want: Dict[Tuple[str, ...], float]) -> Callable[[Dict[Tuple[str, ...], float]], None]:
        return lambda got: assert_values(got, want, "panel")

    def server_latency(got: Dict[Tuple[str, ...], float]) -> None:
        assert got.keys() == {("rl.all",), ("rl.fixed",), ("rl.leaky",)}, got
        assert all(0 < v < 0.01 for v in got.values()), got

    def client_p95(got: Dict[Tuple[str, ...], float]) -> None:
        low, high = latency_bounds(stack.prometheus, app_at)
        assert got.keys() == {("api",)} and low <= got[("api",)] <= high, (got, low, high)

    errors = {(c,): 0.0 for c in COMMANDS + ["top"]}
    errors[("fixed",)] = BAD_CALLS / SECONDS
    keys = len(TENANTS) + 1  # a Fixed key per tenant and the Leaky queue
    return {
        ("Decisions per second by command (server)", "A"): (redis_at, ("command", "outcome"), exact(decisions())),
        ("Block rate (server)", "A"): (redis_at, (), exact({(): REFUSED / (ADMITTED + REFUSED + LEAKY_CALLS)})),
        ("Checks per second by policy (clients)", "A"): (app_at, ("policy",), exact({("api",): (ADMITTED + REFUSED) / SECONDS})),
        ("Checks per second by policy (clients)", "B"): (app_at, ("policy",), exact({("api",): REFUSED / SECONDS})),
        ("Block rate by policy (clients)", "A"): (app_at, ("policy",), exact({("api",): REFUSED / (ADMITTED + REFUSED)})),
        ("p95 decision latency (clients)", "A"): (app_at, ("policy",), client_p95),
        ("Decision latency inside Redis (server)", "A"): (redis_at, ("cmd",), server_latency),
        ("Decision latency inside Redis (server)", "B"): (redis_at, ("cmd",), server_latency),
        ("Redis errors and fail-open passes (clients)", "A"): (app_at, ("policy",), exact({("api",): FAILED_OPEN / SECONDS})),
        ("Redis errors and fail-open passes (clients)", "B"): (app_at, ("policy",), exact({("api",): FAILED_OPEN / SECONDS})),
        ("Error replies per command (server)", "A"): (redis_at, ("command",), exact(errors)),
        ("RL.LEAKY waits handed out (server)", "A"): (redis_at, (), exact({(): quantile_ms(0.5) / 1000})),
        ("RL.LEAKY waits handed out (server)", "B"): (redis_at, (), exact({(): quantile_ms(0.95) / 1000})),
        ("RL.LEAKY waits handed out (server)", "C"): (redis_at, (), exact({(): stack.wait_sum_ms / LEAKY_CALLS / 1000})),
        ("RL.LEAKY calls made to wait (server)", "A"): (redis_at, (), exact({(): (LEAKY_CALLS - 1) / SECONDS})),
        ("RL.LEAKY calls made to wait (server)", "B"): (redis_at, (), exact({(): LEAKY_CALLS / SECONDS})),
        ("Keys (server)", "A"): (redis_at, (), lambda got: assert_values({(): v for v in got.values()}, {(): keys}, "keys")),
        ("Memory per key (server)", "A"): (redis_at, (), lambda got: assert_values({(): v for v in got.values()}, {(): stack.used_memory / keys}, "memory per key")),
    }


def grafana(expr: str) -> str:
    """The query as Grafana sends it with every variable on All and the test's rate window."""
    return expr.replace("$__rate_interval", WINDOW).replace('"$instance"', '".+"').replace('"$policy"', '".+"')


def test_every_dashboard_panel_gives_the_traffics_numbers(stack: Stack) -> None:
    dashboard = json.loads((CONTRIB / "dashboard.json").read_text())
    checks = panel_checks(stack)
    targets = {(panel["title"], target["refId"]): target["expr"] for panel in dashboard["panels"] for target in panel["targets"]}
    assert targets.keys() == checks.keys(), "every panel's every query has its expectation"
    for (title, ref), expr in targets.items():
        at, by, check = checks[(title, ref)]
        assert "$" not in grafana(expr).replace('"$1"', "").replace('"$2"', ""), expr
        got = stack.prometheus.values(grafana(expr), at, by=by)
        report(f"panel {title!r} {ref} = {got}")
        try:
            check(got)
        except AssertionError as error:
            raise AssertionError(f"panel {title!r} query {ref}: {error}") from None


def test_the_exporter_exports_every_info_field_of_the_module(stack: Stack) -> None:
    lines = [line for line in stack.scrape.splitlines() if line.startswith("redis_script_values{")]
    exported = {line.split('"')[1]: float(line.rsplit(" ", 1)[1]) for line in lines}
    assert exported["ratelimit_all_allowed"] == ADMITTED
    assert exported["ratelimit_all_denied"] == REFUSED
    assert exported["ratelimit_all_calls"] == ADMITTED + REFUSED + 1  # and the warm-up peek
    assert (exported["ratelimit_fixed_calls"], exported["ratelimit_fixed_peeks"], exported["ratelimit_fixed_errors"]) == (1 + BAD_CALLS, 1, BAD_CALLS)
    assert exported["ratelimit_leaky_wait_ms_sum"] == stack.wait_sum_ms
    assert [exported[f"ratelimit_leaky_wait_ms_bucket_le_{le}"] for le in ("10", "100", "1000", "10000", "inf")] == [c for _, c in WAIT_BUCKETS]
    # Every counter of every command, and nothing else.
    assert all(name.startswith("ratelimit_") for name in exported)
    assert len(exported) == 8 * 5 + 1 + 8 + 2, sorted(exported)  # 8 commands x 5, releases, 8 wait fields, RL.TOP's 2
    report("exporter scrape:\n" + stack.scrape)


def test_rl_top_names_the_refused_tenants_exactly(stack: Stack) -> None:
    entries = [(key.decode(), refusals, overcount) for key, refusals, overcount in stack.top]
    report(f"RL.TOP 10 = {entries}")
    assert sorted(entries) == sorted((f"rl:{{{tenant}}}:api", 10, 0) for tenant in TENANTS)
