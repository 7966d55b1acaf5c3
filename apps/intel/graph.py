"""The link table read as a graph: neighbourhoods in a few indexed queries, paths with networkx.

The link table is stored once per pair (``src_id < dst_id``) and indexed both ways, so the
links of a set of elements are two index range scans (``src_id IN`` ∪ ``dst_id IN``). A
two-hop neighbourhood is two such rounds; the same SQL runs on PostgreSQL and on the
embedded SQLite default, so there is one code path and no fallback to keep in step.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import networkx as nx
from django.db import connection

from . import domain

#: A neighbourhood stops growing past this many links (a hub such as a busy pier would
#: otherwise pull half the county into a picture no one can read).
MAX_LINKS = 2000
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class LinkFilter:
    min_confidence: float = 0.0
    start: datetime | None = None  # links whose span overlaps [start, end]
    end: datetime | None = None
    kinds: tuple[str, ...] = ()
    include_retired: bool = False
    #: which of these element ids the user may see (None: all); asked once per ring, so a
    #: department user's neighbourhood never loads the whole registry's ids
    visible: Callable[[set[int]], set[int]] | None = None


def _where(f: LinkFilter) -> tuple[str, list]:
    sql, params = [], []
    if not f.include_retired:
        sql.append("l.active = %s")
        params.append(True)
    if f.min_confidence > 0:
        sql.append("l.confidence >= %s")
        params.append(f.min_confidence)
    if f.start is not None:
        sql.append("(l.end IS NULL OR l.end >= %s)")
        params.append(f.start)
    if f.end is not None:
        sql.append("(l.start IS NULL OR l.start <= %s)")
        params.append(f.end)
    if f.kinds:
        sql.append(f"l.kind IN ({', '.join(['%s'] * len(f.kinds))})")
        params.extend(f.kinds)
    return (" AND " + " AND ".join(sql) if sql else ""), params


_COLUMNS = (
    "l.id, l.src_id, l.dst_id, l.kind, l.source, l.label, l.confidence, l.start, l.end, l.seen_count, l.active, "
    "c.number, c.status"
)


def links_of(ids: Iterable[int], f: LinkFilter = LinkFilter(), *, limit: int = MAX_LINKS) -> list[tuple]:
    """Links touching any of ``ids`` (both directions), as rows of :data:`_COLUMNS`."""
    ids = sorted(set(ids))
    out: dict[int, tuple] = {}
    extra, extra_params = _where(f)
    table = "intel_link"
    q = connection.ops.quote_name
    cols = _COLUMNS.replace("l.end", f"l.{q('end')}").replace("l.start", f"l.{q('start')}")
    extra = extra.replace("l.end", f"l.{q('end')}").replace("l.start", f"l.{q('start')}")
    with connection.cursor() as cur:
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            sql = (
                f"SELECT {cols} FROM {table} l LEFT JOIN enforcement_case c ON c.id = l.case_id "
                f"WHERE l.src_id IN ({marks}){extra} "
                f"UNION ALL SELECT {cols} FROM {table} l LEFT JOIN enforcement_case c ON c.id = l.case_id "
                f"WHERE l.dst_id IN ({marks}){extra} LIMIT %s"
            )
            cur.execute(sql, [*chunk, *extra_params, *chunk, *extra_params, limit + 1])
            for row in cur.fetchall():
                out[row[0]] = row
            if len(out) > limit:
                break
    rows = list(out.values())
    if f.visible is not None and rows:
        ok = f.visible({r[1] for r in rows} | {r[2] for r in rows})
        rows = [r for r in rows if r[1] in ok and r[2] in ok]
    return rows[:limit]


def neighbourhood(starts: Iterable[int], *, hops: int = 2, f: LinkFilter = LinkFilter(),
                  limit: int = MAX_LINKS) -> tuple[set[int], list[tuple]]:
    """(element ids, link rows) within ``hops`` links of ``starts``."""
    seen = set(starts)
    frontier = set(seen)
    rows: dict[int, tuple] = {}
    for _hop in range(hops):
        if not frontier or len(rows) >= limit:
            break
        found = links_of(frontier, f, limit=limit - len(rows))
        nxt = set()
        for r in found:
            rows[r[0]] = r
            for n in (r[1], r[2]):
                if n not in seen:
                    seen.add(n)
                    nxt.add(n)
        frontier = nxt
    return seen, list(rows.values())


def row_edge(r: tuple) -> domain.Edge:
    closed = r[11] if r[12] == "closed" else None
    return domain.Edge(id=r[0], a=r[1], b=r[2], kind=r[3], label=r[5] or (r[11] or ""), closed_case=closed)


def nx_graph(node_ids: Iterable[int], rows: Iterable[tuple]) -> nx.MultiGraph:
    g = nx.MultiGraph()
    g.add_nodes_from(node_ids)
    for r in rows:
        # a more confident link is a shorter step
        g.add_edge(r[1], r[2], key=r[0], kind=r[3], weight=1.0 + (1.0 - float(r[6])))
    return g


def shortest_path(a: int, b: int, *, f: LinkFilter = LinkFilter(), max_hops: int = 6) -> tuple[list[int], list[tuple]] | None:
    """The shortest chain of links from ``a`` to ``b`` (bidirectional search over the link table).

    Grows a neighbourhood from both ends, one ring at a time, until they meet, then lets
    networkx pick the best path (fewest links, then most confident) in what was read.
    """
    if a == b:
        return [a], []
    side_a, side_b = {a}, {b}
    front_a, front_b = {a}, {b}
    rows: dict[int, tuple] = {}
    for step in range(max_hops):
        grow_a = len(front_a) <= len(front_b)
        front = front_a if grow_a else front_b
        if not front:
            return None
        nxt = set()
        for r in links_of(front, f):
            rows[r[0]] = r
            for n in (r[1], r[2]):
                if n not in (side_a if grow_a else side_b):
                    nxt.add(n)
        (side_a if grow_a else side_b).update(nxt)
        if grow_a:
            front_a = nxt
        else:
            front_b = nxt
        if side_a & side_b:
            break
    else:
        return None
    if not side_a & side_b:
        return None
    g = nx_graph(side_a | side_b, rows.values())
    try:
        nodes = nx.shortest_path(g, a, b, weight="weight")
    except nx.NetworkXNoPath:
        return None
    used = []
    for u, v in zip(nodes, nodes[1:]):
        best = min(g.get_edge_data(u, v).items(), key=lambda kv: kv[1]["weight"])
        used.append(rows[best[0]])
    return nodes, used


def communities(node_ids: Iterable[int], rows: Iterable[tuple]) -> dict[int, int]:
    """Element id → community number (greedy modularity), for colouring groups of a network."""
    g = nx.Graph()
    g.add_nodes_from(node_ids)
    for r in rows:
        g.add_edge(r[1], r[2])
    if g.number_of_edges() == 0:
        return {n: i for i, n in enumerate(g.nodes)}
    out = {}
    for i, group in enumerate(nx.community.greedy_modularity_communities(g)):
        for n in group:
            out[n] = i
    return out
