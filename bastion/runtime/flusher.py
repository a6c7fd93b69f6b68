"""The journal's fdatasync in a small child process, so the relay never shares its GIL.

Group commit (bastion.audit.journal) flushes off the hub so other sessions go on during
the disk's latency. Run in the hub's thread pool, every flush is a round of GIL handoffs
between the pool thread and the busy hub: on the 2-vCPU development VM, 3–4 futex calls
per statement and about 170 µs of CPU per point-select went to it (``strace -c`` of
``bench/mysql.py``, text protocol, 8 clients). A child process needs no GIL of ours: the
hub sends it the journal's file descriptor over a Unix socket (``SCM_RIGHTS``, so a
rotated segment needs nothing special), the child runs ``fdatasync`` on it — the flush of
the file, whichever descriptor names it — and answers with the result, while the calling
greenlet waits on the socket like any other I/O.

Failure is never an allow: if the child is gone or answers garbage, the flush runs in the
thread pool as before (and a new child is started for the next one); an ``fdatasync``
error in the child is raised to the journal as the ``OSError`` it was, and the journal
fails closed on it. The child exits when the bastion's end of the socket closes (the
bastion exited, even by ``kill -9``).
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import subprocess
import sys
from collections.abc import Callable

log = logging.getLogger("bastion.runtime.flusher")

_CHILD = """
import os, socket, struct, sys
sock = socket.socket(fileno=int(sys.argv[1]))
sock.setblocking(True)  # the bastion's gevent made its end non-blocking
while True:
    try:
        msg, fds, _flags, _addr = socket.recv_fds(sock, 16, 1)
    except OSError:
        break
    if not msg:
        break
    err = 0
    for fd in fds:
        try:
            os.fdatasync(fd)
        except OSError as exc:
            err = exc.errno or 5
        finally:
            os.close(fd)
    if len(fds) != 1:
        err = err or 9
    sock.send(struct.pack("<i", err))
"""
"""The child's whole program: receive a descriptor, fdatasync it, answer 0 or the errno."""


class Flusher:
    """``flush(fd)``: fdatasync ``fd`` in the child (started on first use)."""

    def __init__(self, fallback: Callable[[Callable[[int], None], int], None]) -> None:
        """``fallback(os.fdatasync, fd)`` flushes when the child cannot (the thread pool)."""
        self._fallback = fallback
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _CHILD, str(theirs.fileno())],
                                          pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, close_fds=True)
        finally:
            theirs.close()
        self._sock = ours
        return ours

    def flush(self, fd: int) -> None:
        """Return once ``fd``'s data is on disk; raise the ``OSError`` of a failed flush."""
        try:
            sock = self._sock or self._start()
            socket.send_fds(sock, [b"s"], [fd])
            answer = sock.recv(16)
            if len(answer) != 4:
                raise ConnectionError("the flusher process is gone")
        except OSError as exc:  # the child, not the disk: flush in the thread pool instead
            log.warning("journal flusher process unavailable (%s): flushing in a thread", exc)
            self.close()
            self._fallback(os.fdatasync, fd)
            return
        err = struct.unpack("<i", answer)[0]
        if err:
            raise OSError(err, f"fdatasync: {os.strerror(err)}")

    def close(self) -> None:
        """End the child (it exits when its socket closes)."""
        sock, proc, self._sock, self._proc = self._sock, self._proc, None, None
        if sock is not None:
            sock.close()
        if proc is not None:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
