"""SHOW [FULL] PROCESSLIST is answered by the bastion: the user's own connections, with the
ids KILL accepts and what each one runs now (masked as the audit trail is)."""

from __future__ import annotations

import pytest

from plugins.mysql import commands
from plugins.mysql.codec import COM_QUERY, ColumnDef, parse_text_row
from plugins.mysql.connections import REGISTRY, Registered
from plugins.mysql.processlist import parse_show
from tests.unit.plugins.mysql.fakes import ListSink, session


@pytest.mark.parametrize(("sql", "full"), [
    ("SHOW PROCESSLIST", False), ("show full processlist;", True), ("  SHOW   FULL\nPROCESSLIST  ", True),
    ("SHOW PROCESSLIST2", None), ("SELECT * FROM information_schema.PROCESSLIST", None)])
def test_parse_show(sql, full):
    assert parse_show(sql) is full


def test_the_user_sees_their_own_connections_only():
    mine, client, _up = session([], ListSink(), user="alice")
    other, _, _ = session([], ListSink(), user="alice")
    stranger, _, _ = session([], ListSink(), user="bob")
    other.busy_payload = bytes([COM_QUERY]) + b"SELECT SLEEP(100), '4111 1111 1111 1111'"
    for conn_id, s in ((71, mine), (72, other), (73, stranger)):
        REGISTRY.add(conn_id, Registered(s.session.identity.subject, "db", "admin", 42), s)
    try:
        mine.busy_payload = bytes([COM_QUERY]) + b"SHOW FULL PROCESSLIST"
        commands.query(mine, 0, mine.busy_payload)
    finally:
        for conn_id in (71, 72, 73):
            REGISTRY.remove(conn_id)
    packets = [p for _, p in client.packets()]
    assert packets[0] == b"\x09"
    names = [ColumnDef.parse(p).name for p in packets[1:10]]
    assert names == ["Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress"]
    rows = [parse_text_row(p, 9) for p in packets[10:] if p[0] not in (0xFE,)]
    assert [r[0] for r in rows] == [b"71", b"72"]
    assert rows[1][1] == b"alice" and rows[1][4] == b"Query" and b"SLEEP(100)" in rows[1][7]
    assert rows[0][7] == b"SHOW FULL PROCESSLIST"
