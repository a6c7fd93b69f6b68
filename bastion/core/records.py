"""Audit record types: the names every plugin, sink, indexer and dashboard agree on.

A judged request leaves two records: its *start* (written, durably, before the target
sees the request) and its *outcome* (written when it ends, or at once when it is
refused). ``STARTS`` maps one to the other; after a crash the journal gives every start
without an outcome a recovered outcome ("outcome unknown").
"""

from __future__ import annotations

SESSION_START = "session.start"
SESSION_END = "session.end"
AUTH = "auth"
"""A refused login (no session exists yet: ``session_id`` is empty)."""
UPSTREAM = "upstream"
REFUSED = "refused"
"""A protocol command the bastion does not relay (not a judged request)."""

QUERY_START, QUERY = "query.start", "query"
FETCH = "fetch"
"""A summary of one prepared statement's cursor fetches (they ride on its PREPARE's admission;
each execution has ``query.start``/``query`` records of its own, ``command: execute``)."""
COMMAND_START, COMMAND = "command.start", "command"
FORWARD_START, FORWARD = "forward.start", "forward"
FILEOP_START, FILEOP = "fileop.start", "fileop"
CHANNEL_START, CHANNEL_END = "channel", "channel.end"
"""An interactive shell or a subsystem (SFTP) opened on a target, and its end."""
RECORDING = "recording"

STARTS: dict[str, str] = {QUERY_START: QUERY, COMMAND_START: COMMAND, FORWARD_START: FORWARD,
                          FILEOP_START: FILEOP, CHANNEL_START: CHANNEL_END}
"""Start record type -> the type of its outcome record."""

OUTCOMES: dict[str, str] = {outcome: start for start, outcome in STARTS.items()}
"""Outcome record type -> the type of its start record."""
