"""One query builder for every backend: a :class:`Search` becomes an FTS5 query or a DSL body.

Free text is a list of terms, all required (AND): a bare word, or a ``"quoted phrase"``.
A term is split into tokens exactly as the index analyses text (see
:mod:`bastion.audit.schema`), so ``users.email`` or ``/etc/passwd`` are phrases of two
tokens and match the same documents in sqlite and in OpenSearch. Filters are exact
keyword matches (several values of one filter: any of them). Results are sorted by time
(ties by document id) and paged with ``search_after``: the opaque ``Page.next_cursor`` is
the sort key of the last hit, so page N costs the same as page 1.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bastion.audit.schema import FILTER_FIELDS, TEXT_FIELDS

MAX_SIZE = 1000
TOTAL_LIMIT = 10_000
"""Totals are exact up to this many hits; beyond it ``Page.total_exact`` is False."""
HL_PRE, HL_POST = "\x02", "\x03"
"""Highlight markers inside engines' fragments, turned into ``<mark>`` after HTML escaping."""

_TERM_RE = re.compile(r'"([^"]*)"|(\S+)')
_SPLIT_RE = re.compile(r"[\W]+", re.UNICODE)


@dataclass(frozen=True)
class Search:
    """A search over the audit index; every field is optional."""

    text: str = ""
    user: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    protocol: tuple[str, ...] = ()
    verdict: tuple[str, ...] = ()
    rule: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    session: tuple[str, ...] = ()
    since: float | None = None
    """Epoch seconds, inclusive."""
    until: float | None = None
    """Epoch seconds, exclusive."""
    order: Literal["newest", "oldest"] = "newest"
    size: int = 50
    after: str | None = None
    """``Page.next_cursor`` of the previous page."""
    highlight: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_SIZE:
            raise ValueError(f"size must be between 1 and {MAX_SIZE}")
        if self.order not in ("newest", "oldest"):
            raise ValueError("order must be newest or oldest")

    def filters(self) -> dict[str, tuple[str, ...]]:
        return {f: getattr(self, f) for f in FILTER_FIELDS if getattr(self, f)}


@dataclass(frozen=True)
class Hit:
    """One matching document; ``highlights`` maps a text field to HTML-safe fragments."""

    id: str
    time: float
    doc: dict[str, Any]
    highlights: dict[str, list[str]] = field(default_factory=dict)
    sort: tuple[int, str] = (0, "")


@dataclass(frozen=True)
class Page:
    hits: list[Hit]
    next_cursor: str | None
    total: int
    total_exact: bool = True


def terms(text: str) -> list[list[str]]:
    """Free text -> required terms, each a list of tokens (more than one: a phrase)."""
    out: list[list[str]] = []
    for m in _TERM_RE.finditer(text):
        raw = m.group(1) if m.group(1) is not None else m.group(2)
        tokens = [t.lower() for t in _SPLIT_RE.split(raw) if t]
        if tokens:
            out.append(tokens)
    return out


def encode_cursor(sort: tuple[int, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(sort)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        time_ms, doc = json.loads(raw)
        return int(time_ms), str(doc)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc


def mark(fragment: str) -> str:
    """Escape an engine fragment and turn its markers into ``<mark>`` tags."""
    return html.escape(fragment).replace(HL_PRE, "<mark>").replace(HL_POST, "</mark>")


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


# --------------------------------------------------------------------------- FTS5


def fts_match(q: Search) -> str:
    """The FTS5 MATCH expression (empty when there is no free text)."""
    return " AND ".join('"' + " ".join(tokens) + '"' for tokens in terms(q.text))


def sql_where(q: Search, alias: str = "d") -> tuple[list[str], list[Any]]:
    """WHERE clauses and parameters for filters, the time range and the cursor."""
    clauses: list[str] = []
    params: list[Any] = []
    for name, values in q.filters().items():
        clauses.append(f"{alias}.{name} IN ({','.join('?' * len(values))})")
        params.extend(values)
    if q.since is not None:
        clauses.append(f"{alias}.time >= ?")
        params.append(_ms(q.since))
    if q.until is not None:
        clauses.append(f"{alias}.time < ?")
        params.append(_ms(q.until))
    if q.after:
        time_ms, doc = decode_cursor(q.after)
        op = "<" if q.order == "newest" else ">"
        clauses.append(f"({alias}.time {op} ? OR ({alias}.time = ? AND {alias}.id {op} ?))")
        params.extend([time_ms, time_ms, doc])
    return clauses, params


def sql_order(q: Search, alias: str = "d") -> str:
    direction = "DESC" if q.order == "newest" else "ASC"
    return f"ORDER BY {alias}.time {direction}, {alias}.id {direction}"


# --------------------------------------------------------------------------- OpenSearch / Elasticsearch DSL


def dsl(q: Search, track_total: int = TOTAL_LIMIT) -> dict[str, Any]:
    """The search request body (query, sort, search_after, highlight)."""
    must: list[dict[str, Any]] = []
    for tokens in terms(q.text):
        must.append({"multi_match": {"query": " ".join(tokens), "fields": list(TEXT_FIELDS),
                                     "type": "phrase" if len(tokens) > 1 else "best_fields",
                                     "operator": "and"}})
    filters: list[dict[str, Any]] = [{"terms": {name: list(values)}} for name, values in q.filters().items()]
    time_range: dict[str, int] = {}
    if q.since is not None:
        time_range["gte"] = _ms(q.since)
    if q.until is not None:
        time_range["lt"] = _ms(q.until)
    if time_range:
        filters.append({"range": {"time": time_range}})
    direction = "desc" if q.order == "newest" else "asc"
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "sort": [{"time": {"order": direction}}, {"id": {"order": direction}}],
        "size": q.size,
        "track_total_hits": track_total,
    }
    if q.after:
        body["search_after"] = list(decode_cursor(q.after))
    if q.highlight and must:
        body["highlight"] = {"pre_tags": [HL_PRE], "post_tags": [HL_POST], "require_field_match": True,
                             "fields": {f: {"fragment_size": 160, "number_of_fragments": 3} for f in TEXT_FIELDS}}
    return body


def page_from_dsl(response: dict[str, Any], q: Search) -> Page:
    """Turn an engine response into a :class:`Page`."""
    hits: list[Hit] = []
    for raw in response["hits"]["hits"]:
        src = raw["_source"]
        sort = (int(raw["sort"][0]), str(raw["sort"][1])) if raw.get("sort") else (int(src["time"]), src["id"])
        hl = {f: [mark(x) for x in frags] for f, frags in (raw.get("highlight") or {}).items()}
        hits.append(Hit(id=src["id"], time=src["time"] / 1000, doc=src, highlights=hl, sort=sort))
    total = response["hits"].get("total") or {"value": len(hits), "relation": "eq"}
    cursor = encode_cursor(hits[-1].sort) if len(hits) == q.size else None
    return Page(hits, cursor, int(total["value"]), total.get("relation", "eq") == "eq")
