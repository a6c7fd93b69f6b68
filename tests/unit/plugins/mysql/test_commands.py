"""The command phase against in-memory connections: every judged request is admitted by the
guard — its start record is durable before the target sees it, a failing journal refuses
it, a denied one never leaves the bastion — and responses are relayed (ERR texts masked)."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from bastion.core import records
from bastion.core.contracts import RowMasker
from bastion.core.types import Decision, Event, Query
from plugins.mysql import commands, prepared_commands
from plugins.mysql.codec import (
    COM_INIT_DB,
    COM_QUERY,
    COM_STMT_EXECUTE,
    COM_STMT_PREPARE,
    COM_STMT_RESET,
    MYSQL_TYPE_BLOB,
    MYSQL_TYPE_LONGLONG,
    MYSQL_TYPE_VAR_STRING,
    ColumnDef,
    ErrPacket,
    Param,
    RemoteProtocolError,
    build_send_long_data,
    build_stmt_execute,
)
from tests.unit.plugins.mysql.fakes import CAPS, ListSink, MemoryConn, ok, session


class DenyDrop:
    name = "deny-drop"

    def decide(self, event: Event) -> Decision | None:
        if isinstance(event, Query) and "DROP" in event.sql.upper():
            return Decision.deny(rule="test:no-drop", message="no drops")
        return None


def prepare_ok(stmt_id: int = 5, params: int = 0) -> bytes:
    return b"\x00" + struct.pack("<IHHBH", stmt_id, 0, params, 0, 0)


REQUESTS = {
    "query": (bytes([COM_QUERY]) + b"UPDATE t SET a = 1 WHERE id = 2", "query", ok(1)),
    "init_db": (bytes([COM_INIT_DB]) + b"shop", "init_db", ok()),
    "prepare": (bytes([COM_STMT_PREPARE]) + b"SELECT * FROM t WHERE id = ?", "prepare", prepare_ok()),
}


def answer_with(up: MemoryConn, response: bytes, sink: ListSink, seen: list[list[str]]) -> None:
    def on_send(data: bytes) -> None:
        seen.append(sink.types())  # what the journal held when the target got the request
        up.feed(response, 1)
    up.on_send = on_send


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_the_start_record_is_durable_before_the_target_sees_the_request(name: str) -> None:
    payload, command, response = REQUESTS[name]
    sink = ListSink()
    s, client, up = session([], sink)
    seen: list[list[str]] = []
    answer_with(up, response, sink, seen)
    commands.HANDLERS[payload[0]](s, 0, payload)
    assert seen == [[records.QUERY_START]]
    start, outcome = sink.events
    assert start.data["command"] == command and outcome.type == records.QUERY
    assert outcome.data["event_id"] == start.data["event_id"] and outcome.data["verdict"] == "allow"
    assert client.packets()[0][1] == response


@pytest.mark.parametrize("payload", [REQUESTS[n][0] for n in sorted(REQUESTS)] + [
    bytes([COM_QUERY]) + b"KILL QUERY 1234"])
def test_a_failing_journal_refuses_the_request(payload: bytes) -> None:
    sink = ListSink()
    sink.broken = True
    s, client, up = session([], sink)
    commands.HANDLERS[payload[0]](s, 0, payload)
    assert up.sent == []
    seq, err = client.packets()[0]
    assert seq == 1 and err[0] == 0xFF
    assert "audit-unavailable" in ErrPacket.parse(err, CAPS).message


def test_kill_is_admitted_and_recorded_like_any_statement() -> None:
    sink = ListSink()
    s, client, up = session([], sink)
    commands.query(s, 0, bytes([COM_QUERY]) + b"KILL QUERY 99999")  # nobody's connection
    assert ErrPacket.parse(client.packets()[0][1], CAPS).code == 1094
    assert sink.types() == [records.QUERY_START, records.QUERY]
    assert sink.events[0].data["command"] == "kill" and sink.events[1].data["error"].startswith("1094")
    assert up.sent == []


def test_a_denied_statement_never_reaches_the_target() -> None:
    sink = ListSink()
    s, client, up = session([DenyDrop()], sink)
    commands.query(s, 3, bytes([COM_QUERY]) + b"/*!DROP*/ TABLE t")
    assert up.sent == []
    seq, err = client.packets()[0]
    assert seq == 4 and "test:no-drop" in ErrPacket.parse(err, CAPS).message
    assert sink.types() == [records.QUERY]
    assert sink.events[0].data["verdict"] == "deny" and s.denied == 1


def test_executions_ride_on_the_prepare_and_stop_when_the_audit_trail_fails() -> None:
    sink = ListSink()
    s, client, up = session([], sink)
    seen: list[list[str]] = []
    answer_with(up, prepare_ok(5), sink, seen)
    prepared_commands.prepare(s, 0, REQUESTS["prepare"][0])
    up.on_send = lambda data: up.feed(ok(), 1)
    execute = bytes([COM_STMT_EXECUTE]) + struct.pack("<IBI", 5, 0, 1)
    prepared_commands.execute(s, 0, execute)
    assert client.packets()[-1][1] == ok()
    sink.broken = True
    s.emit("probe", {})  # the journal fails: the context now knows the audit trail is down
    sent = len(up.sent)
    prepared_commands.execute(s, 0, execute)
    assert len(up.sent) == sent
    assert "audit-unavailable" in ErrPacket.parse(client.packets()[-1][1], CAPS).message


class DigitsMasker:
    name = "digits"

    def plan(self, session: Any, columns: Any) -> RowMasker | None:
        return None

    def mask_text(self, session: Any, text: str) -> tuple[str, dict[str, int]]:
        return "".join("#" if c.isdigit() else c for c in text), {}

    def mask_output(self, session: Any, text: str) -> tuple[str, dict[str, int]]:
        masked = "".join("*" if c.isdigit() else c for c in text)
        return masked, ({"digits": 1} if masked != text else {})

    def masks_output(self, session: Any) -> bool:
        return True


def test_error_messages_from_the_target_are_masked_for_the_user_and_the_record() -> None:
    sink = ListSink()
    s, client, up = session([], sink)
    s.ctx.maskers = [DigitsMasker()]
    s.masks.__init__(s.ctx.maskers, s.session)  # type: ignore[misc]
    err = ErrPacket(1062, "23000", "Duplicate entry '4111111111111111' for key 'PRIMARY'").build(CAPS)
    up.on_send = lambda data: up.feed(err, 1)
    commands.query(s, 0, bytes([COM_QUERY]) + b"INSERT INTO t VALUES ('x')")
    shown = ErrPacket.parse(client.packets()[0][1], CAPS)
    assert shown.code == 1062 and "4111" not in shown.message and "'****************'" in shown.message
    assert "4111" not in sink.events[-1].data["error"]


def test_a_refused_command_of_16_mib_or_more_is_answered_after_its_last_packet() -> None:
    sink = ListSink()
    s, client, up = session([DenyDrop()], sink)
    statement = bytes([COM_QUERY]) + b"DROP TABLE t /*" + b"x" * (17 << 20) + b"*/"
    client.feed(statement, 0)  # two chunks: seq 0 and 1
    client.feed(bytes([0x01]), 0)  # COM_QUIT
    assert commands.command_loop(s) == "client quit"
    assert up.sent == []
    seq, err = client.packets()[0]
    assert seq == 2 and ErrPacket.parse(err, CAPS).code == 1142


CARD = "4111111111111111"


def masked_session(sink: ListSink) -> tuple[Any, MemoryConn, MemoryConn]:
    s, client, up = session([], sink)
    s.ctx.maskers = [DigitsMasker()]
    s.masks.__init__(s.ctx.maskers, s.session)  # type: ignore[misc]
    return s, client, up


def prepared_with_params(s: Any, up: MemoryConn, sink: ListSink, n: int) -> str:
    """PREPARE a statement of ``n`` parameters (id 5); its ``query`` event id."""
    param = ColumnDef("def", "", "", "", "?", "", 63, 0, MYSQL_TYPE_VAR_STRING, 0, 0).build()

    def on_send(data: bytes) -> None:
        for seq, packet in enumerate([prepare_ok(5, n)] + [param] * n, 1):
            up.feed(packet, seq)
    up.on_send = on_send
    prepared_commands.prepare(s, 0, bytes([COM_STMT_PREPARE]) + b"UPDATE customers SET card_number = ? WHERE id = ?")
    return str(sink.events[-1].data["event_id"])


def test_each_execution_is_on_record_with_its_masked_parameters_before_it_runs() -> None:
    sink = ListSink()
    s, client, up = masked_session(sink)
    prepare_id = prepared_with_params(s, up, sink, 2)
    seen: list[list[str]] = []
    answer_with(up, ok(1), sink, seen)
    for _ in range(2):
        before = len(sink.events)
        prepared_commands.execute(s, 0, build_stmt_execute(5, [Param(MYSQL_TYPE_VAR_STRING, False, CARD.encode()),
                                                      Param(MYSQL_TYPE_LONGLONG, True, struct.pack("<Q", 7))]))
        start, outcome = sink.events[before:]
        assert seen[-1][-1] == records.QUERY_START  # durable before the target saw the packet
        assert (start.type, outcome.type) == (records.QUERY_START, records.QUERY)
        for event in (start, outcome):
            assert event.data["command"] == "execute" and event.data["prepared"] == prepare_id
            assert event.data["params"] == ["'################'", "#"]
            assert event.data["statement"] == "UPDATE customers SET card_number = ? WHERE id = ?"
        assert outcome.data["affected"] == 1 and outcome.data["event_id"] == start.data["event_id"]
    ids = [e.data["event_id"] for e in sink.events if e.type == records.QUERY_START][1:]
    assert ids == [f"{prepare_id}.1", f"{prepare_id}.2"]
    assert CARD not in repr([e.data for e in sink.events])


def test_long_data_is_recorded_with_its_execution_then_forgotten() -> None:
    sink = ListSink()
    s, client, up = masked_session(sink)
    prepared_with_params(s, up, sink, 2)
    up.on_send = None
    for chunk in (b"card ", CARD.encode()):
        prepared_commands.stmt_no_response(s, 0, build_send_long_data(5, 0, chunk))
    answer_with(up, ok(1), sink, [])
    params = [Param(MYSQL_TYPE_BLOB, False, b"", long_data=True), Param(MYSQL_TYPE_LONGLONG, True,
                                                                         struct.pack("<Q", 7))]
    prepared_commands.execute(s, 0, build_stmt_execute(5, params))
    assert sink.events[-1].data["params"] == ["_binary'card ################'", "#"]
    # the next execution sends its parameter in the packet again
    prepared_commands.execute(s, 0, build_stmt_execute(5, [Param(MYSQL_TYPE_VAR_STRING, False, b"x"), params[1]]))
    assert sink.events[-1].data["params"] == ["'x'", "#"]
    # COM_STMT_RESET drops what was sent
    prepared_commands.stmt_no_response(s, 0, build_send_long_data(5, 0, b"dropped"))
    answer_with(up, ok(), sink, [])
    prepared_commands.stmt_reset(s, 0, bytes([COM_STMT_RESET]) + struct.pack("<I", 5))
    assert not s.statements[5].long_data


def test_parameters_the_bastion_cannot_decode_never_reach_the_target() -> None:
    sink = ListSink()
    s, client, up = masked_session(sink)
    prepared_with_params(s, up, sink, 2)
    sent = len(up.sent)
    truncated = build_stmt_execute(5, [Param(MYSQL_TYPE_VAR_STRING, False, CARD.encode()),
                                       Param(MYSQL_TYPE_LONGLONG, True, struct.pack("<Q", 7))])[:-3]
    with pytest.raises(RemoteProtocolError):
        prepared_commands.execute(s, 0, truncated)
    assert len(up.sent) == sent


def test_long_data_kept_for_the_record_is_bounded() -> None:
    from plugins.mysql import executions
    from plugins.mysql.literals import SCANNED

    sink = ListSink()
    s, client, up = masked_session(sink)
    prepared_with_params(s, up, sink, 2)
    up.on_send = None
    chunk = b"x" * (1 << 20)
    for param in (0, 1, 7):  # 7: a parameter the statement does not have
        for _ in range(3):
            prepared_commands.stmt_no_response(s, 0, build_send_long_data(5, param, chunk))
    kept = s.statements[5].long_data
    assert set(kept) == {0, 1} and all(len(v) <= SCANNED + 1 for v in kept.values())
    assert sum(len(v) for v in kept.values()) <= executions.KEPT
    answer_with(up, ok(1), sink, [])
    long = Param(MYSQL_TYPE_BLOB, False, b"", long_data=True)
    prepared_commands.execute(s, 0, build_stmt_execute(5, [long, long]))
    assert sink.events[-1].data["params"] == [f"/* {3 << 20} bytes, not recorded */"] * 2


def test_a_refused_execution_keeps_what_the_server_still_holds() -> None:
    """Refused (the audit trail is down), the execution never reached the server: the long
    data sent for it is still there for the next one, and so is the record's copy."""
    sink = ListSink()
    s, client, up = masked_session(sink)
    prepared_with_params(s, up, sink, 2)
    up.on_send = None
    prepared_commands.stmt_no_response(s, 0, build_send_long_data(5, 0, b"kept"))
    params = [Param(MYSQL_TYPE_BLOB, False, b"", long_data=True),
              Param(MYSQL_TYPE_LONGLONG, True, struct.pack("<Q", 7))]
    sink.broken = True
    sent = len(up.sent)
    prepared_commands.execute(s, 0, build_stmt_execute(5, params))
    assert len(up.sent) == sent and "audit-unavailable" in ErrPacket.parse(client.packets()[-1][1], CAPS).message
    sink.broken = False
    answer_with(up, ok(1), sink, [])
    prepared_commands.execute(s, 0, build_stmt_execute(5, params))
    assert sink.events[-1].data["params"] == ["_binary'kept'", "#"]
