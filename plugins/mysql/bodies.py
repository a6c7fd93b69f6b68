"""Bodies of stored routines and triggers as the server parses them.

The server parses a routine's or trigger's body under the ``sql_mode`` it was created
with (``information_schema.ROUTINES.SQL_MODE``, ``TRIGGERS.SQL_MODE``), whatever the mode
of the session that calls it. Two of its flags change how the body lexes:
``NO_BACKSLASH_ESCAPES`` (``'a\\'`` is a whole string) and ``ANSI_QUOTES`` (``"x"`` is a
name). A body created under ``NO_BACKSLASH_ESCAPES`` and read in the default mode can hide
``DROP TABLE t`` inside what looks like one string, so each body is judged under its own
modes.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.sql.approval import modes_of


@dataclass(frozen=True, slots=True)
class Body:
    """A looked-up body, wrapped as one compound statement for the classifier."""

    text: str
    no_backslash_escapes: bool = False
    ansi_quotes: bool = False

    @classmethod
    def read(cls, body: bytes, sql_mode: bytes | None) -> Body:
        """The body of a ``ROUTINE_DEFINITION``/``ACTION_STATEMENT`` and its ``SQL_MODE`` column."""
        nbe, ansi = modes_of((sql_mode or b"").decode("ascii", "replace"))
        return cls(f"BEGIN NOT ATOMIC {body.decode('utf-8', 'surrogateescape')}; END", nbe, ansi)
