"""The Python shown in the READMEs runs as printed, against a real server (the port the page
names replaced by the test server's)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

import pytest

from conftest import ServerFactory, pick

REPO = Path(__file__).resolve().parents[3]
PAGES = [REPO / "README.md", REPO / "clients" / "python" / "README.md"]


def blocks() -> List[Tuple[str, str]]:
    found = []
    for page in PAGES:
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL)):
            found.append((f"{page.relative_to(REPO)}#{i + 1}", code))
    return found


def test_the_pages_show_python() -> None:
    assert len(blocks()) >= 2


@pytest.mark.parametrize("place, code", blocks(), ids=[p for p, _ in blocks()])
@pytest.mark.parametrize("module", [True, False], ids=["module", "library"])
def test_each_block_runs(server: ServerFactory, place: str, code: str, module: bool) -> None:
    s = server(pick("redis70"), module)
    # Every client the block makes, pointed at the test server (`Redis(port=N, )` is valid).
    here = re.sub(r"redis\.(asyncio\.)?Redis\((port=6399)?", lambda m: f"redis.{m.group(1) or ''}Redis(port={s.port}, ", code)
    assert f"port={s.port}" in here or "Redis(" not in code, f"{place}: no client to point at the test server"
    exec(compile(here, place, "exec"), {"__name__": "__doc_example__"})

