"""Fixtures: servers started once per session by (binary, with the module or not), and a
fresh key prefix per test so tests sharing a server never share a limiter."""

from __future__ import annotations

import uuid
from typing import Callable, Dict, Iterator, Tuple

import pytest

from servers import Server, binaries

ServerFactory = Callable[[str, bool], Server]


@pytest.fixture(scope="session")
def server() -> Iterator[ServerFactory]:
    """``server(name, module)``: that binary's server, with the module loaded or not."""
    started: Dict[Tuple[str, bool], Server] = {}
    paths = binaries()

    def get(name: str, module: bool) -> Server:
        key = (name, module)
        if key not in started:
            started[key] = Server(paths[name], module)
        return started[key]

    yield get
    for s in started.values():
        s.stop()


def pick(preferred: str) -> str:
    """``preferred`` if the run has that server, else the run's first."""
    names = sorted(binaries())
    return preferred if preferred in names else names[0]


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses."""
    return f"t{uuid.uuid4().hex[:10]}:"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # `server_name`: every server of the run (RL_SERVERS).
    if "server_name" in metafunc.fixturenames:
        metafunc.parametrize("server_name", sorted(binaries()))
