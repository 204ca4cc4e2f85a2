"""Rate limiting from Python with redis-py (pip install redis).

    python3 examples/redis_py.py [redis-url]

One helper turns the five-integer reply into what an HTTP handler needs. The same code runs
where the module cannot load (a managed service): a Limiter finds out at its first call
whether the server knows the module's command, and otherwise calls the script library
(functions/ratelimit.lua, loaded once with FUNCTION LOAD) through FCALL, or through EVALSHA
where the server has no FUNCTION (Redis 6.2). Keys, replies and stored bytes are the same, so
moving between the two resets nothing.
"""
import math
import pathlib
import sys
import time
from typing import NamedTuple

import redis

# The EVALSHA form of the library: the function name comes first in ARGV.
SCRIPT = (pathlib.Path(__file__).resolve().parent.parent / "functions" / "ratelimit-script.lua").read_text()


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


class Limiter:
    """The RL commands over one connection (a client made with single_connection_client=True):
    the module's, or the script library's where the server answers that the command is unknown.
    It finds out once, at the first call, not at every call."""

    def __init__(self, r: redis.Redis):
        self.r = r
        self.way = None  # "module", "function" (FCALL) or "script" (EVALSHA)
        self.script = None

    def call(self, command: str, key: str, *params, cost: int = 1, peek: bool = False) -> Decision:
        args = [*params, "COST", cost] + (["PEEK"] if peek else [])
        function = command.lower().replace(".", "_")  # RL.FIXED -> rl_fixed
        while True:
            try:
                if self.way in (None, "module"):
                    reply = self.r.execute_command(command, key, *args)
                    self.way = "module"
                elif self.way == "function":
                    reply = self.r.fcall(function, 1, key, *args)
                else:
                    reply = self.script(keys=[key], args=[function, *args])
                allowed, lim, remaining, retry, reset = reply
                return Decision(allowed == 1, lim, remaining, retry, reset)
            except redis.ResponseError as e:
                if "unknown command" not in str(e).lower() or self.way in ("module", "script"):
                    raise
                self.way = "function" if self.way is None else "script"
                if self.way == "script":
                    self.script = self.r.register_script(SCRIPT)


if __name__ == "__main__":
    r = redis.Redis.from_url(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6399/", single_connection_client=True)
    limiter = Limiter(r)
    r.delete("py:user:42", "py:tenant:7")
    # A free tier: 3 requests per minute.
    for i in range(4):
        d = limiter.call("RL.FIXED", "py:user:42", 3, "1m")
        print(f"request {i + 1}: {'200' if d.allowed else '429'} {d.headers()}")
    # An LLM budget: reserve max_tokens up front.
    d = limiter.call("RL.TOKEN", "py:tenant:7", 100000, 100000, "1h", cost=3500)
    print(f"reserve 3500 tokens: allowed={d.allowed} remaining={d.remaining}")
    print(f"served by: {limiter.way}")
