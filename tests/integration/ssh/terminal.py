"""A real program on a pseudo-terminal, driven like a person at a keyboard."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: the real client
            # as at a person's terminal: Ctrl-C and Ctrl-\ act, whatever the test process
            # inherited or set up (an ignored SIGINT, or one its event loop blocks)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
                signal.signal(sig, signal.SIG_DFL)
            os.execvpe(argv[0], argv, {**os.environ, "TERM": "xterm", **(env or {})})
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        self.buffer = b""
        self.status: int | None = None

    def read_until(self, needle: bytes, timeout: float = 15) -> bytes:
        """Everything read so far once ``needle`` appears (or when the time is up)."""
        deadline = time.monotonic() + timeout
        while needle not in self.buffer and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                self.buffer += chunk
        return self.buffer

    def expect(self, needle: bytes, timeout: float = 15) -> bytes:
        out = self.read_until(needle, timeout)
        assert needle in out, f"{needle!r} not seen; got:\n{out.decode(errors='replace')[-2000:]}"
        return out

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 15) -> int:
        """The client's exit code (drains the terminal meanwhile)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            self.read_until(b"\x00never\x00", 0.1)
        raise TimeoutError(f"client still running; output:\n{self.buffer.decode(errors='replace')[-2000:]}")

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)
