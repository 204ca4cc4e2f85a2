"""The Decision every call answers, and the HTTP headers it turns into.

Headers follow the IETF draft ``draft-ietf-httpapi-ratelimit-headers``: ``RateLimit-Policy``
names each policy with its quota and window, ``RateLimit`` says what is left of the decisive
one and when it resets; ``Retry-After`` comes with a refusal that a wait can cure.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

from .rules import Rule

__all__ = ["Decision", "QUOTA_EXCEEDED"]

#: The draft's problem type for a refusal (RFC 9457 problem details).
QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded"


def _seconds(ms: int) -> int:
    """Milliseconds as whole seconds, rounded up (a client that waits that long is in time)."""
    return max(0, -(-ms // 1000))


def _sf_string(text: str) -> str:
    """``text`` as a structured-field string (RFC 8941): quoted, ``\\`` and ``"`` escaped,
    bytes outside printable ASCII replaced (a header carries no others)."""
    safe = "".join(c if " " <= c <= "~" else "?" for c in text)
    return '"' + safe.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Decision:
    """What a limiter answered.

    ``retry_after_ms`` is 0 when allowed and -1 when the request can never be admitted (its
    cost is more than the limit); ``delay_ms`` is the wait a :class:`~redis_ratelimit.Leaky`
    rule gives an admitted request (0 otherwise). ``backend`` says what served the call:
    ``"module"``, ``"function"`` (FCALL) or ``"script"`` (EVALSHA).
    """

    allowed: bool
    limit: int
    remaining: int
    retry_after_ms: int
    reset_after_ms: int
    delay_ms: int
    #: The limiter's key; for ``hit_all``, the decisive limiter's (the first that refused, or
    #: the one with the least remaining).
    key: str
    backend: str
    #: The decisive limiter's rule.
    rule: Rule
    #: Every rule of the call (``hit_all``: in key order), for ``RateLimit-Policy``.
    rules: Tuple[Rule, ...] = ()

    @classmethod
    def from_reply(cls, reply: Sequence[Any], keys: Sequence[str], rules: Sequence[Rule], backend: str) -> "Decision":
        """The five integers of a reply (six for RL.ALL: the decisive limiter's 1-based index)."""
        values = [int(v) for v in reply]
        if len(values) not in (5, 6):
            raise ValueError(f"a rate-limit reply is five or six integers, not {reply!r}")
        index = values[5] - 1 if len(values) == 6 else 0
        if not 0 <= index < len(keys):
            raise ValueError(f"a reply names limiter {index + 1} of {len(keys)}")
        allowed, limit, remaining, wait, reset = values[:5]
        # Field 4 is the retry time when denied, the Leaky wait when admitted.
        return cls(
            allowed=allowed == 1,
            limit=limit,
            remaining=remaining,
            retry_after_ms=0 if allowed == 1 else wait,
            reset_after_ms=reset,
            delay_ms=wait if allowed == 1 else 0,
            key=keys[index],
            backend=backend,
            rule=rules[index],
            rules=tuple(rules),
        )

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def never(self) -> bool:
        """True when no wait can admit this request: its cost is more than the limit."""
        return not self.allowed and self.retry_after_ms < 0

    def headers(self, legacy: bool = False) -> Dict[str, str]:
        """``RateLimit-Policy`` and ``RateLimit`` (the draft), ``Retry-After`` when refused and a
        wait can cure it; with ``legacy``, also ``X-RateLimit-Limit``, ``-Remaining`` and
        ``-Reset`` (Unix seconds) that older clients read."""
        policies = self.rules or (self.rule,)
        out = {
            "RateLimit-Policy": ", ".join(_policy(rule) for rule in policies),
            "RateLimit": f"{_sf_string(self.rule.policy)};r={self.remaining};t={_seconds(self.reset_after_ms)}",
        }
        if not self.allowed and self.retry_after_ms >= 0:
            out["Retry-After"] = str(_seconds(self.retry_after_ms))
        if legacy:
            out["X-RateLimit-Limit"] = str(self.limit)
            out["X-RateLimit-Remaining"] = str(self.remaining)
            out["X-RateLimit-Reset"] = str(math.ceil(time.time() + self.reset_after_ms / 1000))
        return out

    def problem(self) -> Dict[str, Any]:
        """The draft's problem details for a refusal (``application/problem+json``)."""
        body: Dict[str, Any] = {
            "type": QUOTA_EXCEEDED,
            "title": "Request cannot be satisfied as assigned quota has been exceeded",
            "status": 413 if self.never else 429,
            "violated-policies": self._violated(),
        }
        if self.never:
            body["detail"] = f"the request's cost is more than the limit of {self.limit}: it can never be admitted"
        return body

    def _violated(self) -> List[str]:
        return [] if self.allowed else [self.rule.policy]


def _policy(rule: Rule) -> str:
    parts = [_sf_string(rule.policy), f"q={rule.limit}"]
    if rule.quota_unit != "requests":
        parts.append(f'qu="{rule.quota_unit}"')
    parts.append(f"w={max(1, _seconds(rule.window_ms))}")
    return ";".join(parts)
