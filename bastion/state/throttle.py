"""Failed logins slow down whoever keeps failing: per source address and per user name,
across MySQL, SSH and the web API, in the state store (every process and node agrees).

After ``free_attempts`` failures within ``window`` seconds, each further failure blocks
the key for ``base_delay * 2**n`` seconds (at most ``max_delay``); a login attempt while
a key is blocked is refused without looking at its credential. A success clears the
keys it used.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa

from bastion.config.model import ThrottleConfig
from bastion.state.store import StateStore, login_failures


def keys(address: str, user: str = "") -> list[str]:
    """The throttle keys of an attempt from ``address`` (an IP) naming ``user`` (if any)."""
    return [f"addr:{address}"] + ([f"user:{user.lower()[:255]}"] if user else [])


class LoginThrottle:
    def __init__(self, store: StateStore, cfg: ThrottleConfig) -> None:
        self.store = store
        self.cfg = cfg

    def wait(self, keys: Sequence[str], now: float | None = None) -> float:
        """Seconds until an attempt with ``keys`` may be tried (0: now)."""
        if not self.cfg.enabled:
            return 0.0
        now = time.time() if now is None else now
        with self.store.engine.begin() as conn:
            until = conn.execute(sa.select(sa.func.max(login_failures.c.blocked_until))
                                 .where(login_failures.c.key.in_(list(keys)))).scalar()
        return max(0.0, float(until) - now) if until is not None else 0.0

    def failed(self, keys: Sequence[str], now: float | None = None) -> float:
        """Count a failure for each key; returns the longest block it caused (seconds).
        Each count is a locked read-modify-write (``SELECT … FOR UPDATE``), so failures
        on several nodes at once are all counted; two first failures racing to insert the
        same key retry once as an update."""
        if not self.cfg.enabled:
            return 0.0
        now = time.time() if now is None else now
        longest = 0.0
        for key in keys:
            for attempt in (1, 2):
                try:
                    with self.store.engine.begin() as conn:
                        longest = max(longest, self._count(conn, key, now))
                    break
                except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
                    # two first failures inserting one key: a duplicate, or (MariaDB's gap
                    # locks) a deadlock that rolled one back; either way once more finds the row
                    deadlock = isinstance(exc, sa.exc.OperationalError) and getattr(exc.orig, "args", [0])[0] == 1213
                    if attempt == 2 or not (deadlock or isinstance(exc, sa.exc.IntegrityError)):
                        raise
        return longest

    def _count(self, conn: sa.Connection, key: str, now: float) -> float:
        row = conn.execute(sa.select(login_failures).where(login_failures.c.key == key)
                           .with_for_update()).mappings().first()
        fresh = row is None or now - row["first_at"] > self.cfg.window
        failures = 1 if fresh else int(row["failures"]) + 1  # type: ignore[index]
        first = now if fresh else float(row["first_at"])  # type: ignore[index]
        delay = self._delay(failures)
        values = {"failures": failures, "first_at": first, "blocked_until": now + delay}
        if row is None:
            conn.execute(login_failures.insert().values(key=key, **values))
        else:
            conn.execute(login_failures.update().where(login_failures.c.key == key).values(**values))
        return delay

    def _delay(self, failures: int) -> float:
        over = failures - self.cfg.free_attempts
        if over <= 0:
            return 0.0
        return min(self.cfg.max_delay, self.cfg.base_delay * 2 ** min(over - 1, 30))

    def succeeded(self, keys: Sequence[str]) -> None:
        """Clear the keys' failures (a read only, when there are none: the usual case)."""
        where = login_failures.c.key.in_(list(keys))
        with self.store.engine.begin() as conn:
            if conn.execute(sa.select(login_failures.c.key).where(where).limit(1)).first() is not None:
                conn.execute(login_failures.delete().where(where))

    def prune(self, now: float | None = None) -> None:
        """Forget keys whose window has passed and that are not blocked."""
        now = time.time() if now is None else now
        with self.store.engine.begin() as conn:
            conn.execute(login_failures.delete().where(login_failures.c.first_at < now - self.cfg.window,
                                                       login_failures.c.blocked_until < now))
