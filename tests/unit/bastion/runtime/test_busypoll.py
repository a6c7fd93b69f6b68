"""BusyPoll keeps the hub polling for its window after activity, then lets it sleep."""

from __future__ import annotations

import time

import gevent
import pytest

from bastion.runtime import busypoll
from bastion.runtime.busypoll import BusyPoll


@pytest.fixture(autouse=True)
def _off():
    yield
    busypoll.enable(0)


def _stops(poll: BusyPoll, within: float = 10.0) -> bool:
    """Whether the poll stops spinning within ``within`` seconds (generous: a loaded
    machine may stall the hub; what matters is that it stops by itself)."""
    deadline = time.monotonic() + within
    while poll.spinning and time.monotonic() < deadline:
        gevent.sleep(0.05)
    return not poll.spinning


def test_the_loop_polls_during_the_window_and_sleeps_after_it():
    poll = BusyPoll(0.5)
    assert not poll.spinning
    gevent.sleep(0)
    time.sleep(0.2)  # the hub's cached clock is now stale (as after a long sleep of the hub)
    poll.activity()
    assert poll.spinning
    gevent.sleep(0.02)  # the hub has nothing to do but poll
    assert poll.ticks > 0 and poll.spinning
    assert _stops(poll)
    after = poll.ticks
    gevent.sleep(0.05)
    assert poll.ticks == after  # asleep: no more polls


def test_activity_extends_the_window():
    poll = BusyPoll(3.0)
    started = time.monotonic()
    for _ in range(5):
        poll.activity()
        gevent.sleep(0.7)
        assert poll.spinning  # 3.5 s in all: past the first window only because of the activity
    assert time.monotonic() - started > 3.0
    assert _stops(poll)


def test_other_greenlets_run_while_it_spins():
    poll = BusyPoll(0.2)
    poll.activity()
    done = gevent.spawn(lambda: sum(range(1000)))
    assert done.get(timeout=0.1) == 499500
    poll.stop()


def test_enable_is_off_by_default_and_idempotent():
    assert busypoll.enable(0) is None
    busypoll.activity()  # a no-op while off
    first = busypoll.enable(500)
    assert first is not None and busypoll.enable(500) is first
    second = busypoll.enable(800)
    assert second is not first and second is not None and second.window == pytest.approx(0.0008)
    busypoll.activity()
    assert second.spinning and not first.spinning
    assert busypoll.enable(0) is None
