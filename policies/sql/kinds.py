"""Statement kinds and their strictness order.

Contract: :func:`stricter` is total; ``UNKNOWN`` is the strictest kind, so any doubt
about a statement makes the whole verdict unknown (fail closed).
"""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    DDL = "ddl"
    DCL = "dcl"
    ADMIN = "admin"
    FILE = "file"
    SESSION = "session"
    TRANSACTION = "transaction"
    EXEC = "exec"
    UNKNOWN = "unknown"


_ORDER = ("read", "transaction", "session", "write", "exec", "ddl", "dcl", "file", "admin", "unknown")
RANK: dict[Kind, int] = {Kind(v): i for i, v in enumerate(_ORDER)}


def stricter(a: Kind, b: Kind) -> Kind:
    """The stricter of two kinds (unknown > admin > file > dcl > ddl > exec > write > …)."""
    return a if RANK[a] >= RANK[b] else b


# Short names for the keyword tables and rules.
R, W, D, C, A, F, S, T, X = (Kind.READ, Kind.WRITE, Kind.DDL, Kind.DCL, Kind.ADMIN, Kind.FILE,
                             Kind.SESSION, Kind.TRANSACTION, Kind.EXEC)  # fmt: skip
