"""The journal's flusher process: it flushes the descriptor it is sent, reports the
flush's own failure, and a flusher that is gone never loses a flush (the fallback runs)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bastion.runtime.flusher import Flusher


class Fallback:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, fn: Callable[[int], None], fd: int) -> None:
        self.calls.append(fd)
        fn(fd)


@pytest.fixture
def flusher() -> Iterator[tuple[Flusher, Fallback]]:
    fallback = Fallback()
    f = Flusher(fallback)
    yield f, fallback
    f.close()


def test_a_file_is_flushed_by_the_child(tmp_path: Path, flusher: tuple[Flusher, Fallback]) -> None:
    f, fallback = flusher
    fd = os.open(tmp_path / "journal.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for i in range(3):
            os.write(fd, b"record %d\n" % i)
            f.flush(fd)
    finally:
        os.close(fd)
    assert fallback.calls == []
    assert f._proc is not None and f._proc.poll() is None  # one child served every flush


def test_the_childs_flush_error_reaches_the_journal(flusher: tuple[Flusher, Fallback]) -> None:
    f, fallback = flusher
    r, w = os.pipe()  # fdatasync on a pipe fails with EINVAL
    try:
        with pytest.raises(OSError) as info:
            f.flush(w)
    finally:
        os.close(r)
        os.close(w)
    assert info.value.errno == errno.EINVAL and fallback.calls == []


def test_a_dead_child_never_loses_a_flush(tmp_path: Path, flusher: tuple[Flusher, Fallback]) -> None:
    f, fallback = flusher
    fd = os.open(tmp_path / "journal.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        f.flush(fd)
        assert f._proc is not None
        f._proc.kill()
        f._proc.wait()
        f.flush(fd)  # the child is gone: the fallback flushes
        assert fallback.calls == [fd]
        f.flush(fd)  # and a new child takes the next one
        assert fallback.calls == [fd] and f._proc is not None and f._proc.poll() is None
    finally:
        os.close(fd)


def test_the_child_exits_when_the_bastion_closes_it(flusher: tuple[Flusher, Fallback]) -> None:
    f, _ = flusher
    r, w = os.pipe()
    os.close(r)
    with pytest.raises(OSError):
        f.flush(w)
    os.close(w)
    proc = f._proc
    assert proc is not None
    f.close()
    assert proc.poll() is not None


GEVENT_RUN = """
from gevent import monkey; monkey.patch_all()
import os, sys, time
from bastion.runtime.flusher import Flusher
fallbacks = []
f = Flusher(lambda fn, fd: (fallbacks.append(fd), fn(fd)))
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
for i in range(5):
    os.write(fd, b"record\\n")
    f.flush(fd)
    time.sleep(0.05)  # the child is back in its recv by now
f.close()
print(len(fallbacks))
"""


def test_under_gevent_the_child_serves_the_flushes(tmp_path: Path) -> None:
    """gevent makes the socket pair non-blocking; the child's end must still wait."""
    res = subprocess.run([sys.executable, "-c", GEVENT_RUN, str(tmp_path / "j")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "0", res.stderr
