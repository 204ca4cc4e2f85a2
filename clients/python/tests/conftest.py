"""Fixtures: servers started once per session by (binary, with the module or not), and a
fresh key prefix per test so tests sharing a server never share a limiter."""

from __future__ import annotations

import uuid
from typing import Callable, Dict, Iterator, Tuple, TypeVar

import pytest

from servers import Cluster, Server, binaries

ServerFactory = Callable[[str, bool], Server]


Started = TypeVar("Started", Server, Cluster)


def _once_each(start: Callable[[str, bool], Started]) -> Iterator[Callable[[str, bool], Started]]:
    """``get(name, module)``: started by ``start(binary, module)`` at its first use, stopped
    when the session ends."""
    started: Dict[Tuple[str, bool], Started] = {}
    paths = binaries()

    def get(name: str, module: bool) -> Started:
        key = (name, module)
        if key not in started:
            started[key] = start(paths[name], module)
        return started[key]

    yield get
    for s in started.values():
        s.stop()


def pick(preferred: str) -> str:
    """``preferred`` if the run has that server, else the run's first."""
    names = sorted(binaries())
    return preferred if preferred in names else names[0]


@pytest.fixture(scope="session")
def server() -> Iterator[ServerFactory]:
    """``server(name, module)``: that binary's server, with the module loaded or not."""
    yield from _once_each(Server)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Callable[[str, bool], Cluster]]:
    """``cluster(name, module)``: a cluster of that binary (three primaries, a replica each),
    the module on every node or on none."""
    yield from _once_each(Cluster)


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses."""
    return f"t{uuid.uuid4().hex[:10]}:"


@pytest.fixture(params=[True, False], ids=["module", "library"])
def redis_server(request: pytest.FixtureRequest, server: ServerFactory) -> Server:
    """For the HTTP tests: the session's Redis 7.0 (or the run's first server), with the
    module and without it (the script library serves). The paths on every server are
    test_backends.py's."""
    return server(pick("redis70"), bool(request.param))


@pytest.fixture(params=[True, False], ids=["module", "library"])
def own_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A server of this test alone (it may kill or pause it), with the module and without."""
    started = Server(binaries()[pick("redis70")], bool(request.param))
    yield started
    started.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # `server_name`: every server of the run (RL_SERVERS).
    if "server_name" in metafunc.fixturenames:
        metafunc.parametrize("server_name", sorted(binaries()))
