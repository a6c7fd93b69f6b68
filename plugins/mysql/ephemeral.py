"""Per-session MariaDB/MySQL users: created at login, dropped at the end, orphans swept.

For a session granted an account that has a template (``plugins.mysql.templates``), the
bastion logs in to the target with the template's *provisioning* account (the only
vaulted credential), creates ``b_<person>_<hex>`` with a random password that lives only
in this process's memory, grants the template's role or privileges, and the session's
upstream leg logs in as that user — so ``CURRENT_USER()``, the processlist and the
target's own logs name the person. :func:`release` drops the user when the session ends.

Crash safety: a row in ``ephemeral_accounts`` is written before ``CREATE USER`` and
deleted after ``DROP USER``. :func:`sweep` (at start-up and every ``SWEEP_SECONDS``)
drops every user on the target that matches the name pattern and has no row, and every
user whose row belongs to this node but to no session of this process (at start-up:
all of this node's rows — a ``kill -9`` left them). Other nodes' rows are theirs.
"""

from __future__ import annotations

import logging
import secrets
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent
import pymysql

from bastion.audit.state import node_id
from bastion.core.types import Session, Target
from bastion.state.ephemeral import EphemeralAccounts, EphemeralRow
from plugins.mysql.templates import NAME_PATTERN, Template, grant_statement, templates, user_name

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.mysql.ephemeral")

SWEEP_SECONDS = 60.0


class EphemeralError(Exception):
    """The per-session user could not be made (message safe to show: no secrets)."""


@dataclass(frozen=True, slots=True)
class Lease:
    target: str
    template: Template
    user: str
    host: str
    password: bytes

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"Lease({self.target!r}, {self.user!r}@{self.host!r})"


_LEASES: dict[str, Lease] = {}
"""Session id -> its live lease, in this process."""


def template_for(target: Target, account: str) -> Template | None:
    return templates(target.options).get(account)


def live_login(target: str, user: str) -> tuple[str, bytes] | None:
    """The credential of a live per-session user of this process (for ``KILL`` from another
    connection of the same session), else None."""
    for lease in list(_LEASES.values()):
        if lease.target == target and lease.user == user:
            return lease.user, lease.password
    return None


_IDLE: dict[tuple[str, str, str, int], list[tuple[float, Any]]] = {}
"""Idle provisioning connections by (target, account, host, port): creating and dropping a
user then costs two statements, not two TLS logins (bench/sessions.py)."""
MAX_IDLE, IDLE_SECONDS = 4, 60.0


@contextmanager
def provisioner(ctx: PluginContext, target: Target, account: str) -> Iterator[Any]:
    """A cursor on ``target`` as the vaulted provisioning ``account`` (autocommit); the
    connection goes back to a small idle pool when the block ends without an error."""
    key = (target.name, account, target.host, target.port)
    conn = _idle(key) or _open(ctx, target, account)
    try:
        with conn.cursor() as cur:
            yield cur
    except BaseException:
        _close(conn)
        raise
    pool = _IDLE.setdefault(key, [])
    if len(pool) < MAX_IDLE:
        pool.append((time.monotonic(), conn))
    else:
        _close(conn)


def _idle(key: tuple[str, str, str, int]) -> Any:
    pool = _IDLE.get(key, [])
    while pool:
        since, conn = pool.pop()
        if time.monotonic() - since < IDLE_SECONDS:
            try:
                conn.ping(reconnect=False)
                return conn
            except pymysql.err.MySQLError:
                pass
        _close(conn)
    return None


def _close(conn: Any) -> None:
    try:
        conn.close()
    except pymysql.err.Error:
        pass  # already closed by the server or a failed ping


def _open(ctx: PluginContext, target: Target, account: str) -> Any:
    secret = ctx.vault.get(target.name, account)
    user = str((target.options.get("users") or {}).get(account, account))
    return pymysql.connect(host=target.host, port=target.port, user=user, password=secret.value,
                           connect_timeout=float(target.options.get("connect_timeout", 10)),
                           ssl=ssl_options(target), autocommit=True, program_name="bastion-provision")


def ssl_options(target: Target) -> dict[str, Any] | None:
    mode = target.tls.mode
    if mode == "disabled":
        return None
    if mode == "verify-full":
        return {"ca": target.tls.ca_file, "check_hostname": True, "verify_mode": ssl.CERT_REQUIRED}
    return {"check_hostname": False, "verify_mode": ssl.CERT_NONE}


