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


def _text(*values: Any) -> str:
    return "\n".join(str(v) for v in values if isinstance(v, str | int | float) and str(v))


def _verdict(data: Mapping[str, Any]) -> str:
    if isinstance(data.get("verdict"), str):
        return str(data["verdict"])
    would = data.get("would")
    return str(would) if isinstance(would, str) else ""  # audit-only shell commands: what policy would do


def statement_text(data: Mapping[str, Any]) -> str:
    """The searchable statement of a record: an execution of a prepared statement shows its
    (masked) parameters after it, as ``USING p1, p2``, the way ``EXECUTE … USING`` reads."""
    statement = str(data.get("statement") or "")
    params = data.get("params")
    if isinstance(params, list) and params:
        return f"{statement}\nUSING {', '.join(str(p) for p in params)}"
    return statement


def document(record: Mapping[str, Any], node: str, session: SessionInfo | None) -> dict[str, Any]:
    """The search document of one journal record (``{"seq", "prev", "hash", "event"}``)."""
    event = record["event"]
    data: Mapping[str, Any] = event.get("data") or {}
    ctx = session or SessionInfo()
    scp: Mapping[str, Any] = data["scp"] if isinstance(data.get("scp"), Mapping) else {}
    is_file = event["type"] in ("fileop",) or bool(scp)
    doc: dict[str, Any] = {
        "id": doc_id(node, int(record["seq"])),
        "seq": int(record["seq"]),
        "node": node,
        "schema": int(event.get("schema") or SCHEMA_VERSION),
        "time": int(round(float(event["at"]) * 1000)),
        "type": str(event["type"]),
        "session": str(event.get("session_id") or ""),
        "event_id": str(data.get("event_id") or event.get("id") or ""),
        "verdict": _verdict(data),
        "rule": str(data.get("rule") or ""),
        "result": str(data.get("result") or ""),
        "statement": statement_text(data),
        "command": str(data.get("line") or "") if event["type"] == "command" else "",
        "output": str(data.get("output") or ""),
        "path": _text(data.get("path"), data.get("target_path"), scp.get("path")) if is_file else "",
        "message": _text(data.get("reason"), data.get("error"), data.get("message")),
        "data": dict(data),
    }
    for f in SESSION_FIELDS:
        doc[f] = str(data.get(f) or getattr(ctx, f) or "")
    return doc


def encode_data(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc.get("data") or {}, sort_keys=True, separators=(",", ":"), default=str)


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
