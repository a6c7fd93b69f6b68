"""Failed logins: free attempts, then doubling blocks per key, forgotten after the window,
cleared by a success; addresses and user names are separate keys."""

from __future__ import annotations

import pytest

from bastion.config.model import ThrottleConfig
from bastion.state.store import StateStore
from bastion.state.throttle import LoginThrottle, keys


@pytest.fixture()
def throttle(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    store.migrate()
    return LoginThrottle(store, ThrottleConfig(free_attempts=3, base_delay=1.0, max_delay=8.0, window=100.0))


def test_free_attempts_then_doubling_blocks_up_to_the_maximum(throttle):
    k = keys("10.0.0.1", "bob")
    delays = [throttle.failed(k, now=1000.0) for _ in range(8)]
    assert delays == [0, 0, 0, 1, 2, 4, 8, 8]
    assert throttle.wait(k, now=1000.0) == 8
    assert throttle.wait(k, now=1007.5) == pytest.approx(0.5)
    assert throttle.wait(k, now=1009.0) == 0


def test_a_blocked_address_blocks_every_user_name_and_a_blocked_user_every_address(throttle):
    for _ in range(4):
        throttle.failed(keys("10.0.0.1", "bob"), now=1000.0)
    assert throttle.wait(keys("10.0.0.1", "alice"), now=1000.0) > 0
    assert throttle.wait(keys("10.9.9.9", "BOB"), now=1000.0) > 0  # names compare case-insensitively
    assert throttle.wait(keys("10.9.9.9", "alice"), now=1000.0) == 0


def test_failures_are_forgotten_after_the_window_and_cleared_by_a_success(throttle):
    k = keys("10.0.0.2")
    for _ in range(3):
        throttle.failed(k, now=1000.0)
    assert throttle.failed(k, now=1200.0) == 0  # a new window: the first failure is free again
    for _ in range(3):
        throttle.failed(k, now=1201.0)
    throttle.succeeded(k)
    assert throttle.failed(k, now=1202.0) == 0


def test_disabled_throttle_never_blocks(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    store.migrate()
    off = LoginThrottle(store, ThrottleConfig(enabled=False))
    k = keys("10.0.0.3")
    assert all(off.failed(k) == 0 for _ in range(50)) and off.wait(k) == 0


@pytest.mark.parametrize("bad", [{"free_attempts": -1}, {"base_delay": 0}, {"max_delay": 0.5}, {"window": 0}])
def test_invalid_settings_are_refused(bad):
    with pytest.raises(ValueError):
        ThrottleConfig(**bad)