def acquire(ctx: PluginContext, session: Session) -> Lease | None:
    """Create the session's own user if its account has a template (else None)."""
    template = template_for(session.target, session.account)
    if template is None:
        return None
    target = session.target
    accounts = EphemeralAccounts(ctx.store)
    for _attempt in range(3):  # a name collision (8 random hex) is retried with a new name
        lease = Lease(target.name, template, user_name(session.identity.subject), template.host,
                      secrets.token_urlsafe(24).encode())
        accounts.add(EphemeralRow(target.name, lease.user, lease.host, session.id, session.identity.subject,
                                  _node(ctx), time.time()))
        try:
            with provisioner(ctx, target, template.provision) as cur:
                cur.execute("CREATE USER %s@%s IDENTIFIED BY %s", (lease.user, lease.host, lease.password.decode()))
                try:
                    _grant(cur, lease)
                except BaseException:
                    cur.execute("DROP USER IF EXISTS %s@%s", (lease.user, lease.host))
                    raise
        except pymysql.err.OperationalError as exc:
            accounts.remove(target.name, lease.user)
            if exc.args and exc.args[0] == 1396:  # ER_CANNOT_USER: the name exists already
                continue
            raise EphemeralError(f"cannot create a session account on {target.name}: {exc.args[-1]}") from exc
        except BaseException as exc:
            accounts.remove(target.name, lease.user)
            if isinstance(exc, Exception) and not isinstance(exc, EphemeralError):
                raise EphemeralError(f"cannot create a session account on {target.name}: "
                                     f"{type(exc).__name__}") from exc
            raise
        _LEASES[session.id] = lease
        return lease
    raise EphemeralError(f"cannot create a session account on {target.name}: name collisions")


def _grant(cur: Any, lease: Lease) -> None:
    for grant in lease.template.grants:
        cur.execute(grant_statement(grant), (lease.user, lease.host))
    if lease.template.role:
        cur.execute(f"GRANT `{lease.template.role}` TO %s@%s", (lease.user, lease.host))
        cur.execute(f"SET DEFAULT ROLE `{lease.template.role}` FOR %s@%s", (lease.user, lease.host))


def release(ctx: PluginContext, session_id: str) -> None:
    """Drop the session's user (if it has one). A failure leaves the row for :func:`sweep`."""
    lease = _LEASES.pop(session_id, None)
    if lease is None:
        return
    target = ctx.target(lease.target)
    if target is None:
        return
    try:
        with provisioner(ctx, target, lease.template.provision) as cur:
            _drop(cur, lease.user, lease.host)
    except Exception as exc:  # noqa: BLE001 - target down: the sweep retries
        log.warning("could not drop session user %s on %s: %s", lease.user, lease.target, type(exc).__name__)
        return
    EphemeralAccounts(ctx.store).remove(lease.target, lease.user)


def _drop(cur: Any, user: str, host: str) -> None:
    # A dropped user's open connections keep running (MariaDB): end them too.
    cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s", (user,))
    for (thread,) in cur.fetchall():
        try:
            cur.execute(f"KILL CONNECTION {int(thread)}")
        except pymysql.err.MySQLError:
            pass  # gone meanwhile, or the provisioner may not kill it: the drop below still holds
    cur.execute("DROP USER IF EXISTS %s@%s", (user, host))


def sweep(ctx: PluginContext, target: Target, startup: bool = False) -> list[str]:
    """Drop orphaned per-session users on ``target``; returns the names dropped."""
    provisions = {t.provision for t in templates(target.options).values()}
    if not provisions:
        return []
    accounts = EphemeralAccounts(ctx.store)
    node = _node(ctx)
    live = {lease.user for lease in _LEASES.values() if lease.target == target.name}
    rows = {r.user: r for r in accounts.of_target(target.name)}
    dropped = []
    with provisioner(ctx, target, sorted(provisions)[0]) as cur:
        cur.execute("SELECT User, Host FROM mysql.user WHERE User LIKE 'b\\_%%'")
        for user, host in cur.fetchall():
            user, host = _text(user), _text(host)
            row = rows.get(user)
            mine = row is not None and row.node == node and (startup or user not in live)
            if NAME_PATTERN.match(user) and (row is None or mine):
                _drop(cur, user, host)
                dropped.append(user)
    for user, row in rows.items():  # rows of this node whose user is gone or was just dropped
        if row.node == node and (startup or user not in live):
            accounts.remove(target.name, user)
    if dropped:
        log.warning("dropped %d orphaned session users on %s: %s", len(dropped), target.name, ", ".join(dropped))
    return dropped


def sweep_all(ctx: PluginContext, startup: bool = False) -> None:
    for target in ctx.targets():
        if target.protocol != "mysql" or not templates(target.options):
            continue
        try:
            sweep(ctx, target, startup=startup)
        except Exception as exc:  # noqa: BLE001 - one unreachable target must not stop the others
            log.warning("orphan sweep of %s failed: %s: %s", target.name, type(exc).__name__, exc)


def start_sweeper(ctx: PluginContext, every: float = SWEEP_SECONDS) -> gevent.Greenlet:
    """Sweep now (start-up: this node's rows are all orphans) and then every ``every`` seconds."""
    sweep_all(ctx, startup=True)

    def loop() -> None:
        while True:
            gevent.sleep(every)
            sweep_all(ctx)
    return gevent.spawn(loop)


def _node(ctx: PluginContext) -> str:
    return node_id(Path(ctx.settings.config.audit.journal_dir))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)
