"""Busy polling: the hub keeps polling for a short while after I/O instead of sleeping.

When the process goes to sleep in ``epoll_wait`` between two packets, the next packet's
sender has to wake it: on a virtual machine that wake-up of a task on another CPU costs
the sender (the database, the client) more than a point-select costs the database, and
the sleeping side pays for halting and resuming its CPU too (docs/performance.md). With
busy polling on, after each readiness reported through :func:`activity` the hub polls
without blocking (libev's *idle* watcher) until ``window`` has passed with no further
activity, then sleeps as before. It trades CPU time the process would not have used for
latency and for the senders' CPU: for a bastion with CPUs of its own, never for one that
shares its CPUs with the database or other busy processes. Off unless configured
(``listeners.mysql.options.busy_poll_us``).
"""

from __future__ import annotations

import time
from typing import Any

import gevent

__all__ = ["BusyPoll", "activity", "enable"]


class BusyPoll:
    """Keeps the current hub's loop polling for ``window`` seconds after each activity."""

    __slots__ = ("_idle", "_loop", "last", "ticks", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self._loop: Any = gevent.get_hub().loop
        self._idle: Any = self._loop.idle()
        self.last = 0.0
        self.ticks = 0
        """Polls made while spinning (for tests and curiosity)."""

    @property
    def spinning(self) -> bool:
        return bool(self._idle.active)

    def activity(self) -> None:
        """Something was readable just now: keep polling for another ``window``."""
        # time.monotonic, not the loop's cached time: that is stale when the hub slept.
        self.last = time.monotonic()
        if not self._idle.active:
            self._idle.start(self._tick)

    def _tick(self) -> None:
        # Runs only when the loop has nothing else to do; while it stays started, libev
        # polls with a zero timeout instead of sleeping.
        self.ticks += 1
        if time.monotonic() - self.last > self.window:
            self._idle.stop()

    def stop(self) -> None:
        self._idle.stop()


_current: BusyPoll | None = None


def enable(window_us: int) -> BusyPoll | None:
    """Busy-poll for ``window_us`` microseconds after each activity (0: off). Idempotent;
    a later call with another window replaces the first."""
    global _current
    if _current is not None:
        if _current.window == window_us / 1e6:
            return _current
        _current.stop()
        _current = None
    if window_us > 0:
        _current = BusyPoll(window_us / 1e6)
    return _current


def activity() -> None:
    """Report readiness (a no-op unless busy polling is enabled)."""
    if _current is not None:
        _current.activity()
