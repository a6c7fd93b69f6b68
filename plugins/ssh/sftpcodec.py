"""SFTP v3 packets as OpenSSH speaks them (draft-ietf-secsh-filexfer-02): sans-IO.

The bastion terminates the ``sftp`` subsystem only far enough to judge operations: it
splits the byte stream into packets (``uint32 length, byte type, uint32 id, …``),
classifies client requests into :class:`Request` (with the ``FileOp`` name of the ones
rules judge) and reads the few reply fields the audit needs (handles, data sizes,
status codes). Everything else is forwarded byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

INIT, VERSION, OPEN, CLOSE, READ, WRITE, LSTAT, FSTAT, SETSTAT, FSETSTAT = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
OPENDIR, READDIR, REMOVE, MKDIR, RMDIR, REALPATH, STAT, RENAME, READLINK, SYMLINK = range(11, 21)
EXTENDED, EXTENDED_REPLY = 200, 201
STATUS, HANDLE, DATA, NAME, ATTRS = 101, 102, 103, 104, 105

FX_OK, FX_EOF, FX_NO_SUCH_FILE, FX_PERMISSION_DENIED, FX_FAILURE, FX_BAD_MESSAGE = 0, 1, 2, 3, 4, 5
FX_OP_UNSUPPORTED = 8
STATUS_NAMES = {0: "ok", 1: "eof", 2: "no such file", 3: "permission denied", 4: "failure",
                5: "bad message", 6: "no connection", 7: "connection lost", 8: "unsupported"}

PF_READ, PF_WRITE, PF_APPEND, PF_CREAT, PF_TRUNC, PF_EXCL = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

MAX_PACKET = 1 << 20
"""OpenSSH's sftp-server refuses messages above 256 KiB; anything over 1 MiB is an attack."""

_PATH_OPS = {OPENDIR: "list", REMOVE: "remove", MKDIR: "mkdir", RMDIR: "rmdir", SETSTAT: "setstat"}
_TWO_PATH_OPS = {RENAME: "rename", SYMLINK: "symlink"}
_HANDLE_TYPES = {CLOSE, READ, WRITE, FSTAT, FSETSTAT, READDIR}
_EXTENDED_JUDGED = {"posix-rename@openssh.com": "rename", "hardlink@openssh.com": "link",
                    "lsetstat@openssh.com": "setstat"}
EXTENDED_PASSTHROUGH = frozenset({
    "statvfs@openssh.com", "fstatvfs@openssh.com", "fsync@openssh.com", "limits@openssh.com",
    "expand-path@openssh.com", "copy-data", "home-directory", "users-groups-by-id@openssh.com"})
"""Extensions that read metadata or act on handles already judged at open."""


class SftpProtocolError(Exception):
    """The stream is not SFTP (oversized or truncated packet)."""


class PacketSplitter:
    """Cuts a byte stream into whole SFTP packets (each returned with its length prefix)."""

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, data: bytes) -> list[memoryview]:
        buf = self._rest + data if self._rest else data
        mv = memoryview(buf)
        packets: list[memoryview] = []
        off, end = 0, len(buf)
        while end - off >= 4:
            length = int.from_bytes(mv[off:off + 4], "big")
            if length < 1 or length > MAX_PACKET:
                raise SftpProtocolError(f"SFTP packet length {length} out of range")
            if end - off - 4 < length:
                break
            packets.append(mv[off:off + 4 + length])
            off += 4 + length
        self._rest = bytes(mv[off:]) if off < end else b""
        return packets

    @property
    def pending(self) -> int:
        return len(self._rest)


def _string(pkt: memoryview, off: int) -> tuple[bytes, int]:
    if off + 4 > len(pkt):
        raise SftpProtocolError("truncated SFTP packet")
    n = int.from_bytes(pkt[off:off + 4], "big")
    if off + 4 + n > len(pkt):
        raise SftpProtocolError("truncated SFTP string")
    return bytes(pkt[off + 4:off + 4 + n]), off + 4 + n


def _uint32(pkt: memoryview, off: int) -> int:
    if off + 4 > len(pkt):
        raise SftpProtocolError("truncated SFTP packet")
    return int.from_bytes(pkt[off:off + 4], "big")


