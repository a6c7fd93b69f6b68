"""The SFTP subsystem, terminated far enough to judge every file operation.

Client → target: packets are split and classified (:mod:`sftpcodec`); every open,
opendir, remove, rename, mkdir, rmdir, setstat, symlink and link becomes a ``FileOp``
admitted by the session's guard before it is forwarded. A refused request is answered locally
with ``SSH_FX_PERMISSION_DENIED`` and never reaches the target; runs of allowed packets
are forwarded as one slice. Reads and writes go through only on handles the target
issued for an allowed open.

Target → client: whole packets only (a locally made reply must never land inside a
forwarded packet), observed for handles, data sizes and status codes so the audit
records each file with its path, bytes read/written and result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gevent.lock
import paramiko

from bastion.core import records
from bastion.core.types import FileOp
from bastion.guard import Admission
from plugins.ssh import sftpcodec as sc
from plugins.ssh.relay import CHUNK, ChannelGone, ExitInfo, bridge_session, send_all
from plugins.ssh.session import SSHSession, denial_text

log = logging.getLogger("bastion.ssh")


@dataclass
class _Open:
    """A handle the target issued for an admitted open/opendir."""

    admission: Admission
    op: str
    read: int = 0
    written: int = 0


@dataclass
class _Pending:
    """A forwarded request whose reply the bastion wants to see."""

    kind: str
    """``op`` (judged request), ``read``, ``close``."""
    request: sc.Request
    admission: Admission | None = None
    """The admission of a judged request (kind ``op``)."""


class SftpBridge:
    def __init__(self, sess: SSHSession, client: paramiko.Channel, up: paramiko.Channel) -> None:
        self.sess, self.client, self.up = sess, client, up
        self.handles: dict[bytes, _Open] = {}
        self.pending: dict[int, _Pending] = {}
        self.client_lock = gevent.lock.Semaphore()
        self.live = sess.live_masker()
        """Live masking of text read from files (masking rules in scope), or None."""
        self.home = sess.upstream.home()
        """Relative paths are judged as the target resolves them: against this home."""

    def run(self) -> ExitInfo:
        """Bridge until either side ends; every handle left open is recorded."""
        info = bridge_session(self.client, self.up, to_upstream=self._from_client, to_client=self._from_target)
        for handle in list(self.handles):
            self._audit_open(self.handles.pop(handle), "not closed")
        return info

    # ------------------------------------------------------------------ client → target

    def _from_client(self) -> int:
        splitter, total = sc.PacketSplitter(), 0
        while True:
            try:
                data = self.client.recv(CHUNK)
            except (OSError, EOFError, paramiko.SSHException):
                return total
            if not data:
                return total
            self.sess.touch()
            try:
                packets = splitter.feed(data)
                total += self._forward_packets(packets)
            except (sc.SftpProtocolError, ValueError, IndexError) as exc:
                log.warning("sftp protocol error from client: %s", exc, extra={"session_id": self.sess.session.id})
                self.client.close()
                return total
            except (OSError, EOFError, ChannelGone, paramiko.SSHException):
                return total

    def _forward_packets(self, packets: list[memoryview]) -> int:
        if not packets:
            return 0
        base = memoryview(packets[0].obj)  # packets are consecutive slices of one buffer
        start = pos = 0
        sent = 0
        for pkt in packets:
            reply = self._judge(sc.parse_request(pkt))
            if reply is not None:
                if pos > start:
                    send_all(self.up.send, base[start:pos])
                    sent += pos - start
                self._reply(reply)
                start = pos + len(pkt)
            pos += len(pkt)
        if pos > start:
            send_all(self.up.send, base[start:pos])
            sent += pos - start
        return sent

    def _reply(self, packet: bytes) -> None:
        with self.client_lock:
            send_all(self.client.send, packet)

    def _judge(self, req: sc.Request) -> bytes | None:
        """None to forward ``req``; otherwise the local reply that replaces it."""
        if req.unsupported:
            return sc.build_status(req.id, sc.FX_OP_UNSUPPORTED, f"bastion: {req.extension} is not supported")
        if req.handle and req.handle not in self.handles:
            return sc.build_status(req.id, sc.FX_FAILURE, "bastion: unknown handle")
        if req.type == sc.WRITE:
            self.handles[req.handle].written += req.size
        elif req.type == sc.READ:
            self.pending[req.id] = _Pending("read", req)
        elif req.type == sc.CLOSE:
            self.pending[req.id] = _Pending("close", req)
        if not req.op:
            return None
        path = self.handles[req.handle].admission.data["path"] if req.handle else req.path
        event = FileOp(session=self.sess.session, op=req.op, path=path, target_path=req.target_path,
                       home=self.home)
        self.sess.file_ops += 1
        ruling = self.sess.guard.admit(event, records.FILEOP, {"op": req.op, "path": path,
                                                                "target_path": req.target_path},
                                       cancelled=lambda: self.client.closed, refused={"result": "denied"})
        if not isinstance(ruling, Admission):
            return sc.build_status(req.id, sc.FX_PERMISSION_DENIED, denial_text(req.op, ruling))
        self.pending[req.id] = _Pending("op", req, ruling)
        return None

    # ------------------------------------------------------------------ target → client

    def _from_target(self) -> int:
        splitter, total = sc.PacketSplitter(), 0
        while True:
            try:
                data = self.up.recv(CHUNK)
            except (OSError, EOFError, paramiko.SSHException):
                return total
            if not data:
                return total
            try:
                packets = splitter.feed(data)
                reads = [self._observe(sc.parse_reply(pkt)) for pkt in packets]
            except (sc.SftpProtocolError, ValueError, IndexError) as exc:
                log.warning("sftp protocol error from target: %s", exc, extra={"session_id": self.sess.session.id})
                self.client.close()
                return total
            if not packets:
                continue
            size = sum(len(p) for p in packets)
            out: bytes | memoryview = memoryview(packets[0].obj)[:size]
            if self.live is not None and any(reads):
                out = b"".join(self._mask_data(p) if read else bytes(p) for p, read in zip(packets, reads, strict=True))
            try:
                with self.client_lock:
                    send_all(self.client.send, out)
            except (OSError, EOFError, ChannelGone, paramiko.SSHException):
                return total
            total += size

    def _mask_data(self, pkt: memoryview) -> bytes:
        """A DATA reply with sensitive values in text masked. The length must not change
        (clients compute the next offset from it): the masked data is padded or cut to size.
        Data that is not UTF-8 text (binary files) passes unchanged."""
        raw = bytes(pkt)
        data = raw[13:]  # uint32 length, byte type, uint32 id, uint32 data length
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return raw
        assert self.live is not None
        masked = self.live(data)
        if masked == data:
            return raw
        masked = masked[:len(data)].ljust(len(data), b"*")
        return raw[:13] + masked

    def _observe(self, reply: sc.Reply) -> bool:
        """Track handles and sizes; True for file data answering a read (maskable text)."""
        pending = self.pending.pop(reply.id, None) if reply.type != sc.VERSION else None
        if pending is None:
            return False
        req = pending.request
        if pending.kind == "read":
            entry = self.handles.get(req.handle)
            if entry is not None and reply.type == sc.DATA:
                entry.read += reply.size
                return entry.op == "open-read"
        elif pending.kind == "close":
            entry = self.handles.pop(req.handle, None)
            if entry is not None:
                self._audit_open(entry, sc.STATUS_NAMES.get(reply.status, str(reply.status)))
        elif reply.type == sc.HANDLE and req.type in (sc.OPEN, sc.OPENDIR) and pending.admission is not None:
            self.handles[reply.handle] = _Open(pending.admission, req.op)
        else:
            result = sc.STATUS_NAMES.get(reply.status, str(reply.status)) if reply.type == sc.STATUS else "ok"
            self._audit(pending, result)
        return False

    def _audit(self, pending: _Pending, result: str) -> None:
        if pending.admission is not None:
            self.sess.guard.finish(pending.admission, {"result": result})

    def _audit_open(self, entry: _Open, result: str) -> None:
        self.sess.guard.finish(entry.admission, {"bytes_read": entry.read, "bytes_written": entry.written,
                                                 "result": result})
