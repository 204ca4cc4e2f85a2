"""What the metrics cost: the same calls through a limiter with PrometheusMetrics and through
one without, against one server, in alternating slices (so that a noisy machine slows both
alike), and the median of the per-pair ratios.

    python bench/metrics.py            # from clients/python, the package and prometheus_client installed

The server is started by the tests' harness (tests/servers.py: RL_SERVERS, RL_MODULE, else
Debian's redis-server and the repository's module) on a free port. Knobs: BENCH_CALLS (calls
per slice, default 2000), BENCH_SLICES (pairs of slices, default 15), BENCH_MODULE=0 to serve
the calls by the script library instead of the module.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from prometheus_client import CollectorRegistry  # noqa: E402

from redis_ratelimit import Fixed, Limiter  # noqa: E402
from redis_ratelimit.metrics import PrometheusMetrics  # noqa: E402
from servers import Server, binaries  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "2000"))
SLICES = int(os.environ.get("BENCH_SLICES", "15"))
MODULE = os.environ.get("BENCH_MODULE", "1") != "0"


def per_call(work: Callable[[int], object]) -> float:
    """Seconds per call of ``CALLS`` calls of ``work``."""
    started = time.perf_counter()
    for i in range(CALLS):
        work(i)
    return (time.perf_counter() - started) / CALLS


def main() -> None:
    name = "redis70" if "redis70" in binaries() else sorted(binaries())[0]
    server = Server(binaries()[name], MODULE)
    try:
        # A limit no slice reaches: every call is an admitted check (the common case), on
        # 100 keys so that no one key is hot.
        rule = Fixed(10**12, "1h")
        plain = Limiter(server.client())
        measured = Limiter(server.client(), metrics=PrometheusMetrics(CollectorRegistry()))
        off: List[float] = []
        on: List[float] = []
        for limiter in (plain, measured):  # warm up: connections, the path of the node
            per_call(lambda i: limiter.hit(f"bench:{i % 100}", rule))
        for _ in range(SLICES):
            off.append(per_call(lambda i: plain.hit(f"bench:{i % 100}", rule)))
            on.append(per_call(lambda i: measured.hit(f"bench:{i % 100}", rule)))
        ratios = [b / a for a, b in zip(off, on)]
        backend = plain.hit("bench:0", rule).backend
        print(f"{name}, {backend}: {SLICES} pairs of {CALLS} hits")
        print(f"  metrics off  {statistics.median(off) * 1e6:8.1f} us/call (median slice)")
        print(f"  metrics on   {statistics.median(on) * 1e6:8.1f} us/call (median slice)")
        print(f"  on / off     {statistics.median(ratios):8.3f} (median of the pairs' ratios; min {min(ratios):.3f}, max {max(ratios):.3f})")
        print(f"  cost         {(statistics.median(on) - statistics.median(off)) * 1e6:8.1f} us/call")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
