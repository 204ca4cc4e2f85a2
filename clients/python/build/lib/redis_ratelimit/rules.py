"""The rules: an algorithm and its numbers, checked when the rule is made.

A rule is a value (frozen, hashable) that travels with each call, so a tenant's tier can
change at any moment: a call with other numbers applies them to the stored state, never a
reset. Durations take milliseconds (``int``), the commands' strings (``"1m"``, ``"1500ms"``)
or a :class:`~datetime.timedelta`; they are sent to Redis as milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, Tuple, Union

__all__ = ["Duration", "Rule", "Fixed", "Sliding", "Log", "Token", "Leaky", "Concurrent"]

#: Milliseconds (an ``int``), the commands' own strings (``"1m"``, ``"1500ms"``) or a
#: :class:`~datetime.timedelta` of whole milliseconds.
Duration = Union[int, str, timedelta]

I64_MAX = 2**63 - 1
_UNITS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d)?", re.IGNORECASE)


def positive(value: object, what: str) -> int:
    """``value`` if it is an integer from 1 to 2^63-1 (the commands' range), else an error."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 1 <= value <= I64_MAX:
        raise ValueError(f"{what} must be an integer from 1 to {I64_MAX}, not {value}")
    return value


def milliseconds(value: Duration, what: str) -> int:
    """A duration in whole milliseconds, at least 1."""
    if isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        if micros % 1000:
            raise ValueError(f"{what} must be whole milliseconds, not {value}")
        return positive(micros // 1000, what)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match is None:
            raise ValueError(f"{what} must be milliseconds or a number with ms, s, m, h or d, not {value!r}")
        count, unit = match.groups()
        return positive(int(count) * _UNITS[(unit or "ms").lower()], what)
    return positive(value, what)


def spelled(ms: int) -> str:
    """``ms`` in the largest unit that divides it: ``60000`` -> ``"1m"``."""
    for unit, size in _UNITS.items():
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"  # pragma: no cover (every integer is a multiple of 1 ms)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class Rule:
    """An algorithm and its numbers. Use one of its kinds: :class:`Fixed`, :class:`Sliding`,
    :class:`Log`, :class:`Token`, :class:`Leaky` or :class:`Concurrent`."""

    #: The spec word of ``RL.ALL``, and the command ``RL.<word>`` / function ``rl_<word>``.
    word: ClassVar[str]
    #: The ``qu`` of the ``RateLimit-Policy`` header ("requests" is the draft's default).
    quota_unit: ClassVar[str] = "requests"
    #: The policy's name in the headers ("" derives one from the rule: see :attr:`policy`).
    name: str

    if TYPE_CHECKING:

        @property
        def limit(self) -> int:
            """The quota: ``limit`` or ``capacity``."""

        @property
        def window_ms(self) -> int:
            """The time the quota applies to: the ``w`` of ``RateLimit-Policy``."""

    def arguments(self) -> Tuple[str, ...]:
        """The numbers as the commands take them, durations in milliseconds."""
        raise NotImplementedError

    def _label(self) -> str:
        raise NotImplementedError

    @property
    def policy(self) -> str:
        """The policy name of the headers: :attr:`name`, or one derived from the rule
        (``Sliding(100, "1m")`` -> ``"sliding-100-1m"``)."""
        return self.name or f"{self.word.lower()}-{self._label()}"


def _name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    return name


@dataclass(frozen=True, init=False)
class _Windowed(Rule):
    limit: int
    window_ms: int
    name: str = ""

    def __init__(self, limit: int, window: Duration, name: str = "") -> None:
        object.__setattr__(self, "limit", positive(limit, "limit"))
        object.__setattr__(self, "window_ms", milliseconds(window, "window"))
        object.__setattr__(self, "name", _name(name))

    def arguments(self) -> Tuple[str, ...]:
        return (str(self.limit), str(self.window_ms))

    def _label(self) -> str:
        return f"{self.limit}-{spelled(self.window_ms)}"


class Fixed(_Windowed):
    """``limit`` per ``window``, windows aligned to the Unix epoch (``RL.FIXED``)."""

    word = "FIXED"


class Sliding(_Windowed):
    """``limit`` per ``window``, the previous window weighted in (``RL.SLIDING``)."""

    word = "SLIDING"


class Log(_Windowed):
    """Exactly ``limit`` in any ``window``: every request's time is kept (``RL.LOG``)."""

    word = "LOG"


@dataclass(frozen=True, init=False)
class _Bucket(Rule):
    capacity: int
    rate: int
    period_ms: int
    name: str = ""

    def __init__(self, capacity: int, rate: int, period: Duration, name: str = "") -> None:
        object.__setattr__(self, "capacity", positive(capacity, "capacity"))
        object.__setattr__(self, "rate", positive(rate, "rate"))
        object.__setattr__(self, "period_ms", milliseconds(period, "period"))
        object.__setattr__(self, "name", _name(name))

    @property
    def limit(self) -> int:
        return self.capacity

    @property
    def window_ms(self) -> int:
        """The time ``rate`` per ``period`` takes to refill (or drain) the whole capacity."""
        return _ceil_div(self.capacity * self.period_ms, self.rate)

    def arguments(self) -> Tuple[str, ...]:
        return (str(self.capacity), str(self.rate), str(self.period_ms))

    def _label(self) -> str:
        return f"{self.capacity}-{self.rate}-{spelled(self.period_ms)}"


class Token(_Bucket):
    """A bucket of ``capacity`` tokens refilled at ``rate`` per ``period`` (``RL.TOKEN``)."""

    word = "TOKEN"


class Leaky(_Bucket):
    """A queue of ``capacity`` leaving at ``rate`` per ``period``, evenly spaced: an admitted
    request waits its ``delay_ms`` instead of being refused (``RL.LEAKY``)."""

    word = "LEAKY"


@dataclass(frozen=True, init=False)
class Concurrent(Rule):
    """At most ``limit`` holders at once, each lease ending ``lease`` after it was taken or
    last renewed (``RL.CONCURRENT``): a holder that crashes gives its slot back."""

    limit: int
    lease_ms: int
    name: str = ""

    word: ClassVar[str] = "CONCURRENT"
    quota_unit: ClassVar[str] = "concurrent-requests"

    def __init__(self, limit: int, lease: Duration, name: str = "") -> None:
        object.__setattr__(self, "limit", positive(limit, "limit"))
        object.__setattr__(self, "lease_ms", milliseconds(lease, "lease"))
        object.__setattr__(self, "name", _name(name))

    @property
    def window_ms(self) -> int:
        return self.lease_ms

    def arguments(self) -> Tuple[str, ...]:
        return (str(self.limit), str(self.lease_ms))

    def _label(self) -> str:
        return f"{self.limit}-{spelled(self.lease_ms)}"
