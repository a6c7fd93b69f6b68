"""Idle timeouts that cost nothing per command.

A socket timeout on every read arms and cancels a timer each time the session waits
for its client: a measurable share of a point-select's cost (bench/mysql.py). An
:class:`IdleWatch` keeps one timer per session instead, re-armed only when it fires:
the session marks when it starts waiting (:meth:`waiting`) and when a command arrives
(:meth:`busy`); the timer raises :class:`IdleTimeout` in the session's greenlet only if
it has been waiting, without a command, for the whole timeout. Time spent *serving* a
command (a long query, an approval hold) never counts as idle.
"""

from __future__ import annotations

import time
from typing import Any

import gevent

__all__ = ["IdleTimeout", "IdleWatch"]


class IdleTimeout(TimeoutError):
    """The client sent nothing for the whole idle timeout."""


class IdleWatch:
    """One lazily re-armed timer that interrupts the greenlet which created the watch."""

    __slots__ = ("_glet", "_loop", "_timer", "is_waiting", "seconds", "since")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.since = time.monotonic()
        self.is_waiting = False
        self._glet = gevent.getcurrent()
        self._loop = gevent.get_hub().loop
        self._timer = self._arm(seconds)

    def waiting(self) -> None:
        """The session starts waiting for the client's next command."""
        self.since = time.monotonic()
        self.is_waiting = True

    def busy(self) -> None:
        """A command arrived: serving it is not idle time."""
        self.is_waiting = False

    def stop(self) -> None:
        self._timer.stop()
        self._timer.close()

    def _arm(self, seconds: float) -> Any:  # a gevent loop timer watcher (untyped)
        timer = self._loop.timer(max(seconds, 0.001))
        timer.start(self._fire)
        return timer

    def _fire(self) -> None:
        self._timer.close()
        left = self.since + self.seconds - time.monotonic() if self.is_waiting else self.seconds
        if left <= 0:
            self._timer = self._arm(self.seconds)  # if the session survives the exception
            self._glet.throw(IdleTimeout(f"no command for {self.seconds:g}s"))
        else:
            self._timer = self._arm(left)
