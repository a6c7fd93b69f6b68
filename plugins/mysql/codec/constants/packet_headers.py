"""First bytes that tell command-phase packets apart, and the largest wire chunk."""

from __future__ import annotations

__all__ = [
    "AUTH_MORE_DATA_HEADER",
    "AUTH_SWITCH_HEADER",
    "EOF_HEADER",
    "ERR_HEADER",
    "LOCAL_INFILE_HEADER",
    "MAX_CHUNK",
    "OK_HEADER",
]

OK_HEADER = 0x00
AUTH_MORE_DATA_HEADER = 0x01
LOCAL_INFILE_HEADER = 0xFB
EOF_HEADER = 0xFE
AUTH_SWITCH_HEADER = 0xFE
ERR_HEADER = 0xFF

#: Largest payload of one wire chunk; a chunk this long is always continued.
MAX_CHUNK = 0xFFFFFF
