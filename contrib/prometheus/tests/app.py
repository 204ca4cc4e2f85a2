"""The application of the metrics test: Flask under waitress, limited by the redis-ratelimit
package with its Prometheus metrics on, exposing them at /metrics as an application would.

    python app.py REDIS_PORT HTTP_PORT

Policy ``api``: 20 requests an hour per tenant (the ``X-Tenant`` header), fail-open.
"""

import sys

import prometheus_client
import redis
import waitress
from flask import Flask, Response
from redis.backoff import NoBackoff
from redis.retry import Retry

from redis_ratelimit import Fixed, Limiter
from redis_ratelimit.flask import RateLimit
from redis_ratelimit.metrics import PrometheusMetrics

redis_port, http_port = int(sys.argv[1]), int(sys.argv[2])

registry = prometheus_client.CollectorRegistry()
# One try per call: each request that finds Redis gone is one error, whatever redis-py's
# default retries are.
client = redis.Redis(port=redis_port, socket_timeout=1, retry=Retry(NoBackoff(), 0))
limiter = Limiter(client, metrics=PrometheusMetrics(registry=registry))
API = Fixed(20, "1h", name="api")

app = Flask(__name__)
ratelimit = RateLimit(app, limiter=limiter, rule=API, key=lambda request: request.headers.get("X-Tenant"), fail_open=True)


@app.get("/work")
def work() -> str:
    return "done"


@app.get("/metrics")
@ratelimit.exempt
def metrics() -> Response:
    return Response(prometheus_client.generate_latest(registry), mimetype=prometheus_client.CONTENT_TYPE_LATEST)


# A peek charges nothing and is not a check; it finds the node's backend, so the policy's
# series exist at 0 before the first scrape (rate() then counts from 0, exactly).
limiter.peek("warm-up", API)
waitress.serve(app, host="127.0.0.1", port=http_port, threads=4, _quiet=True)
