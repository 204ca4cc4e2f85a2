"""What the ASGI middleware and the Flask extension share, with no framework in it.

Which rules apply to a request and under which Redis keys (:class:`Options`); the admission of
a request as a generator of limiter calls (:func:`admit`: one ``hit_all``, then the Leaky wait,
or the refusal past ``max_delay`` with its refunds), which each adapter drives with its own
limiter (:func:`run` for the blocking one, :mod:`.asgi` for the asyncio one); the answer to a
refusal (429, 413 or 503 and its problem details); and which exceptions mean "Redis could not
be reached" (:func:`unreachable`), the only ones ``fail_open`` forgives.

Redis keys: ``<prefix>{<key>}:<policy>`` for the global rules, ``<prefix>{<key>}:<pattern>:<policy>``
for a route's, ``<prefix>{<key>}:@<endpoint>:<policy>`` for a Flask view's. The request's key is
the hash tag, so every key of one request is in one cluster slot and one ``hit_all`` charges
them all; braces and ``%`` in it are percent-encoded, so that no key can end the tag early.
The policy is the rule's :attr:`~redis_ratelimit.Rule.policy`: a rule given a ``name`` keeps its
counters when its numbers change, an unnamed one starts new ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Generator, Generic, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from ._calls import new_id
from ._recording import Recorder
from .decision import Decision
from .rules import Concurrent, Leaky, Rule

#: The framework's request type.
R = TypeVar("R")
T = TypeVar("T")

#: One rule, or several that all apply.
Rules = Union[Rule, Sequence[Rule]]
#: A rule with the suffix of its Redis key (after ``<prefix>{<key>}:``).
Scoped = Tuple[str, Rule]

PROBLEM = "application/problem+json"
log = logging.getLogger("redis_ratelimit")

# Class names, not classes: redis-py and valkey-py each have their own (neither subclasses
# the builtin ConnectionError or TimeoutError); redis-py's ClusterDownError is what a cluster
# with no reachable node for the slot ends in.
_UNREACHABLE = {"ConnectionError", "TimeoutError", "ClusterDownError"}


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` says Redis could not answer (down, refusing connections, slow past a
    timeout): the Redis client's ConnectionError or TimeoutError, any OSError,
    ``asyncio.TimeoutError``. A server's error reply (:class:`~redis_ratelimit.RateLimitError`)
    and a programming error are not: they are raised whatever ``fail_open`` says."""
    if isinstance(error, (OSError, asyncio.TimeoutError)):
        return True
    return any(cls.__name__ in _UNREACHABLE for cls in type(error).__mro__)


def rule_list(rules: Optional[Rules], what: str) -> Tuple[Rule, ...]:
    """``rules`` as a tuple: none, one rule, or a sequence of rules."""
    if rules is None:
        return ()
    if isinstance(rules, Rule):
        return (rules,)
    if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
        raise TypeError(f"{what} must be a Rule or a sequence of rules, not {type(rules).__name__}")
    for rule in rules:
        if not isinstance(rule, Rule):
            raise TypeError(f"{what} must hold rules (Fixed, Sliding, Log, Token, Leaky, Concurrent), not {type(rule).__name__}")
    return tuple(rules)


def scoped(scope: str, rules: Sequence[Rule], what: str) -> Tuple[Scoped, ...]:
    """Each rule with its key suffix ``<scope><policy>``; two rules of one scope need two
    policy names (give one a ``name``)."""
    out = tuple((scope + rule.policy, rule) for rule in rules)
    names = [suffix for suffix, _ in out]
    for suffix in names:
        if names.count(suffix) > 1:
            raise ValueError(f"{what}: two rules have the policy name {suffix[len(scope):]!r}; give one a name=")
    return out


class Route:
    """A path pattern of ``routes``, matched against the whole request path.

    Literal text matches itself; ``{name}`` matches one or more characters other than ``/``
    (one path segment, as in Starlette's and FastAPI's route paths); a trailing ``*`` matches
    any rest, the empty one included. So ``/login`` is that path alone, ``/users/{id}`` is
    ``/users/42`` and not ``/users/42/posts``, ``/api/*`` is every path under ``/api/``.
    """

    _PARAMETER = re.compile(r"\{[^{}/]+\}")

    def __init__(self, pattern: str) -> None:
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            raise ValueError(f"a route pattern is a path starting with /, not {pattern!r}")
        body, rest = (pattern[:-1], ".*") if pattern.endswith("*") else (pattern, "")
        pieces: List[str] = []
        start = 0
        for parameter in self._PARAMETER.finditer(body):
            pieces += [re.escape(body[start : parameter.start()]), "[^/]+"]
            start = parameter.end()
        pieces.append(re.escape(body[start:]))
        literal = self._PARAMETER.sub("", body)
        if any(c in literal for c in "{}*"):
            raise ValueError(f"route pattern {pattern!r}: * only at the end, braces only around a parameter name")
        self.pattern = pattern
        self._regex = re.compile("".join(pieces) + rest, re.DOTALL)

    def matches(self, path: str) -> bool:
        return self._regex.fullmatch(path) is not None


