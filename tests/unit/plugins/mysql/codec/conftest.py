"""Shared helpers for the MySQL codec tests (no sockets anywhere)."""

from __future__ import annotations

from plugins.mysql.codec import constants as K

#: Capabilities of the captured sessions (see captured.py), without DEPRECATE_EOF.
CAPTURE_CAPS = (
    K.CLIENT_LONG_PASSWORD
    | K.CLIENT_LONG_FLAG
    | K.CLIENT_CONNECT_WITH_DB
    | K.CLIENT_PROTOCOL_41
    | K.CLIENT_TRANSACTIONS
    | K.CLIENT_SECURE_CONNECTION
    | K.CLIENT_MULTI_RESULTS
    | K.CLIENT_PS_MULTI_RESULTS
    | K.CLIENT_PLUGIN_AUTH
    | K.CLIENT_PLUGIN_AUTH_LENENC_DATA
    | K.CLIENT_CONNECT_ATTRS
    | K.CLIENT_SESSION_TRACK
)
CAPTURE_CAPS_DEP = CAPTURE_CAPS | K.CLIENT_DEPRECATE_EOF


def chunk_headers(wire: bytes) -> list[tuple[int, int]]:
    """(payload_len, seq) of every chunk in ``wire``, walking the headers."""
    out = []
    pos = 0
    while pos < len(wire):
        n = int.from_bytes(wire[pos : pos + 3], "little")
        out.append((n, wire[pos + 3]))
        pos += 4 + n
    assert pos == len(wire)
    return out