def text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Request:
    """One client request: its type and id, and what the audit and the rules need."""

    type: int
    id: int
    op: str = ""
    """FileOp name when rules judge this request (``open-read``, ``remove``…), else empty."""
    path: str = ""
    target_path: str = ""
    handle: bytes = b""
    size: int = 0
    """Bytes carried by a WRITE, or asked for by a READ."""
    pflags: int = 0
    extension: str = ""
    unsupported: bool = False
    """An extension the bastion cannot judge: answered OP_UNSUPPORTED, never forwarded."""


def parse_request(pkt: memoryview) -> Request:
    """Classify one client packet (``pkt`` includes the 4-byte length)."""
    if len(pkt) < 5:
        raise SftpProtocolError("empty SFTP packet")
    ptype = pkt[4]
    if ptype == INIT:
        return Request(INIT, 0)
    rid = _uint32(pkt, 5)
    if ptype == OPEN:
        path, off = _string(pkt, 9)
        pflags = _uint32(pkt, off)
        writes = pflags & (PF_WRITE | PF_APPEND | PF_CREAT | PF_TRUNC)
        return Request(OPEN, rid, "open-write" if writes else "open-read", text(path), pflags=pflags)
    if ptype in _PATH_OPS:
        path, _ = _string(pkt, 9)
        return Request(ptype, rid, _PATH_OPS[ptype], text(path))
    if ptype in _TWO_PATH_OPS:
        first, off = _string(pkt, 9)
        second, _ = _string(pkt, off)
        return Request(ptype, rid, _TWO_PATH_OPS[ptype], text(first), text(second))
    if ptype in _HANDLE_TYPES:
        handle, off = _string(pkt, 9)
        if ptype == WRITE:
            return Request(WRITE, rid, handle=handle, size=_uint32(pkt, off + 8))
        if ptype == READ:
            return Request(READ, rid, handle=handle, size=_uint32(pkt, off + 8))
        return Request(ptype, rid, "setstat" if ptype == FSETSTAT else "", handle=handle)
    if ptype == EXTENDED:
        return _parse_extended(pkt, rid)
    return Request(ptype, rid)


def _parse_extended(pkt: memoryview, rid: int) -> Request:
    raw, off = _string(pkt, 9)
    name = text(raw)
    op = _EXTENDED_JUDGED.get(name)
    if op is None:
        return Request(EXTENDED, rid, extension=name, unsupported=name not in EXTENDED_PASSTHROUGH)
    first, off = _string(pkt, off)
    second = b""
    if op in ("rename", "link"):
        second, _ = _string(pkt, off)
    return Request(EXTENDED, rid, op, text(first), text(second), extension=name)


@dataclass(frozen=True, slots=True)
class Reply:
    type: int
    id: int
    handle: bytes = b""
    size: int = 0
    status: int = -1
    message: str = ""


def parse_reply(pkt: memoryview) -> Reply:
    """The fields of a server reply the bastion tracks (``pkt`` includes the length)."""
    if len(pkt) < 5:
        raise SftpProtocolError("empty SFTP packet")
    ptype = pkt[4]
    if ptype == VERSION:
        return Reply(VERSION, 0)
    rid = _uint32(pkt, 5)
    if ptype == HANDLE:
        handle, _ = _string(pkt, 9)
        return Reply(HANDLE, rid, handle=handle)
    if ptype == DATA:
        return Reply(DATA, rid, size=_uint32(pkt, 9))
    if ptype == STATUS:
        code = _uint32(pkt, 9)
        try:
            message = text(_string(pkt, 13)[0])
        except SftpProtocolError:
            message = ""  # SFTP v1/v2 servers send the code alone
        return Reply(STATUS, rid, status=code, message=message)
    return Reply(ptype, rid)


def _pack_string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def build_status(request_id: int, code: int, message: str) -> bytes:
    """A complete STATUS packet (with its length prefix)."""
    body = (bytes([STATUS]) + request_id.to_bytes(4, "big") + code.to_bytes(4, "big")
            + _pack_string(message.encode("utf-8")) + _pack_string(b"en"))
    return len(body).to_bytes(4, "big") + body


def build_request(ptype: int, request_id: int, *fields: bytes | int) -> bytes:
    """A client packet from strings (bytes) and uint32s (int); used by tests and tools."""
    body = bytes([ptype]) + request_id.to_bytes(4, "big")
    for f in fields:
        body += _pack_string(f) if isinstance(f, bytes) else f.to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + body
