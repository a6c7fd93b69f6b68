"""IdleWatch: raises in its greenlet only after a whole timeout spent waiting."""

from __future__ import annotations

import gevent
import pytest

from bastion.runtime.idle import IdleTimeout, IdleWatch


def run(body, seconds: float = 0.2):  # type: ignore[no-untyped-def]
    """Run ``body(watch)`` in a greenlet; returns what it returned or the exception it raised."""
    def main():  # type: ignore[no-untyped-def]
        watch = IdleWatch(seconds)
        try:
            return body(watch)
        except IdleTimeout as exc:
            return exc
        finally:
            watch.stop()
    return gevent.spawn(main).get(timeout=5)


def test_waiting_past_the_timeout_raises():
    def body(watch):  # type: ignore[no-untyped-def]
        watch.waiting()
        gevent.sleep(1)
        return "not interrupted"
    assert isinstance(run(body), IdleTimeout)


def test_busy_time_never_counts():
    def body(watch):  # type: ignore[no-untyped-def]
        watch.busy()
        gevent.sleep(0.5)  # a long statement: 2.5 timeouts
        watch.waiting()
        gevent.sleep(0.1)  # then waiting, for half a timeout
        return "served"
    assert run(body) == "served"


def test_commands_keep_the_session_alive():
    def body(watch):  # type: ignore[no-untyped-def]
        for _ in range(8):  # 0.8 s in all, never 0.2 s without a command
            watch.waiting()
            gevent.sleep(0.1)
            watch.busy()
        return "alive"
    assert run(body) == "alive"


@pytest.mark.parametrize("waits", [[0.15, 0.15], [0.05, 0.3]])
def test_the_timeout_measures_from_the_last_command(waits):
    def body(watch):  # type: ignore[no-untyped-def]
        for pause in waits:
            watch.waiting()
            gevent.sleep(pause)
            watch.busy()
        return "done"
    result = run(body)
    assert (result == "done") is (max(waits) < 0.2)
