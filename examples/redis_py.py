"""Rate limiting from Python with redis-py (pip install redis).

    python3 examples/redis_py.py [redis-url]

One helper turns the five-integer reply into what an HTTP handler needs.
"""
import math
import sys
import time
from typing import NamedTuple

import redis


class Decision(NamedTuple):
    allowed: bool
    limit: int
    remaining: int
    retry_after_ms: int  # -1: never (cost > limit)
    reset_after_ms: int

    def headers(self) -> dict:
        """X-RateLimit-* and Retry-After, as an API gateway sends them."""
        h = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(time.time() + self.reset_after_ms / 1000)),
        }
        if not self.allowed and self.retry_after_ms >= 0:
            h["Retry-After"] = str(math.ceil(self.retry_after_ms / 1000))
        return h


def limit(r: redis.Redis, command: str, key: str, *params, cost: int = 1, peek: bool = False) -> Decision:
    args = [command, key, *params, "COST", cost] + (["PEEK"] if peek else [])
    allowed, lim, remaining, retry, reset = r.execute_command(*args)
    return Decision(allowed == 1, lim, remaining, retry, reset)


if __name__ == "__main__":
    r = redis.Redis.from_url(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6399/")
    r.delete("py:user:42", "py:tenant:7")
    # A free tier: 3 requests per minute.
    for i in range(4):
        d = limit(r, "RL.FIXED", "py:user:42", 3, "1m")
        print(f"request {i + 1}: {'200' if d.allowed else '429'} {d.headers()}")
    # An LLM budget: reserve max_tokens up front.
    d = limit(r, "RL.TOKEN", "py:tenant:7", 100000, 100000, "1h", cost=3500)
    print(f"reserve 3500 tokens: allowed={d.allowed} remaining={d.remaining}")
