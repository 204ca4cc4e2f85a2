"""Real HTTP servers for the middleware tests: an ASGI app under uvicorn and a WSGI app under
werkzeug's threaded server, each in a thread on a free loopback port, and a client over
http.client.

Werkzeug's ``make_server`` rather than waitress: it comes with Flask (no other dependency),
takes port 0 and says which port it got, and its ``threaded=True`` serves each request on its
own thread, so the concurrency tests are not capped by a worker pool's size.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Dict, Iterator, Optional

import uvicorn
from werkzeug.serving import make_server

from servers import eventually

#: Every header the middleware may add.
RATE_HEADERS = {"ratelimit-policy", "ratelimit", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}


@contextmanager
def serve_asgi(app: Any) -> Iterator[int]:
    """``app`` under uvicorn on a free port (bound here, so no other process can take it)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not eventually(lambda: server.started or not thread.is_alive()) or not server.started:
            raise RuntimeError("uvicorn did not start")
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def serve_wsgi(app: Any) -> Iterator[int]:
    """``app`` under werkzeug's threaded server on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield int(server.server_port)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@dataclass
class Reply:
    status: int
    #: Lower-case names; a header sent twice fails the test (the middleware sends each once).
    headers: Dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)

    def rate_headers(self) -> Dict[str, str]:
        return {name: value for name, value in self.headers.items() if name in RATE_HEADERS}


@dataclass
class Site:
    """A served app; ``get`` asks it over a fresh HTTP connection. ``client`` is the
    request's key (the ``X-Client`` header: none exempts it), ``cost`` its ``X-Cost``."""

    port: int

    def get(self, path: str = "/", client: Optional[str] = "c1", cost: Optional[int] = None) -> Reply:
        headers = {}
        if client is not None:
            headers["X-Client"] = client
        if cost is not None:
            headers["X-Cost"] = str(cost)
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        names = [name.lower() for name, _ in response.getheaders()]
        repeated = {name for name in names if names.count(name) > 1 and name in RATE_HEADERS}
        assert not repeated, f"headers sent twice: {repeated}"
        return Reply(response.status, {n.lower(): v for n, v in response.getheaders()}, body, time.monotonic() - started)


def sites(serve: Callable[[Any], ContextManager[int]], build: Callable[..., Any]) -> Iterator[Callable[..., Site]]:
    """The ``site`` fixture of a test file: ``site(...)`` serves ``build(...)`` with ``serve``
    until the test ends."""
    with ExitStack() as servers:
        yield lambda *args, **kwargs: Site(servers.enter_context(serve(build(*args, **kwargs))))


class Gate:
    """What a slow endpoint waits on: ``inside`` counts the requests that reached it, and
    none leaves before ``open()``."""

    def __init__(self) -> None:
        self._entered = threading.Semaphore(0)
        self._open = threading.Event()

    def pass_through(self) -> None:
        self._entered.release()
        self._open.wait(30)

    def wait_inside(self, count: int) -> None:
        for _ in range(count):
            assert self._entered.acquire(timeout=10), "a request never reached the endpoint"

    def open(self) -> None:
        self._open.set()
