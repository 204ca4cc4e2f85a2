"""The package's errors. A connection error or a timeout is the Redis client's own."""

from __future__ import annotations

__all__ = ["RateLimitError", "BackendUnavailable", "CrossSlotError"]


class RateLimitError(Exception):
    """The server refused a call (bad arguments, WRONGTYPE, unreadable state, the script
    library's 2^53 error): the message is the server's."""


class BackendUnavailable(RateLimitError):
    """No way to rate-limit on a node: the module is not loaded there, and the ACL user may
    not call (or load) the script library. The message names the commands it lacks."""


class CrossSlotError(ValueError):
    """The keys of one ``hit_all`` are in different cluster slots (use a hash tag:
    ``{tenant}:user``, ``{tenant}:ip``); raised before anything is sent."""