def _tag(key: str) -> str:
    """``key`` as a hash tag's content: never empty and never holding a brace, so that the
    tag is exactly the key (an empty tag would hash each whole key apart)."""
    return key.replace("%", "%25").replace("{", "%7B").replace("}", "%7D") or "%"


@dataclass(frozen=True)
class Plan:
    """What one request is charged: its Redis keys and their rules, in one ``hit_all``."""

    rules: Dict[str, Rule]
    cost: int
    #: The lease holder's id, when a Concurrent rule applies.
    id: Optional[str]


class Options(Generic[R]):
    """The options the two adapters share, checked once; see
    :class:`redis_ratelimit.asgi.RateLimitMiddleware` for what each means."""

    def __init__(
        self,
        *,
        key: Callable[[R], Optional[str]],
        rule: Optional[Rules],
        routes: Optional[Mapping[str, Rules]],
        cost: Optional[Callable[[R], int]],
        fail_open: bool,
        max_delay: Optional[float],
        legacy_headers: bool,
        prefix: str,
    ) -> None:
        if not callable(key):
            raise TypeError("key must be a function of the request")
        if cost is not None and not callable(cost):
            raise TypeError("cost must be a function of the request (or None: every request costs 1)")
        if routes is not None and not isinstance(routes, Mapping):
            raise TypeError(f"routes must map a path pattern to its rules, not {type(routes).__name__}")
        if max_delay is not None and (isinstance(max_delay, bool) or not isinstance(max_delay, (int, float)) or max_delay < 0):
            raise ValueError(f"max_delay must be seconds (0 or more) or None, not {max_delay!r}")
        if not isinstance(prefix, str) or "{" in prefix or "}" in prefix:
            raise ValueError(f"prefix must be a str without braces (the request's key is the hash tag), not {prefix!r}")
        self.key = key
        self.cost = cost
        self.global_rules = scoped("", rule_list(rule, "rule"), "rule")
        self.routes = [
            (Route(pattern), scoped(pattern + ":", rule_list(rules, f"routes[{pattern!r}]"), f"routes[{pattern!r}]"))
            for pattern, rules in (routes or {}).items()
        ]
        self.fail_open = bool(fail_open)
        self.max_delay_ms = None if max_delay is None else max_delay * 1000
        self.legacy_headers = bool(legacy_headers)
        self.prefix = prefix

    def plan(self, request: R, path: str, own: Sequence[Scoped] = (), exempt: bool = False) -> Optional[Plan]:
        """The charge for a request to ``path``: the global rules and those of every matching
        route (unless ``exempt``), then ``own`` (a view's); None when no rule applies or the
        key function exempts the request. The key and cost functions are called only when a
        rule applies."""
        applying = [*own] if exempt else [*self.global_rules, *(s for route, rules in self.routes if route.matches(path) for s in rules), *own]
        if not applying:
            return None
        key = self.key(request)
        if key is None:
            return None
        if not isinstance(key, str):
            raise TypeError(f"the key function must return a str or None, not {type(key).__name__}")
        head = f"{self.prefix}{{{_tag(key)}}}:"
        rules = {head + suffix: rule for suffix, rule in applying}
        if len(rules) < len(applying):
            raise ValueError(f"two rules of one request have one Redis key: {sorted(s for s, _ in applying)}")
        cost = 1 if self.cost is None else self.cost(request)
        holder = new_id() if any(isinstance(r, Concurrent) for r in rules.values()) else None
        return Plan(rules, cost, holder)


# The steps of a flow: each a limiter call, made by ``step(limiter)`` (a Decision from a
# Limiter, a coroutine of one from an AsyncLimiter), or a wait.


@dataclass(frozen=True)
class HitAll:
    rules: Dict[str, Rule]
    cost: int
    id: Optional[str]

    def __call__(self, limiter: Any) -> Any:
        return limiter.hit_all(self.rules, self.cost, id=self.id)


@dataclass(frozen=True)
class Refund:
    key: str
    rule: Rule
    amount: int

    def __call__(self, limiter: Any) -> Any:
        return limiter.refund(self.key, self.rule, self.amount)


@dataclass(frozen=True)
class Release:
    key: str
    rule: Concurrent
    id: str

    def __call__(self, limiter: Any) -> Any:
        return limiter.release(self.key, self.rule, self.id)


