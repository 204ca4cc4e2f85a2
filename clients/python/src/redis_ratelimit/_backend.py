"""Which path serves a call on a node, found once per node, with no I/O of its own.

The logic is written once, as generators that yield :class:`Send` requests and receive each
reply (or have the client's exception thrown in): :mod:`.limiter` drives them with a blocking
client, :mod:`.aio` with an asyncio one.

Per node: the module's command first (``RL.*``); where the server does not know it, or the ACL
user may not call it, the Functions library (``FCALL rl_*``), loaded by the package where it is
missing or older than its own copy (on every primary of a cluster, never replacing a newer one);
where FUNCTION is not offered or not permitted, the script (``EVALSHA``, sent whole with
``EVAL`` once after a ``NOSCRIPT``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Generator, Optional, Sequence, Set, Tuple, Union

from . import _library
from .decision import Decision
from .errors import BackendUnavailable, RateLimitError
from .rules import Rule

MODULE, FUNCTION, SCRIPT = "module", "function", "script"
BACKENDS = (MODULE, FUNCTION, SCRIPT)


@dataclass(frozen=True)
class Send:
    """One command for one node (None: the client's one server)."""

    args: Tuple[Any, ...]
    node: Any


@dataclass(frozen=True)
class Call:
    """A call, whichever path serves it: the command, its keys, and the words after them."""

    command: str  # RL.FIXED ... RL.CONCURRENT, RL.ALL
    keys: Tuple[str, ...]
    rules: Tuple[Rule, ...]
    #: str, or bytes for a holder id given as bytes.
    words: Tuple[Union[str, bytes], ...]
    #: A check of its rules (hit, hit_all, acquire), counted by the metrics; not a peek, a
    #: refund or a release.
    charges: bool

    @property
    def function(self) -> str:
        return "rl_" + self.command[3:].lower()

    def module(self) -> Tuple[Any, ...]:
        if self.command == "RL.ALL":
            return (self.command, len(self.keys), *self.keys, *self.words)
        return (self.command, *self.keys, *self.words)

    def fcall(self) -> Tuple[Any, ...]:
        return ("FCALL", self.function, len(self.keys), *self.keys, *self.words)

    def script(self, whole: bool) -> Tuple[Any, ...]:
        head = ("EVAL", _library.SCRIPT) if whole else ("EVALSHA", _library.SCRIPT_SHA)
        return (*head, len(self.keys), *self.keys, self.function, *self.words)


@dataclass
class Node:
    """What one limiter knows of one node."""

    #: The module's commands may serve it (not yet found unknown or refused).
    module: bool = True
    #: FCALL may serve it (the library is there, or could not be looked at).
    function: bool = True
    #: FUNCTION LIST (and LOAD where needed) done.
    library_checked: bool = False
    #: EVALSHA finds the script cached; else EVAL sends it whole (once, or always where
    #: EVALSHA is refused).
    script_cached: bool = True
    evalsha_refused: bool = False
    #: The commands the ACL user was refused, for the error that says so.
    lacks: Set[str] = field(default_factory=set)
    #: The path that served the last call (or answered it with an error reply).
    backend: Optional[str] = None


Flow = Generator[Send, Any, Any]
#: Every primary of a cluster and its name (none for a client of one server).
Primaries = Callable[[], Sequence[Tuple[Any, str]]]


def _class_names(error: BaseException) -> Set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def is_server_error(error: BaseException) -> bool:
    """An error reply of the server, from redis-py or valkey-py (each has its own classes)."""
    return "ResponseError" in _class_names(error)


def _refused(error: BaseException, command: str) -> bool:
    """NOPERM for ``command`` (or one of its subcommands) itself, not for a command that a
    script calls."""
    text = str(error).lower()
    name = command.lower()
    named = f"'{name}'" in text or f"'{name}|" in text or f"`{name}`" in text
    return named and ("NoPermissionError" in _class_names(error) or "no permissions" in text or "noperm" in text)


def _unknown(error: BaseException) -> bool:
    text = str(error).lower()
    return "unknown command" in text or "unknown subcommand" in text


def _no_function(error: BaseException) -> bool:
    return "function not found" in str(error).lower()


def _no_script(error: BaseException) -> bool:
    text = str(error).lower()
    return "NoScriptError" in _class_names(error) or "noscript" in text or "no matching script" in text


class Backends:
    """Per-node knowledge, shared by a limiter's calls and threads: every update is
    idempotent, so a race costs at most a repeated probe."""

    def __init__(self, pinned: Optional[str] = None) -> None:
        if pinned is not None and pinned not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, or None, not {pinned!r}")
        self.pinned = pinned
        self.nodes: Dict[str, Node] = {}

    def node(self, name: str) -> Node:
        known = self.nodes.get(name)
        if known is None:
            known = self.nodes.setdefault(name, Node())
        return known

    def serving(self) -> Optional[str]:
        """The path that served the last call of every node seen, where they agree (None where
        no node has answered yet, or nodes of a cluster are served by different paths)."""
        paths = {state.backend for state in list(self.nodes.values())}
        return paths.pop() if len(paths) == 1 else None

    def _path(self, state: Node) -> str:
        if self.pinned is not None:
            return self.pinned
        if state.module:
            return MODULE
        return FUNCTION if state.function else SCRIPT

    def run(self, call: Call, node: Any, name: str, primaries: Primaries = lambda: ()) -> Flow:
        """``call`` on ``node`` (``name``: ``host:port``, or "" for a client's one server),
        served by the first path that can; ``primaries``: every primary of a cluster, where
        the library is loaded when this node needs it. Returns the Decision."""
        state = self.node(name)
        reloaded = False
        for _ in range(8):  # every turn settles something: a path found missing, a script sent
            backend = self._path(state)
            if backend == FUNCTION and not state.library_checked:
                yield from self._prepare_library(node, name, primaries)
                if not state.function and self.pinned == FUNCTION:
                    raise BackendUnavailable(f"{_where(name)}: the pinned backend 'function' is not offered: {_lacking(state)}")
                continue
            if backend == MODULE:
                args = call.module()
            elif backend == FUNCTION:
                args = call.fcall()
            else:
                args = call.script(whole=not state.script_cached or state.evalsha_refused)
            command = str(args[0])
            try:
                reply = yield Send(args, node)
            except Exception as error:  # the client's errors: only the server's are looked at
                if not is_server_error(error):
                    raise
                refused = _refused(error, command)
                if refused:
                    state.lacks.add(command.upper())
                if backend == MODULE and (refused or _unknown(error)):
                    state.module = False
                elif backend == FUNCTION and _no_function(error) and not reloaded:
                    state.library_checked, reloaded = False, True  # flushed or restarted: load again
                elif backend == FUNCTION and (refused or _unknown(error) or _no_function(error)):
                    state.function = False
                elif backend == SCRIPT and command == "EVALSHA" and (refused or _no_script(error)):
                    state.script_cached = False
                    state.evalsha_refused = state.evalsha_refused or refused
                elif backend == SCRIPT and refused:
                    raise BackendUnavailable(f"{_where(name)}: no path to rate-limit: {_lacking(state)}") from None
                else:
                    state.backend = backend  # this path answered: the error is the call's own
                    raise RateLimitError(str(error)) from None
                if self.pinned == backend and backend != SCRIPT and not (backend == FUNCTION and reloaded and state.function):
                    raise BackendUnavailable(f"{_where(name)}: the pinned backend {backend!r} answered: {error}") from None
                continue
            state.backend = backend
            if backend == SCRIPT and not state.evalsha_refused:
                state.script_cached = True
            return Decision.from_reply(reply, call.keys, call.rules, backend)
        raise BackendUnavailable(f"{_where(name)}: no path answered: {_lacking(state)}")

    def _prepare_library(self, node: Any, name: str, primaries: Primaries) -> Flow:
        """The library on ``node`` and on every primary not yet looked at."""
        targets = [(node, name), *((n, m) for n, m in primaries() if m != name)]
        for target, target_name in targets:
            state = self.node(target_name)
            if not state.library_checked:
                state.function = yield from self._ensure_library(target, state)
                state.library_checked = True

    def _ensure_library(self, node: Any, state: Node) -> Flow:
        """Load the package's library on ``node`` where it is missing or older; whether FCALL
        can serve the node."""
        try:
            listing = yield Send(("FUNCTION", "LIST", "LIBRARYNAME", "ratelimit", "WITHCODE"), node)
        except Exception as error:
            if not is_server_error(error):
                raise
            if _unknown(error):
                return False  # no FUNCTION: Redis 6.2, or a service that renames it away
            if _refused(error, "FUNCTION"):
                state.lacks.add("FUNCTION LIST")
                return True  # cannot look: FCALL will tell whether it is there
            raise RateLimitError(str(error)) from None
        code = _library.code_in(listing)
        if code is not None and (_library.version_of(code) or (0, 0, 0)) >= _library.VERSION:
            return True
        try:
            yield Send(("FUNCTION", "LOAD", *(("REPLACE",) if code is not None else ()), _library.LIBRARY), node)
        except Exception as error:
            if not is_server_error(error):
                raise
            if "already exists" in str(error).lower():
                return True  # another client loaded it meanwhile
            if _refused(error, "FUNCTION"):
                state.lacks.add("FUNCTION LOAD")
            return code is not None  # an older library still serves; none: the script will
        return True


def _where(name: str) -> str:
    return name or "the server"


def _lacking(state: Node) -> str:
    if not state.lacks:
        return "the module is not loaded and the library cannot be used"
    return "the ACL user lacks " + ", ".join(sorted(state.lacks))
