"""The index document schema: journal record -> flat search document, and its mapping.

One journal record becomes one document (a ``recording`` record also yields ``output``
documents, see :mod:`bastion.audit.recordings`). Documents are derived data: the
journal stays the source of truth, and the same record always yields the same document
with the same id (``<node>:<seq>``), so indexing twice never duplicates anything.

Keyword fields are filtered exactly; text fields are analysed by ``audit_text`` (split on
white space, symbols and punctuation but not ``_``; lower case; diacritics folded), which the sqlite
backend mirrors with FTS5 ``unicode61 remove_diacritics 2 tokenchars '_'``. See
docs/audit.md for the event types and their fields.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

SCHEMA_VERSION = 2
"""Version of the event schema (``AuditEvent.schema``) and of the index document layout
(docs/audit.md; 2: executions of prepared statements are ``query`` records of their own)."""

KEYWORD_FIELDS = ("id", "node", "type", "session", "event_id", "user", "target", "protocol", "account",
                  "client_addr", "verdict", "rule", "result")
TEXT_FIELDS = ("statement", "command", "output", "path", "message")
FILTER_FIELDS = ("user", "target", "protocol", "verdict", "rule", "type", "session")
SESSION_FIELDS = ("user", "target", "protocol", "account", "client_addr")
SEPARATORS = ["whitespace", "symbol", *"!\"#%&'()*,-./:;?@[\\]{}", *"«»“”‘’„…—–¡¿·、。，：；！？"]
"""What separates words for the engine's ``char_group`` tokenizer: white space, symbols and
punctuation except ``_`` (a ``pattern`` tokenizer says the same but indexes 2-3x slower)."""


@dataclass(frozen=True)
class SessionInfo:
    """Who and where of a session, from its ``session.start``, copied onto every later event."""

    user: str = ""
    target: str = ""
    protocol: str = ""
    account: str = ""
    client_addr: str = ""

    @classmethod
    def from_start(cls, data: Mapping[str, Any]) -> SessionInfo:
        return cls(**{f: str(data.get(f) or "") for f in SESSION_FIELDS})


def doc_id(node: str, seq: int, part: str = "") -> str:
    """Deterministic document id; zero padding makes ids sort like sequence numbers."""
    return f"{node}:{seq:012d}{':' + part if part else ''}"


def index_name(prefix: str, at_ms: int) -> str:
    """The daily index of a document: ``<prefix>-YYYY.MM.DD`` (UTC)."""
    return f"{prefix}-{time.strftime('%Y.%m.%d', time.gmtime(at_ms / 1000))}"


_NO_SESSION = SessionInfo()
_NOTHING: Mapping[str, Any] = {}
_SCALARS = (str, int, float)


def _text(*values: Any) -> str:
    """The non-empty scalars among ``values``, one per line."""
    lines = [t for v in values if v.__class__ is str or isinstance(v, _SCALARS) if (t := str(v))]
    return lines[0] if len(lines) == 1 else "\n".join(lines)


def _verdict(data: Mapping[str, Any]) -> str:
    verdict = data.get("verdict")
    if isinstance(verdict, str):
        return verdict
    would = data.get("would")
    return would if isinstance(would, str) else ""  # audit-only shell commands: what policy would do


def statement_text(data: Mapping[str, Any]) -> str:
    """The searchable statement of a record: an execution of a prepared statement shows its
    (masked) parameters after it, as ``USING p1, p2``, the way ``EXECUTE … USING`` reads."""
    statement = str(data.get("statement") or "")
    params = data.get("params")
    if isinstance(params, list) and params:
        return f"{statement}\nUSING {', '.join(str(p) for p in params)}"
    return statement


def document(record: Mapping[str, Any], node: str, session: SessionInfo | None) -> dict[str, Any]:
    """The search document of one journal record (``{"seq", "prev", "hash", "event"}``).

    Runs once per indexed event: written for speed (one dict display, no per-field helper
    where a plain expression does), every field a ``str`` but ``seq``, ``schema``, ``time``
    and ``data`` (a copy of the event's data).
    """
    event = record["event"]
    data: Mapping[str, Any] = event.get("data") or _NOTHING
    get = data.get
    ctx = session or _NO_SESSION
    type_ = str(event["type"])
    seq = int(record["seq"])
    scp = get("scp")
    if not isinstance(scp, Mapping):
        scp = _NOTHING
    is_file = type_ == "fileop" or bool(scp)
    return {
        "id": f"{node}:{seq:012d}",
        "seq": seq,
        "node": node,
        "schema": int(event.get("schema") or SCHEMA_VERSION),
        "time": int(round(float(event["at"]) * 1000)),
        "type": type_,
        "session": str(event.get("session_id") or ""),
        "event_id": str(get("event_id") or event.get("id") or ""),
        "verdict": _verdict(data),
        "rule": str(get("rule") or ""),
        "result": str(get("result") or ""),
        "statement": statement_text(data),
        "command": str(get("line") or "") if type_ == "command" else "",
        "output": str(get("output") or ""),
        "path": _text(get("path"), get("target_path"), scp.get("path")) if is_file else "",
        "message": _text(get("reason"), get("error"), get("message")),
        "data": dict(data),
        # SESSION_FIELDS: the event's own value, else its session's
        "user": str(get("user") or ctx.user or ""),
        "target": str(get("target") or ctx.target or ""),
        "protocol": str(get("protocol") or ctx.protocol or ""),
        "account": str(get("account") or ctx.account or ""),
        "client_addr": str(get("client_addr") or ctx.client_addr or ""),
    }


def encode_data(doc: Mapping[str, Any]) -> str:
    """The ``data`` of a document as compact JSON with sorted keys (the sqlite backend's column).

    orjson writes what ``json.dumps(sort_keys=True, separators=(",", ":"), default=str)``
    wrote, except that non-ASCII characters are UTF-8 rather than ``\\u`` escapes (same
    value when read back) and NaN or infinities are ``null`` (json wrote ``NaN``, which
    strict JSON readers refuse). What orjson refuses (integers past 64 bits, keys that are
    not strings) goes through ``json``.
    """
    data = doc.get("data") or _NOTHING
    try:
        return orjson.dumps(data, default=str, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def index_template(prefix: str, replicas: int = 0) -> dict[str, Any]:
    """The composable index template covering ``<prefix>-*`` (OpenSearch and Elasticsearch)."""
    keyword: dict[str, Any] = {f: {"type": "keyword"} for f in KEYWORD_FIELDS}
    text: dict[str, Any] = {f: {"type": "text", "analyzer": "audit_text"} for f in TEXT_FIELDS}
    text["path"] = {"type": "text", "analyzer": "audit_text",
                    "fields": {"raw": {"type": "keyword", "ignore_above": 4096}}}
    return {
        "index_patterns": [f"{prefix}-*"],
        "priority": 100,
        "template": {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": replicas,
                "refresh_interval": "1s",
                "analysis": {
                    "tokenizer": {"audit_words": {"type": "char_group", "tokenize_on_chars": SEPARATORS}},
                    "analyzer": {"audit_text": {"type": "custom", "tokenizer": "audit_words",
                                                "filter": ["lowercase", "asciifolding"]}},
                },
            },
            "mappings": {
                "dynamic": False,
                "_meta": {"schema": SCHEMA_VERSION},
                "properties": {
                    **keyword, **text,
                    "seq": {"type": "long"},
                    "schema": {"type": "integer"},
                    "time": {"type": "date", "format": "epoch_millis"},
                    "data": {"type": "object", "enabled": False},
                },
            },
        },
        "_meta": {"schema": SCHEMA_VERSION, "managed_by": "bastion"},
    }
