"""The framework-free part of the middleware (redis_ratelimit._http): route patterns, Redis
keys, which errors fail_open forgives, and the options checked when the middleware is made."""

from __future__ import annotations

import asyncio
import builtins
from typing import Any, Dict, Optional

import pytest
import redis

from redis_ratelimit import Concurrent, Fixed, RateLimitError, Sliding
from redis_ratelimit._http import Options, Route, unreachable


def make(**given: Any) -> Options[Dict[str, str]]:
    def key(request: Dict[str, str]) -> Optional[str]:
        return request.get("key")

    settings: Dict[str, Any] = {"key": key, "rule": None, "routes": None, "cost": None, "fail_open": False,
                                "max_delay": None, "legacy_headers": False, "prefix": "rl:"}
    return Options(**{**settings, **given})


@pytest.mark.parametrize("pattern, path, matched", [
    ("/login", "/login", True),
    ("/login", "/login/", False),
    ("/login", "/log", False),
    ("/users/{id}", "/users/42", True),
    ("/users/{id}", "/users/", False),
    ("/users/{id}", "/users/42/posts", False),
    ("/users/{id}/posts", "/users/42/posts", True),
    ("/api/*", "/api/", True),
    ("/api/*", "/api/v1/x", True),
    ("/api/*", "/api", False),
    ("/*", "/", True),
    ("/a.b", "/axb", False),  # literal text is literal
])
def test_route_patterns_match_the_whole_path(pattern: str, path: str, matched: bool) -> None:
    assert Route(pattern).matches(path) is matched


@pytest.mark.parametrize("pattern", ["login", "/a/*/b", "/a/{", "/a/{}", ""])
def test_a_malformed_route_pattern_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        Route(pattern)


def test_every_key_of_a_request_shares_its_hash_tag() -> None:
    options = make(rule=Sliding(10, "1m"), routes={"/login": [Fixed(5, "1m"), Concurrent(2, "30s")], "/*": Fixed(100, "1h")})
    plan = options.plan({"key": "1.2.3.4"}, "/login")
    assert plan is not None and plan.id is not None and plan.cost == 1
    assert list(plan.rules) == [
        "rl:{1.2.3.4}:sliding-10-1m",
        "rl:{1.2.3.4}:/login:fixed-5-1m",
        "rl:{1.2.3.4}:/login:concurrent-2-30s",
        "rl:{1.2.3.4}:/*:fixed-100-1h",
    ]
    assert [list(p.rules)[0] for p in (options.plan({"key": k}, "/") for k in ("", "a}b", "%7D")) if p] == [
        "rl:{%}:sliding-10-1m", "rl:{a%7Db}:sliding-10-1m", "rl:{%257D}:sliding-10-1m"]


def test_no_plan_without_a_rule_or_a_key() -> None:
    called = []
    options = make(routes={"/login": Fixed(5, "1m")}, key=lambda request: called.append(request))
    assert options.plan({}, "/") is None and called == []  # no rule: the key is not asked
    assert options.plan({}, "/login") is None and called == [{}]  # None: exempt


def test_unreachable_is_a_connection_failure_or_a_timeout() -> None:
    for error in (redis.ConnectionError("refused"), redis.TimeoutError("slow"), ConnectionRefusedError(),
                  OSError("unreachable"), asyncio.TimeoutError(), builtins.TimeoutError(), redis.exceptions.BusyLoadingError()):
        assert unreachable(error), error
    for other in (RateLimitError("ERR bad"), redis.ResponseError("WRONGTYPE"), ValueError("cost"), TypeError("key")):
        assert not unreachable(other), other


@pytest.mark.parametrize("given, message", [
    ({"key": "ip"}, "key must be a function"),
    ({"cost": 3}, "cost must be a function"),
    ({"routes": [("/a", Fixed(1, "1s"))]}, "routes must map"),
    ({"rule": "100/m"}, "rule must be a Rule"),
    ({"rule": [Fixed(1, "1s"), Fixed(1, "1s")]}, "two rules have the policy name 'fixed-1-1s'"),
    ({"max_delay": -1}, "max_delay must be seconds"),
    ({"prefix": "rl:{x}:"}, "prefix must be a str without braces"),
])
def test_options_are_checked_when_made(given: Dict[str, Any], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        make(**given)


def test_a_key_function_returning_a_non_string_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="must return a str or None, not int"):
        make(rule=Fixed(1, "1s"), key=lambda request: 42).plan({}, "/")