@dataclass(frozen=True)
class Wait:
    seconds: float


Step = Union[HitAll, Refund, Release, Wait]
Flow = Generator[Step, Any, T]


@dataclass(frozen=True)
class Outcome:
    """What the adapter does with a request."""

    #: The rate-limit headers of the response (none when Redis could not be asked).
    headers: Dict[str, str] = field(default_factory=dict)
    #: None: the application answers; else this status, with ``body`` as problem details.
    status: Optional[int] = None
    body: bytes = b""
    #: The leases to release when the response is done (also when the application failed).
    leases: Tuple[Release, ...] = ()


_UNAVAILABLE = {
    "type": "about:blank",
    "title": "Service Unavailable",
    "status": 503,
    "detail": "the rate limiter could not reach Redis",
}


def _problem(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body).encode("utf-8")


def refusal(decision: Decision, legacy_headers: bool) -> Outcome:
    """429 with the problem details, or 413 where no wait can admit the request."""
    problem = decision.problem()
    return Outcome(decision.headers(legacy_headers), int(problem["status"]), _problem(problem))


def _log_unreachable(error: Exception, consequence: str) -> None:
    """Log an unreachable Redis and what came of it; raise any other error."""
    if not unreachable(error):
        raise error
    reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    log.warning("rate limiter: Redis unreachable (%s): %s", reason, consequence)


def admit(plan: Plan, options: Options[Any], recorder: Optional[Recorder] = None) -> Flow[Outcome]:
    """Charge ``plan`` in one ``hit_all``; an admitted request with a Leaky wait waits it, or
    past ``max_delay`` is refused and given its units back. ``recorder``: the limiter's, which
    counts a request let through by ``fail_open``."""
    try:
        decision: Decision = yield HitAll(plan.rules, plan.cost, plan.id)
    except Exception as error:
        if options.fail_open:
            _log_unreachable(error, "request let through (fail_open)")
            if recorder is not None:
                recorder.failed_open(plan.rules.values())
            return Outcome()
        _log_unreachable(error, "answered 503 (fail_open is off)")
        return Outcome(status=503, body=_problem(_UNAVAILABLE))
    if not decision.allowed:
        return refusal(decision, options.legacy_headers)  # hit_all charged nothing
    leases = tuple(Release(k, r, plan.id) for k, r in plan.rules.items() if isinstance(r, Concurrent) and plan.id)
    if decision.delay_ms > 0:
        if options.max_delay_ms is not None and decision.delay_ms > options.max_delay_ms:
            refused: Outcome = yield from _give_back(plan, decision, leases, options)
            return refused
        yield Wait(decision.delay_ms / 1000)
    return Outcome(decision.headers(options.legacy_headers), leases=leases)


def _give_back(plan: Plan, decision: Decision, leases: Sequence[Release], options: Options[Any]) -> Flow[Outcome]:
    """Refuse a request admitted with a wait past ``max_delay``: every rate limit gets its
    units back (a refused request holds no place in a queue, as if hit_all had refused it)
    and its lease is released."""
    after_refund: List[Decision] = []
    for key, rule in plan.rules.items():
        if isinstance(rule, Concurrent):
            continue
        try:
            refunded: Decision = yield Refund(key, rule, plan.cost)
        except Exception as error:
            _log_unreachable(error, f"{key} keeps the units of a refused request")
            continue
        if isinstance(rule, Leaky):
            after_refund.append(refunded)
    for lease in leases:
        yield from release(lease)
    # The refusal speaks for the Leaky limiter as the refund left it (with several, the
    # longest queue); the request fits once that queue is down to max_delay.
    queue = max(after_refund, key=lambda d: d.reset_after_ms, default=decision)
    wait_ms = max(1, decision.delay_ms - int(options.max_delay_ms or 0))
    return refusal(replace(queue, allowed=False, retry_after_ms=wait_ms, delay_ms=0, rules=decision.rules), options.legacy_headers)


def release(lease: Release) -> Flow[None]:
    """Give a request's slot back; where Redis is unreachable the lease ends with its time."""
    try:
        yield lease
    except Exception as error:
        _log_unreachable(error, f"lease {lease.id} on {lease.key} not released: it ends with its lease time")


def run(flow: Flow[T], limiter: Any) -> T:
    """Drive ``flow`` with a blocking :class:`~redis_ratelimit.Limiter`."""
    try:
        step = next(flow)
        while True:
            try:
                reply = None
                if isinstance(step, Wait):
                    time.sleep(step.seconds)
                else:
                    reply = step(limiter)
            except Exception as error:
                step = flow.throw(error)
            else:
                step = flow.send(reply)
    except StopIteration as done:
        result: T = done.value
        return result
