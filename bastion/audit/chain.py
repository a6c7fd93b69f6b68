"""The journal's records: canonical JSON of an event, and the hash chain over it.

Each journal line is ``{"event", "hash", "prev", "seq"}`` where ``hash`` is SHA-256 over
the previous record's hash and the canonical JSON of the event, so editing, removing or
reordering a line breaks the chain (:mod:`bastion.audit.verify`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

from bastion.core.contracts import AuditEvent

GENESIS = "0" * 64
"""The ``prev`` of the first record of a journal."""

_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _not_native(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is left to json.dumps")


def canonical(event: dict[str, Any]) -> bytes:
    """``json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)`` as bytes.

    orjson writes it when it can (about ten times faster): for ASCII output of plain
    JSON types the bytes are the same. Anything else — non-ASCII text (json escapes it as
    ``\\uXXXX``), lone surrogates, subclasses, dataclasses, dates, integers past 64 bits,
    non-string keys — goes through ``json.dumps``. One known difference remains: orjson
    spells floats below 1e-4 without an exponent; the value is the same after parsing, and
    :func:`verify` hashes the bytes as written, so the chain holds either way.
    """
    try:
        body = orjson.dumps(event, default=_not_native, option=_ORJSON_OPTIONS)
    except TypeError:
        pass
    else:
        if body.isascii():
            return body
    return json.dumps(event, sort_keys=True, separators=(",", ":"), default=str).encode()


def digest_of(prev: str, body: bytes) -> str:
    """SHA-256 (hex) over the previous hash and an event's canonical JSON as written."""
    digest = hashlib.sha256(prev.encode())
    digest.update(body)
    return digest.hexdigest()


def chain_hash(prev: str, event: dict[str, Any]) -> str:
    return digest_of(prev, canonical(event))


def record_line(seq: int, prev: str, event: dict[str, Any]) -> tuple[bytes, str]:
    """The journal line of ``event`` and its hash. The event is serialised once: the line
    is exactly ``json.dumps({"seq", "prev", "hash", "event"}, sort_keys=True, compact)``,
    whose ``event`` member is the canonical JSON the hash covers."""
    body = canonical(event)
    digest = digest_of(prev, body)
    return b'{"event":%s,"hash":"%s","prev":"%s","seq":%d}\n' % (body, digest.encode(), prev.encode(), seq), digest


def event_dict(event: AuditEvent) -> dict[str, Any]:
    """``dataclasses.asdict`` without its deep copy (the event is serialised at once)."""
    return {"type": event.type, "session_id": event.session_id, "at": event.at, "data": dict(event.data),
            "id": event.id, "schema": event.schema}
