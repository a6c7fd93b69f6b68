"""SFTP packet splitting and classification."""

from __future__ import annotations

import pytest

from plugins.ssh import sftpcodec as sc


def _write(rid: int, handle: bytes, data: bytes) -> bytes:
    return sc.build_request(sc.WRITE, rid, handle, 0, 0, data)


def test_splitter_reassembles_across_chunks():
    stream = sc.build_request(sc.OPEN, 1, b"/tmp/a", sc.PF_READ, 0) + _write(2, b"h1", b"x" * 1000)
    splitter = sc.PacketSplitter()
    out = []
    for i in range(0, len(stream), 7):
        out += [bytes(p) for p in splitter.feed(stream[i:i + 7])]
    assert b"".join(out) == stream and len(out) == 2 and splitter.pending == 0


def test_splitter_rejects_absurd_lengths():
    with pytest.raises(sc.SftpProtocolError):
        sc.PacketSplitter().feed((sc.MAX_PACKET + 1).to_bytes(4, "big") + b"\x03")
    with pytest.raises(sc.SftpProtocolError):
        sc.PacketSplitter().feed(b"\x00\x00\x00\x00")


def _req(raw: bytes) -> sc.Request:
    return sc.parse_request(memoryview(raw))


@pytest.mark.parametrize(("flags", "op"), [
    (sc.PF_READ, "open-read"), (sc.PF_WRITE | sc.PF_CREAT | sc.PF_TRUNC, "open-write"),
    (sc.PF_READ | sc.PF_APPEND, "open-write"), (sc.PF_CREAT, "open-write"),
])
def test_open_classification(flags, op):
    req = _req(sc.build_request(sc.OPEN, 7, "/srv/ü.txt".encode(), flags, 0))
    assert (req.type, req.id, req.op, req.path, req.pflags) == (sc.OPEN, 7, op, "/srv/ü.txt", flags)


@pytest.mark.parametrize(("ptype", "args", "op", "path", "target"), [
    (sc.REMOVE, (b"/a",), "remove", "/a", ""),
    (sc.MKDIR, (b"/d", 0), "mkdir", "/d", ""),
    (sc.RMDIR, (b"/d",), "rmdir", "/d", ""),
    (sc.OPENDIR, (b"/d",), "list", "/d", ""),
    (sc.SETSTAT, (b"/a", 0), "setstat", "/a", ""),
    (sc.RENAME, (b"/a", b"/b"), "rename", "/a", "/b"),
    (sc.SYMLINK, (b"/l", b"/t"), "symlink", "/l", "/t"),
    (sc.STAT, (b"/a",), "", "", ""),
    (sc.REALPATH, (b".",), "", "", ""),
])
def test_path_requests(ptype, args, op, path, target):
    req = _req(sc.build_request(ptype, 9, *args))
    assert (req.op, req.path, req.target_path) == (op, path, target)


def test_handle_requests():
    write = _req(_write(3, b"hh", b"data!"))
    assert (write.type, write.handle, write.size, write.op) == (sc.WRITE, b"hh", 5, "")
    read = _req(sc.build_request(sc.READ, 4, b"hh", 0, 0, 32768))
    assert (read.type, read.handle, read.size) == (sc.READ, b"hh", 32768)
    fset = _req(sc.build_request(sc.FSETSTAT, 5, b"hh", 0))
    assert (fset.op, fset.handle) == ("setstat", b"hh")
    assert _req(sc.build_request(sc.CLOSE, 6, b"hh")).handle == b"hh"


def test_extended_requests():
    rename = _req(sc.build_request(sc.EXTENDED, 1, b"posix-rename@openssh.com", b"/a", b"/b"))
    assert (rename.op, rename.path, rename.target_path) == ("rename", "/a", "/b")
    link = _req(sc.build_request(sc.EXTENDED, 2, b"hardlink@openssh.com", b"/a", b"/b"))
    assert link.op == "link"
    statvfs = _req(sc.build_request(sc.EXTENDED, 3, b"statvfs@openssh.com", b"/"))
    assert not statvfs.op and not statvfs.unsupported
    assert _req(sc.build_request(sc.EXTENDED, 4, b"evil@example.com", b"/")).unsupported


def test_truncated_request_is_an_error():
    raw = sc.build_request(sc.RENAME, 1, b"/a", b"/b")
    truncated = (len(raw) - 6).to_bytes(4, "big") + raw[4:-2]
    with pytest.raises(sc.SftpProtocolError):
        _req(truncated)


def test_replies_and_status():
    status = sc.build_status(12, sc.FX_PERMISSION_DENIED, "bastion: no")
    reply = sc.parse_reply(memoryview(status))
    assert (reply.type, reply.id, reply.status, reply.message) == (sc.STATUS, 12, 3, "bastion: no")
    handle = sc.parse_reply(memoryview(sc.build_request(sc.HANDLE, 5, b"H1")))
    assert (handle.type, handle.id, handle.handle) == (sc.HANDLE, 5, b"H1")
    data = sc.parse_reply(memoryview(sc.build_request(sc.DATA, 6, b"x" * 100)))
    assert (data.type, data.size) == (sc.DATA, 100)
    assert sc.parse_reply(memoryview(b"\x00\x00\x00\x05\x02\x00\x00\x00\x03")).type == sc.VERSION
