"""Statements admitted through the session's guard, and the answers to refused ones.

Every statement (COM_QUERY, COM_STMT_PREPARE, COM_INIT_DB) becomes a ``Query`` event
admitted by :class:`~bastion.guard.Guard` before anything is sent upstream: judged by
the pipeline under the session's quoting modes, held for approvers when a rule says so,
and on record before it runs. A refused statement is answered locally with an ERR
(sequence id = the client's last + 1) and the connection stays usable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bastion.core import records
from bastion.core.types import Decision, Query, Verdict
from bastion.guard import Admission, Refusal
from plugins.mysql import routines, sqlstate
from plugins.mysql.codec import ErrPacket
from policies.sql import Classification, classify

if TYPE_CHECKING:
    from plugins.mysql.session import MySQLSession


def admit(s: MySQLSession, sql: str, command: str, c: Classification | None = None) -> Admission | Refusal:
    """Admit one statement (``command``: ``query``, ``prepare``, ``init_db``). ``EXECUTE
    name`` is judged as the statement the bastion saw prepared under that name, ``CALL p``
    together with the body the target holds for ``p``, a statement calling stored
    functions together with their bodies, a statement writing a table together with the
    bodies of its triggers, a statement reading a view together with its definition
    (plugins.mysql.routines); a statement that would switch to a character set the
    bastion cannot follow is refused."""
    c = c or sqlstate.classification(s, sql)
    target, why = sqlstate.execute_target(s, c) if command == "query" else (None, None)
    judged, judged_nbe = target if target is not None else (None, None)
    problem = sqlstate.refusal(c) or (Decision.deny(rule="mysql:execute", reason=why, message=why) if why else None)
    data: dict[str, Any] = {"protocol": "mysql", "command": command, "schema": s.schema}
    events = []
    if problem is None and command in ("query", "prepare"):
        names = routines.called(c)
        # the code of every statement that runs: carried ones (PREPARE … FROM '…') included
        runs = [c] + ([classify(judged, no_backslash_escapes=bool(judged_nbe), ansi_quotes=s.ansi_quotes)]
                      if judged is not None else [])
        try:
            found = s.last_lookup = routines.look_up(s, runs, names)
            events = [_query(s, b.text, "routine", b.no_backslash_escapes, b.ansi_quotes) for b in found.bodies]
        except routines.RoutineUnreadable as exc:
            problem = Decision.deny(rule="mysql:routine", reason=str(exc), message=str(exc))
            found = s.last_lookup = routines.Lookup()
        if names or found.procedures:
            data["routines"] = names + found.procedures
        if found.functions:
            data["functions"] = found.functions
        if found.triggers:
            data["triggers"] = found.triggers
        if found.views:
            data["views"] = found.views
    events.append(_query(s, judged or sql, command, judged_nbe))
    if judged is not None:
        data["executes"] = s.redact_request(judged, judged_nbe)[s.text_field]
    return s.guard.admit(events, records.QUERY, data, text=sql, veto=problem)


def _query(s: MySQLSession, sql: str, command: str, nbe: bool | None = None, ansi: bool | None = None) -> Query:
    """A statement as the server will parse it: under the session's quoting modes, or
    (a routine's body) under the ones it was created with."""
    return Query(session=s.session, sql=sql, database=s.schema, command=command,
                 no_backslash_escapes=s.no_backslash_escapes if nbe is None else nbe,
                 ansi_quotes=s.ansi_quotes if ansi is None else ansi)


def refuse(s: MySQLSession, seq: int, refusal: Refusal) -> None:
    """Answer a refused statement locally; nothing was sent upstream."""
    refuse_decision(s, seq, refusal.decision, refusal.event.id)


def refuse_decision(s: MySQLSession, seq: int, decision: Decision, ref: str) -> None:
    """The ERR for a refusal ``decision`` about the request whose event is ``ref``."""
    text = f"bastion: statement blocked by policy {decision.rule or 'default'} (ref {ref})"
    if decision.message:
        text += f": {decision.message}"
    code, state = (1142, "42000") if decision.verdict is Verdict.DENY else (1205, "HY000")
    s.client.send(ErrPacket(code, state, text).build(s.caps), seq + 1)


def send_error(s: MySQLSession, seq: int, code: int, state: str, message: str) -> None:
    s.client.send(ErrPacket(code, state, f"bastion: {message}").build(s.caps), seq + 1)


def safe_decode(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")
