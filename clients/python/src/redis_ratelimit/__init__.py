"""Rate limiting and concurrency limits on Redis and Valkey: the ``ratelimit`` module where it
is loaded, the same commands as a script library where it is not.

>>> limiter = Limiter(redis.Redis())
>>> d = limiter.hit("user:42", Sliding(100, "1m"))
>>> d.allowed, d.remaining, d.headers()
"""

from .aio import AsyncLimiter
from .decision import QUOTA_EXCEEDED, Decision
from .errors import BackendUnavailable, CrossSlotError, RateLimitError
from .limiter import Limiter
from .rules import Concurrent, Duration, Fixed, Leaky, Log, Rule, Sliding, Token

__version__ = "0.1.0"

__all__ = [
    "Limiter",
    "AsyncLimiter",
    "Rule",
    "Fixed",
    "Sliding",
    "Log",
    "Token",
    "Leaky",
    "Concurrent",
    "Duration",
    "Decision",
    "QUOTA_EXCEEDED",
    "RateLimitError",
    "BackendUnavailable",
    "CrossSlotError",
]
