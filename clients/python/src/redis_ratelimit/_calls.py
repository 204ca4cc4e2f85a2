"""The operations as calls (words checked here, before anything is sent), and where they go."""

from __future__ import annotations

import uuid
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

from ._backend import Backends, Call
from .errors import CrossSlotError
from .rules import Concurrent, Rule, positive

#: A holder's id: any bytes, 1 to 256 of them (a ``str`` counts as its UTF-8 bytes).
Id = Union[str, bytes]
MAX_ID = 256
MAX_KEYS = 16


def holder(id: Id) -> Id:
    if not isinstance(id, (str, bytes)):
        raise TypeError(f"id must be a str or bytes, not {type(id).__name__}")
    size = len(id.encode("utf-8") if isinstance(id, str) else id)
    if not 1 <= size <= MAX_ID:
        raise ValueError(f"id must be 1 to {MAX_ID} bytes, not {size}")
    return id


def new_id() -> str:
    """A fresh holder id for a lease whose caller named none."""
    return uuid.uuid4().hex


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"key must be a str, not {type(key).__name__}")
    return key


def _rate(rule: object, operation: str) -> Rule:
    if not isinstance(rule, Rule):
        raise TypeError(f"rule must be a Rule (Fixed, Sliding, Log, Token, Leaky), not {type(rule).__name__}")
    if isinstance(rule, Concurrent):
        raise TypeError(f"{operation} takes a rate rule; a Concurrent rule takes acquire, release or lease")
    return rule


def _concurrent(rule: object) -> Concurrent:
    if not isinstance(rule, Concurrent):
        raise TypeError(f"leases take a Concurrent rule, not {type(rule).__name__}")
    return rule


def _cost(cost: int) -> Tuple[str, ...]:
    return () if positive(cost, "cost") == 1 else ("COST", str(cost))


def hit(key: str, rule: Rule, cost: int, force: bool) -> Call:
    rule = _rate(rule, "hit")
    words = (*rule.arguments(), *_cost(cost), *(("FORCE",) if force else ()))
    return Call("RL." + rule.word, (_key(key),), (rule,), words, charges=True)


def peek(key: str, rule: Rule, cost: int, id: Optional[Id]) -> Call:
    if isinstance(rule, Concurrent):
        if id is None:
            raise TypeError("peek of a Concurrent rule needs the holder's id")
        return Call("RL.CONCURRENT", (_key(key),), (rule,), (*rule.arguments(), holder(id), "PEEK"), charges=False)
    rule = _rate(rule, "peek")
    return Call("RL." + rule.word, (_key(key),), (rule,), (*rule.arguments(), *_cost(cost), "PEEK"), charges=False)


def refund(key: str, rule: Rule, amount: int) -> Call:
    rule = _rate(rule, "refund")
    return Call("RL." + rule.word, (_key(key),), (rule,), (*rule.arguments(), "REFUND", str(positive(amount, "amount"))), charges=False)


def lease(key: str, rule: Concurrent, id: Id, release: bool) -> Call:
    rule = _concurrent(rule)
    words = (*rule.arguments(), holder(id), *(("RELEASE",) if release else ()))
    return Call("RL.CONCURRENT", (_key(key),), (rule,), words, charges=not release)


def hit_all(rules: Mapping[str, Rule], cost: int, id: Optional[Id], peek: bool) -> Call:
    if not isinstance(rules, Mapping) or not rules:
        raise ValueError("hit_all takes a mapping of at least one key to its rule")
    if len(rules) > MAX_KEYS:
        raise ValueError(f"hit_all takes at most {MAX_KEYS} keys, not {len(rules)}")
    keys = tuple(_key(k) for k in rules)
    checked = tuple(r if isinstance(r, Concurrent) else _rate(r, "hit_all") for r in rules.values())
    leases = any(isinstance(r, Concurrent) for r in checked)
    if leases and id is None:
        raise TypeError("hit_all with a Concurrent rule needs the holder's id")
    if id is not None and not leases:
        raise TypeError("hit_all takes an id only with a Concurrent rule")
    words: List[Union[str, bytes]] = [w for r in checked for w in (r.word, *r.arguments())]
    words += _cost(cost)
    if id is not None:
        words += ("ID", holder(id))
    if peek:
        words.append("PEEK")
    return Call("RL.ALL", keys, checked, tuple(words), charges=not peek)


class Route:
    """Where a call goes: the node that owns its keys' slot on a cluster client (redis-py's
    or valkey-py's ``RedisCluster``), the client's one server otherwise."""

    def __init__(self, client: Any) -> None:
        self.cluster = callable(getattr(client, "get_node_from_key", None)) and callable(getattr(client, "get_primaries", None))
        self.client = client

    def check_slots(self, call: Call) -> None:
        if self.cluster and len(call.keys) > 1:
            slots = {self.client.keyslot(k) for k in call.keys}
            if len(slots) > 1:
                raise CrossSlotError(
                    f"the keys {', '.join(call.keys)} are in {len(slots)} cluster slots; one call needs one: "
                    "give them a hash tag ({tenant}:user, {tenant}:ip)"
                )

    def node(self, call: Call) -> Tuple[Any, str]:
        if not self.cluster:
            return None, ""
        owner = self.client.get_node_from_key(call.keys[0])
        return owner, str(owner.name)

    def primaries(self) -> Sequence[Tuple[Any, str]]:
        if not self.cluster:
            return ()
        return [(n, str(n.name)) for n in self.client.get_primaries()]

    def args(self, node: Any) -> Mapping[str, Any]:
        """The keyword arguments of ``execute_command`` that send to ``node``."""
        return {"target_nodes": node} if self.cluster else {}


__all__ = ["Backends", "Call", "Route", "Id", "new_id"]
