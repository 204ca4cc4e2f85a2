"""Rules, Decisions and headers: no server needed."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

import redis_ratelimit

from redis_ratelimit import QUOTA_EXCEEDED, Concurrent, Decision, Fixed, Leaky, Log, Sliding, Token
from redis_ratelimit import _library

REPO = Path(__file__).resolve().parents[3]


def test_durations_take_ms_the_commands_strings_and_timedelta() -> None:
    assert Sliding(100, 60_000) == Sliding(100, "1m") == Sliding(100, "60S") == Sliding(100, timedelta(minutes=1))
    assert Fixed(1, "1500ms").window_ms == 1500 and Fixed(1, "1500").window_ms == 1500
    assert Token(10, 2, "1d").period_ms == 86_400_000 and Concurrent(4, "30s").lease_ms == 30_000


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: Fixed(0, "1m"), ValueError),
        (lambda: Fixed(2**63, "1m"), ValueError),
        (lambda: Fixed(True, "1m"), TypeError),
        (lambda: Fixed(1.5, "1m"), TypeError),
        (lambda: Fixed(1, "1x"), ValueError),
        (lambda: Fixed(1, "-1s"), ValueError),
        (lambda: Fixed(1, 0), ValueError),
        (lambda: Fixed(1, timedelta(microseconds=1500)), ValueError),
        (lambda: Token(10, 0, "1s"), ValueError),
        (lambda: Leaky(10, 1, "0ms"), ValueError),
        (lambda: Concurrent(4, "30s", name=3), TypeError),
    ],
)
def test_bad_numbers_are_refused_when_the_rule_is_made(make: object, error: type) -> None:
    with pytest.raises(error):
        make()  # type: ignore[operator]


def test_policy_names_derive_from_the_rule_unless_given() -> None:
    assert Sliding(100, "1m").policy == "sliding-100-1m"
    assert Log(5, 1500).policy == "log-5-1500ms"
    assert Token(1000, 10, "1s").policy == "token-1000-10-1s"
    assert Concurrent(4, "30s", name="jobs").policy == "jobs"


def decision(rule: object, allowed: bool, remaining: int, retry: int, reset: int) -> Decision:
    return Decision.from_reply([int(allowed), rule.limit, remaining, retry, reset], ["k"], [rule], "module")  # type: ignore[attr-defined]


def test_headers_follow_the_draft() -> None:
    ok = decision(Sliding(100, "1m"), True, 99, 0, 600)
    assert ok.headers() == {"RateLimit-Policy": '"sliding-100-1m";q=100;w=60', "RateLimit": '"sliding-100-1m";r=99;t=1'}
    denied = decision(Fixed(3, "10s", name='a "b"'), False, 0, 1001, 4000)
    assert denied.headers() == {
        "RateLimit-Policy": '"a \\"b\\"";q=3;w=10',
        "RateLimit": '"a \\"b\\"";r=0;t=4',
        "Retry-After": "2",
    }
    # Windows of buckets: the time to refill the capacity; leases: their length.
    assert decision(Token(100, 10, "1s"), True, 5, 0, 0).headers()["RateLimit-Policy"] == '"token-100-10-1s";q=100;w=10'
    jobs = decision(Concurrent(4, "30s"), True, 3, 0, 30_000).headers()
    assert jobs["RateLimit-Policy"] == '"concurrent-4-30s";q=4;qu="concurrent-requests";w=30'


def test_a_request_that_never_fits_has_no_retry_after_and_is_a_413_problem() -> None:
    never = decision(Fixed(3, "1m"), False, 3, -1, 0)
    assert never.never and "Retry-After" not in never.headers()
    problem = never.problem()
    assert problem["type"] == QUOTA_EXCEEDED and problem["status"] == 413 and problem["violated-policies"] == ["fixed-3-1m"]
    assert decision(Fixed(3, "1m"), False, 0, 5, 5).problem()["status"] == 429


def test_legacy_headers_on_request() -> None:
    before = time.time()
    h = decision(Fixed(3, "1m"), True, 2, 0, 30_000).headers(legacy=True)
    assert (h["X-RateLimit-Limit"], h["X-RateLimit-Remaining"]) == ("3", "2")
    assert int(before) + 30 <= int(h["X-RateLimit-Reset"]) <= int(time.time()) + 31


def test_field_four_is_the_delay_when_admitted_and_the_retry_when_denied() -> None:
    queued = decision(Leaky(10, 1, "1s"), True, 7, 2000, 3000)
    assert (queued.delay_ms, queued.retry_after_ms) == (2000, 0)
    refused = decision(Leaky(10, 1, "1s"), False, 0, 1000, 10_000)
    assert (refused.delay_ms, refused.retry_after_ms) == (0, 1000)


def test_hit_all_names_the_decisive_limiter() -> None:
    rules = [Sliding(10, "1m"), Fixed(2, "1s")]
    d = Decision.from_reply([0, 2, 0, 300, 300, 2], ["{a}:user", "{a}:ip"], rules, "function")
    assert (d.key, d.rule, d.backend) == ("{a}:ip", rules[1], "function")
    assert d.headers()["RateLimit-Policy"] == '"sliding-10-1m";q=10;w=60, "fixed-2-1s";q=2;w=1'
    with pytest.raises(ValueError):
        Decision.from_reply([1, 2, 3], ["k"], rules[:1], "module")


def test_the_shipped_library_is_the_repository_s() -> None:
    assert _library.LIBRARY == (REPO / "functions" / "ratelimit.lua").read_text()
    assert _library.SCRIPT == (REPO / "functions" / "ratelimit-script.lua").read_text()
    # The package, its library and the crate carry one version.
    cargo = next(line for line in (REPO / "Cargo.toml").read_text().splitlines() if line.startswith("version"))
    assert ".".join(map(str, _library.VERSION)) == redis_ratelimit.__version__ == cargo.split('"')[1]


def test_the_shared_header_cases() -> None:
    """clients/shared/headers.json: the cases both packages' tests check."""
    import json

    kinds = {"fixed": Fixed, "sliding": Sliding, "log": Log, "token": Token, "leaky": Leaky, "concurrent": Concurrent}
    cases = json.loads((REPO / "clients" / "shared" / "headers.json").read_text())["cases"]
    assert len(cases) >= 10
    for case in cases:
        rules = [kinds[r["kind"]](*r["args"], name=r["name"]) for r in case["rules"]]
        d = Decision.from_reply([int(v) for v in case["reply"]], case["keys"], rules, "module")
        got = {"allowed": d.allowed, "limit": str(d.limit), "remaining": str(d.remaining), "retry_after_ms": str(d.retry_after_ms),
               "reset_after_ms": str(d.reset_after_ms), "delay_ms": str(d.delay_ms), "key": d.key, "policy": d.rule.policy}
        assert got == case["decision"], case
        assert d.headers() == case["headers"], case
        assert (None if d.allowed else d.problem()) == case["problem"], case
