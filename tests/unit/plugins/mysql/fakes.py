"""An in-memory stand-in for a PacketConn, and a session built around two of them.

The client's commands and the upstream's responses are scripted as wire bytes; what the
bastion sends either way is kept. ``on_send`` lets a test look at the world at the moment
the target receives a request (e.g. whether its start record is already durable).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bastion.context import AuditGate, PluginContext
from bastion.core.contracts import AuditEvent
from bastion.core.pipeline import Pipeline
from bastion.core.types import Identity, Session, Target
from plugins.mysql.codec import CLIENT_DEPRECATE_EOF, CLIENT_PROTOCOL_41, OkPacket, PacketReader, frame
from plugins.mysql.options import MySQLOptions
from plugins.mysql.packetconn import ConnectionClosed
from plugins.mysql.session import MySQLSession
from plugins.mysql.upstream import Upstream

CAPS = CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF


class MemoryConn:
    """A connection whose peer is a script."""

    def __init__(self) -> None:
        self.reader = PacketReader()
        self.sent: list[bytes] = []
        self._out: list[bytes] = []
        self.bytes_in = self.bytes_out = 0
        self.on_send: Callable[[bytes], None] | None = None

    def feed(self, payload: bytes, seq: int) -> None:
        self.reader.feed(frame(payload, seq)[0])

    def read(self, timeout: float | None = None) -> tuple[int, bytes]:
        packet = self.reader.next_packet()
        if packet is None:
            raise ConnectionClosed("script exhausted")
        return packet

    def fill(self, timeout: float | None = None) -> None:
        raise ConnectionClosed("script exhausted")

    def send(self, payload: bytes, seq: int) -> int:
        data, nxt = frame(payload, seq & 0xFF)
        self._out.append(data)
        self.flush()
        return nxt

    def queue(self, payload: bytes, seq: int) -> int:
        data, nxt = frame(payload, seq & 0xFF)
        self._out.append(data)
        return nxt

    def queue_raw(self, data: bytes) -> None:
        self._out.append(data)

    def flush(self) -> None:
        if self._out:
            self.write(b"".join(self._out))
            self._out.clear()

    def write(self, data: bytes) -> None:
        self.bytes_out += len(data)
        self.sent.append(data)
        if self.on_send is not None:
            self.on_send(data)

    def peer_gone(self) -> bool:
        return False

    def shutdown(self) -> None:
        pass

    def close(self) -> None:
        pass

    def packets(self) -> list[tuple[int, bytes]]:
        """Everything sent so far, as (seq, payload)."""
        reader = PacketReader()
        reader.feed(b"".join(self.sent))
        return list(iter(reader.next_packet, None))


class ListSink:
    """A required sink that keeps events in memory, or fails when ``broken``."""

    name = "journal"
    required = True

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.broken = False

    def emit(self, event: AuditEvent) -> None:
        if self.broken:
            raise OSError(28, "No space left on device")
        self.events.append(event)

    def close_orphans(self) -> None:
        return None

    def close(self) -> None:
        return None

    def types(self) -> list[str]:
        return [e.type for e in self.events]


def session(stages: list[Any], sink: ListSink, user: str = "alice") -> tuple[MySQLSession, MemoryConn, MemoryConn]:
    """A MySQL session in its command phase between two scripted connections."""
    ctx = PluginContext(settings=None, store=None, tokens=None, vault=None,  # type: ignore[arg-type]
                        sinks=[sink])
    ctx.pipeline = Pipeline([AuditGate(ctx), *stages])
    return session_in(ctx, user)


def session_in(ctx: PluginContext, user: str = "alice", target_name: str = "db",
               ) -> tuple[MySQLSession, MemoryConn, MemoryConn]:  # fmt: skip
    """A MySQL session of ``ctx`` (its pipeline, sinks, maskers) between two scripted connections."""
    target = Target(name=target_name, protocol="mysql", host="127.0.0.1", port=3306)
    sess = Session(id=Session.new_id(), identity=Identity(subject=user, groups=frozenset({"dba"})), target=target,
                   account="admin", client_addr="127.0.0.1:1", started_at=time.time())
    client, up = MemoryConn(), MemoryConn()
    upstream = Upstream(conn=up, greeting=None, caps=CAPS, thread_id=42, status=2, tls=True)  # type: ignore[arg-type]
    s = MySQLSession(ctx=ctx, opts=MySQLOptions(), session=sess, client=client, upstream=upstream, caps=CAPS,
                     connection_id=7)
    return s, client, up


def ok(affected: int = 0) -> bytes:
    return OkPacket(affected, 0, 2, 0).build(CAPS)
