"""Pure rules of the key-element registry (no Django): identifiers, masking, collision factors.

Collision rule (documented in docs/architecture.md and used by ``collision.py``):

* ``watchlist`` — the warning's vessel is itself a key element with a watch level: 1.0;
  a watched element one link away (its owner, its crew): 0.7; two links away: 0.4.
* ``history`` — the vessel itself was in a closed case: 1.0; an element one link away
  was (the owner's ``same_case`` link to a closed case): 0.7; two links away: 0.4.
* A factor only ever goes up (the detector's own value is kept when it is higher).
* A new link that connects a live warning to a closed case within two hops raises the
  warning one level (blue → yellow → orange → red), at most once per case.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

LEVELS = ("blue", "yellow", "orange", "red")
WATCH_FACTOR_BY_HOPS = {0: 1.0, 1: 0.7, 2: 0.4}
HISTORY_FACTOR_BY_HOPS = {0: 1.0, 1: 0.7, 2: 0.4}

_PLATE_RE = re.compile(r"[\u4e00-\u9fa5][A-Z][·•.\-\s]?[A-Z0-9]{5,6}")
_PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_RE = re.compile(r"^\d{17}[\dX]$")


def normalise_plate(text: str) -> str:
    """``浙b·12345`` → ``浙B12345`` (full-width folded, separators dropped, upper case)."""
    t = unicodedata.normalize("NFKC", text or "").upper()
    return re.sub(r"[\s·•.\-]", "", t)


def normalise_phone(text: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text or ""))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def valid_id_number(text: str) -> bool:
    """An 18-character resident ID with a correct ISO 7064 check digit."""
    t = (text or "").strip().upper()
    if not _ID_RE.match(t):
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(t[:17], weights))
    return "10X98765432"[total % 11] == t[17]


def mask_id_number(text: str) -> str:
    """``330225199001011234`` → ``330225********1234``."""
    t = (text or "").strip()
    if len(t) <= 10:
        return "*" * len(t)
    return t[:6] + "*" * (len(t) - 10) + t[-4:]


def mask_name(name: str) -> str:
    """``张三丰`` → ``张某`` (surname kept, as case reports write it)."""
    n = (name or "").strip()
    return f"{n[0]}某" if n else ""


def plates_in(text: str) -> list[str]:
    return [normalise_plate(m) for m in _PLATE_RE.findall(unicodedata.normalize("NFKC", text or "").upper())]


def phones_in(text: str) -> list[str]:
    return _PHONE_RE.findall(unicodedata.normalize("NFKC", text or ""))


# --------------------------------------------------------------------------- the graph
@dataclass(frozen=True, slots=True)
class Edge:
    id: int
    a: int
    b: int
    kind: str
    label: str = ""
    closed_case: str | None = None  # the case number when the edge is a link of a closed case

    def other(self, node: int) -> int:
        return self.b if node == self.a else self.a


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    kind: str
    label: str
    watch_level: str = ""
    roles: str = ""


@dataclass
class Collision:
    """What the graph says about a set of start elements (a warning's vessels)."""

    watchlist: float = 0.0
    history: float = 0.0
    chains: list[dict] = field(default_factory=list)
    closed_cases: set[str] = field(default_factory=set)

    @property
    def hit(self) -> bool:
        return bool(self.chains)


def two_hop_paths(starts: Iterable[int], edges: Sequence[Edge]) -> dict[int, list[Edge]]:
    """Shortest path (as edges, ≤ 2) from any start to every node within two hops."""
    adj: dict[int, list[Edge]] = {}
    for e in edges:
        adj.setdefault(e.a, []).append(e)
        adj.setdefault(e.b, []).append(e)
    paths: dict[int, list[Edge]] = {s: [] for s in starts}
    frontier = list(paths)
    for _hop in range(2):
        nxt = []
        for n in frontier:
            for e in sorted(adj.get(n, ()), key=lambda x: x.id):
                o = e.other(n)
                if o not in paths:
                    paths[o] = [*paths[n], e]
                    nxt.append(o)
        frontier = nxt
    return paths


def collide(starts: Iterable[int], nodes: Mapping[int, Node], edges: Sequence[Edge]) -> Collision:
    """Watch-list and case history reached from ``starts`` within two links (the rule above)."""
    starts = list(starts)
    paths = two_hop_paths(starts, edges)
    out = Collision()
    for node_id, path in sorted(paths.items(), key=lambda kv: (len(kv[1]), kv[0])):
        node = nodes.get(node_id)
        if node is None:
            continue
        hops = len(path)
        reasons = []
        if node.watch_level:
            out.watchlist = max(out.watchlist, WATCH_FACTOR_BY_HOPS[hops])
            reasons.append(node.watch_level)
        # a closed case on the node's own links (not the one that led here) counts at the node's distance
        cases = sorted({e.closed_case for e in edges if e.closed_case and node_id in (e.a, e.b)})
        if cases:
            out.history = max(out.history, HISTORY_FACTOR_BY_HOPS[hops])
            out.closed_cases.update(cases)
        if not reasons and not cases:
            continue
        out.chains.append({
            "element": node_id,
            "hops": hops,
            "watch_level": node.watch_level,
            "cases": cases,
            "path": _path_nodes(path, starts, nodes),
            "text": chain_text(path, starts, nodes, cases=cases),
        })
    return out


def _path_nodes(path: Sequence[Edge], starts: Sequence[int], nodes: Mapping[int, Node]) -> list[int]:
    if not path:
        return [n for n in starts if n in nodes][:1]
    first = path[0].a if path[0].a in starts else path[0].b
    seq = [first]
    for e in path:
        seq.append(e.other(seq[-1]))
    return seq


WATCH_TEXT = {"attention": "关注", "key": "重点", "control": "布控"}
LINK_TEXT = {"owns": "所有", "drives": "驾驶", "crews": "船员", "called": "通话", "paid": "资金往来", "uses": "使用",
             "seen_together": "同现", "same_case": "同案", "goods_traced": "货物溯源"}
KIND_TEXT = {"person": "人员", "vehicle": "车辆", "vessel": "船舶", "company": "企业", "phone": "电话", "place": "场所"}


def node_text(node: Node, cases: Sequence[str] = ()) -> str:
    tags = []
    if node.watch_level:
        tags.append(f"{WATCH_TEXT.get(node.watch_level, node.watch_level)}{KIND_TEXT.get(node.kind, '')}")
    tags.extend(f"{c}案" for c in cases)
    role = node.roles.split(",")[0].strip() if node.roles else ""
    head = f"{role} {node.label}" if role else node.label
    return f"{head}（{'，'.join(tags)}）" if tags else head


def chain_text(path: Sequence[Edge], starts: Sequence[int], nodes: Mapping[int, Node], *, cases: Sequence[str] = ()) -> str:
    """``船舶 浙象渔123 — 船主 张某（重点人员，3·12案）``: the chain from the start to the hit."""
    seq = _path_nodes(path, starts, nodes)
    parts = []
    for i, n in enumerate(seq):
        node = nodes.get(n)
        if node is None:
            continue
        text = node_text(node, cases if i == len(seq) - 1 else ())
        if i > 0:
            e = path[i - 1]
            via = f"（{e.label}）" if e.label else ""
            text = f"{LINK_TEXT.get(e.kind, e.kind)}{via} — {text}"
        parts.append(text)
    return " — ".join(parts)


def raise_level(level: str | None, steps: int = 1) -> str:
    """One level up per step, capped at red; no level counts as below blue."""
    i = LEVELS.index(level) if level in LEVELS else -1
    return LEVELS[min(i + steps, len(LEVELS) - 1)]
