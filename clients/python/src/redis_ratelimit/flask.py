"""Rate limits for Flask: an extension with a global rule, per-route rules and per-view ones.

>>> ratelimit = RateLimit(app, limiter=Limiter(redis.Redis(socket_timeout=0.5)),
...                       rule=Sliding(100, "1m"), key=lambda request: request.remote_addr)
>>> @app.post("/login")
... @ratelimit.limit(Fixed(5, "1m"))
... def login(): ...
>>> @app.get("/health")
... @ratelimit.exempt
... def health(): ...

Needs Flask (``pip install redis-ratelimit[flask]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, TypeVar

from flask import Flask, Request, Response, current_app, g, request

from ._http import PROBLEM, Options, Outcome, Rules, Scoped, admit, release, rule_list, run, scoped
from .limiter import Limiter
from .rules import Rule

__all__ = ["RateLimit"]

View = TypeVar("View", bound=Callable[..., Any])

# The attribute of a view function holding what each RateLimit was told of it. An attribute
# rather than a registry: functools.wraps copies it, so a decorator put above ours keeps it.
_MARKS = "__redis_ratelimit__"


@dataclass(frozen=True)
class _Marks:
    rules: Tuple[Rule, ...] = ()
    exempt: bool = False


class RateLimit:
    """Limits the requests of a Flask application by a key of the request.

    The options are those of :class:`redis_ratelimit.asgi.RateLimitMiddleware`, with a
    blocking :class:`~redis_ratelimit.Limiter` and ``key`` and ``cost`` functions of Flask's
    ``request``: ``rule`` applies to every request, ``routes`` by path pattern beside it,
    :meth:`limit` to one view beside both; :meth:`exempt` takes a view out of the global and
    route rules. There is no ``timeout``: a Redis call takes as long as the client's
    ``socket_timeout`` allows, times its retries (redis-py 6+ retries three times by default:
    pass ``retry=Retry(NoBackoff(), 0)`` for one try); a timeout is "unreachable" for ``fail_open``. A Leaky
    wait sleeps in the worker. A Concurrent lease is released when the request ends
    (``teardown_request``, also after an error).

    Requests are charged in ``before_request``; the headers are added in ``after_request``, to
    the application's responses and to the extension's 429, 413 and 503.
    """

    def __init__(
        self,
        app: Optional[Flask] = None,
        *,
        limiter: Limiter,
        key: Callable[[Request], Optional[str]],
        rule: Optional[Rules] = None,
        routes: Optional[Mapping[str, Rules]] = None,
        cost: Optional[Callable[[Request], int]] = None,
        fail_open: bool = False,
        max_delay: Optional[float] = None,
        legacy_headers: bool = False,
        prefix: str = "rl:",
    ) -> None:
        if not isinstance(limiter, Limiter):
            raise TypeError(f"limiter must be a Limiter (an AsyncLimiter is for asyncio), not {type(limiter).__name__}")
        self.limiter = limiter
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
        self._slot = f"_redis_ratelimit_{id(self):x}"  # this extension's Outcome in flask.g
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Limit ``app``'s requests (one extension may serve several applications)."""
        app.before_request(self._before)
        app.after_request(self._after)
        app.teardown_request(self._teardown)
        app.extensions.setdefault("redis_ratelimit", self)

    def limit(self, *rules: Rule) -> Callable[[View], View]:
        """A decorator: ``rules`` apply to this view beside the global and route rules (or
        alone, on an :meth:`exempt` view), counted on their own (``@<endpoint>`` keys).
        Several ``limit`` decorators stack."""
        added = rule_list(list(rules), "limit()")
        if not added:
            raise ValueError("limit() takes at least one rule")

        def decorate(view: View) -> View:
            marks = self._marks(view)
            both = (*added, *marks.rules)  # decorators run bottom-up: keep them in reading order
            scoped("@", both, f"limit() on {getattr(view, '__name__', view)!r}")
            return self._mark(view, _Marks(both, marks.exempt))

        return decorate

    def exempt(self, view: View) -> View:
        """A decorator: the global rule and ``routes`` do not apply to this view (its own
        :meth:`limit` rules still do)."""
        return self._mark(view, _Marks(self._marks(view).rules, True))

    def _marks(self, view: Any) -> _Marks:
        marks: Dict[RateLimit, _Marks] = getattr(view, _MARKS, {})
        return marks.get(self, _Marks())

    def _mark(self, view: View, marks: _Marks) -> View:
        setattr(view, _MARKS, {**getattr(view, _MARKS, {}), self: marks})
        return view

    def _before(self) -> Optional[Response]:
        endpoint = request.endpoint
        marks = self._marks(current_app.view_functions.get(endpoint)) if endpoint else _Marks()
        own: Tuple[Scoped, ...] = scoped(f"@{endpoint}:", marks.rules, "limit()") if marks.rules else ()
        plan = self._options.plan(request, request.path, own, marks.exempt)
        if plan is None:
            return None
        outcome: Outcome = run(admit(plan, self._options, self.limiter._recorder), self.limiter)
        setattr(g, self._slot, outcome)
        if outcome.status is None:
            return None
        return current_app.response_class(outcome.body, status=outcome.status, content_type=PROBLEM)

    def _after(self, response: Response) -> Response:
        outcome: Optional[Outcome] = g.get(self._slot)
        if outcome is not None:
            response.headers.update(outcome.headers)
        return response

    def _teardown(self, error: Optional[BaseException]) -> None:
        outcome: Optional[Outcome] = g.pop(self._slot, None)
        for lease in outcome.leases if outcome is not None else ():
            run(release(lease), self.limiter)
