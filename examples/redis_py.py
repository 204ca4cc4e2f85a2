"""Rate limiting from Python with the package (pip install ./clients/python).

    python3 examples/redis_py.py [redis-url]

The package finds out at the first call whether the server has the module (RL.*), else loads
its script library (FCALL, or EVALSHA where the server has no FUNCTION); keys, replies and
stored bytes are the same either way.
"""
import sys

import redis

from redis_ratelimit import Fixed, Limiter, Token

r = redis.Redis.from_url(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6399/", single_connection_client=True)
limiter = Limiter(r)
r.delete("py:user:42", "py:tenant:7")
# A free tier: 3 requests per minute.
for i in range(4):
    d = limiter.hit("py:user:42", Fixed(3, "1m"))
    print(f"request {i + 1}: {'200' if d.allowed else '429'} {d.headers(legacy=True)}")
# An LLM budget: reserve max_tokens up front.
d = limiter.hit("py:tenant:7", Token(100_000, 100_000, "1h"), cost=3500)
print(f"reserve 3500 tokens: allowed={d.allowed} remaining={d.remaining}")
print(f"served by: {d.backend}")
