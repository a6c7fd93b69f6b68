"""Waiting for a socket to become readable with its libev watcher left armed between waits."""

from __future__ import annotations

from typing import Any

from gevent import get_hub, getcurrent

from bastion.runtime import busypoll


class Readable:
    """Waits until a socket is readable, its libev watcher left armed between waits.

    gevent's socket starts a watcher before each wait and stops it after; libev then
    registers the descriptor with epoll again on the next wait (an ``EPOLL_CTL_ADD``
    that fails with EEXIST): a syscall per read, two per statement. This watcher stays
    armed while the connection keeps being read and is stopped only when it fires with
    nobody waiting (data arrived while the session was busy elsewhere)."""

    __slots__ = ("_hub", "_watcher", "_waiter")

    def __init__(self, fd: int) -> None:
        self._hub = get_hub()
        self._watcher = self._hub.loop.io(fd, 1)
        self._waiter: Any = None

    def wait(self) -> None:
        """Block this greenlet until the socket is readable (or the greenlet is killed)."""
        if self._waiter is not None:
            raise RuntimeError("two greenlets wait for the same connection")
        if not self._watcher.active:
            self._watcher.start(self._ready)
        self._waiter = getcurrent()
        try:
            self._hub.switch()
        finally:
            self._waiter = None

    def _ready(self) -> None:
        busypoll.activity()
        waiter = self._waiter
        if waiter is None:
            self._watcher.stop()
            return
        self._waiter = None
        waiter.switch()

    def close(self) -> None:
        self._watcher.stop()
        self._watcher.close()
