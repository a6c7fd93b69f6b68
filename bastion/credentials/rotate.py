"""Rotation of vaulted target credentials: vault and target change together, or not at all.

:func:`rotate` for ``target/account``:

1. recovery: a ``<account>#pending`` entry left by an interrupted rotation is resolved
   first (whichever of the current and the pending value still logs in is kept);
2. a new secret is made and stored in the vault as ``<account>#pending`` — before the
   target changes, so a crash never loses the only value that works;
3. the protocol's rotator puts it on the target (MySQL: ``ALTER USER``; SSH: the new key
   is appended to ``authorized_keys``), then a fresh login with the new value verifies it;
4. the old value is retired (SSH: its ``authorized_keys`` line removed, through the new
   key), the vault entry replaced, the pending entry deleted.

Any failure undoes what step 3 did and keeps the value that still works. Every rotation
is a ``credential.rotate`` audit event (never with a secret). Only ``bastion serve``
writes the journal, so ``bastion credentials rotate`` files a request
(``credential_rotations``) that the running bastion's :func:`start_worker` carries out;
the worker also rotates targets whose ``rotate_every`` (seconds) has passed.
"""

from __future__ import annotations

import importlib
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any, Protocol

import gevent
import sqlalchemy as sa

from bastion.core.contracts import AuditEvent
from bastion.core.types import Target
from bastion.state.store import StateStore, credential_rotations, credentials
from bastion.state.vault import VaultError

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.credentials")

PENDING = "#pending"
EVENT = "credential.rotate"
POLL_SECONDS = 2.0


class RotationError(Exception):
    """The rotation did not happen (message safe to print: no secrets)."""


class Rotator(Protocol):
    """What a protocol plugin's ``rotate`` module provides."""

    def fresh(self, kind: str, current: bytes) -> bytes: ...
    def works(self, target: Target, account: str, kind: str, value: bytes) -> bool: ...
    def apply(self, target: Target, account: str, kind: str, current: bytes, new: bytes) -> None: ...
    def retire(self, target: Target, account: str, kind: str, current: bytes, new: bytes) -> None: ...
    def undo(self, target: Target, account: str, kind: str, current: bytes, new: bytes) -> None: ...


def rotator(protocol: str) -> Rotator:
    try:
        module: Any = importlib.import_module(f"plugins.{protocol}.rotate")
    except ImportError as exc:
        raise RotationError(f"credentials of {protocol} targets cannot be rotated") from exc
    return module.ROTATOR


def rotate(ctx: PluginContext, target: Target, account: str, requested_by: str = "") -> str:
    """Rotate ``target/account``; returns a summary, raises :class:`RotationError`."""
    rot = rotator(target.protocol)
    started = time.time()
    try:
        recovered = _recover(ctx, rot, target, account)
        kind = ctx.vault.get(target.name, account).kind
        _rotate(ctx, rot, target, account, kind)
    except (RotationError, VaultError) as exc:
        _emit(ctx, target, account, requested_by, "failed", str(exc), started)
        raise RotationError(str(exc)) from exc
    message = f"rotated {kind} of {target.name}/{account}" + (f" ({recovered})" if recovered else "")
    _emit(ctx, target, account, requested_by, "rotated", message, started, kind=kind)
    return message


def _rotate(ctx: PluginContext, rot: Rotator, target: Target, account: str, kind: str) -> None:
    current = ctx.vault.get(target.name, account).value
    new = rot.fresh(kind, current)
    ctx.vault.set(target.name, account + PENDING, kind, new)  # stored before the target changes
    try:
        rot.apply(target, account, kind, current, new)
        if not rot.works(target, account, kind, new):
            raise RotationError(f"the new {kind} of {target.name}/{account} did not log in; rolled back")
        rot.retire(target, account, kind, current, new)
    except Exception as exc:
        kept = _roll_back(ctx, rot, target, account, kind, current, new)
        reason = exc if isinstance(exc, RotationError) else f"{type(exc).__name__}: {exc}"
        raise RotationError(f"rotation of {target.name}/{account} failed ({reason}); kept the {kept} value") from exc
    ctx.vault.set(target.name, account, kind, new)
    ctx.vault.delete(target.name, account + PENDING)


def _roll_back(ctx: PluginContext, rot: Rotator, target: Target, account: str, kind: str, current: bytes,
               new: bytes) -> str:
    try:
        rot.undo(target, account, kind, current, new)
    except Exception as exc:  # noqa: BLE001 - judged by the logins below
        log.warning("undo of %s/%s failed: %s", target.name, account, type(exc).__name__)
    if rot.works(target, account, kind, current):
        ctx.vault.delete(target.name, account + PENDING)
        return "old"
    if rot.works(target, account, kind, new):
        ctx.vault.set(target.name, account, kind, new)
        ctx.vault.delete(target.name, account + PENDING)
        return "new"
    return "old (neither logs in now; the new value stays as " + account + PENDING + ")"


def _recover(ctx: PluginContext, rot: Rotator, target: Target, account: str) -> str:
    try:
        pending = ctx.vault.get(target.name, account + PENDING)
    except VaultError:
        return ""
    current = ctx.vault.get(target.name, account)
    if rot.works(target, account, current.kind, current.value):
        ctx.vault.delete(target.name, account + PENDING)
        return "an interrupted rotation had not changed the target"
    if rot.works(target, account, pending.kind, pending.value):
        ctx.vault.set(target.name, account, pending.kind, pending.value)
        ctx.vault.delete(target.name, account + PENDING)
        return "completed an interrupted rotation first"
    raise RotationError(f"neither the current nor the pending value of {target.name}/{account} logs in")


def _emit(ctx: PluginContext, target: Target, account: str, requested_by: str, result: str, message: str,
          started: float, **extra: Any) -> None:
    ctx.emit(AuditEvent(type=EVENT, session_id="", at=time.time(), data={
        "target": target.name, "account": account, "protocol": target.protocol, "result": result,
        "message": message, "requested_by": requested_by, "seconds": round(time.time() - started, 3), **extra}))


# ---------------------------------------------------------------- requests and the worker

def request(store: StateStore, target: str, account: str, requested_by: str) -> str:
    rid = secrets.token_hex(8)
    with store.engine.begin() as conn:
        conn.execute(credential_rotations.insert().values(
            id=rid, target=target, account=account, requested_by=requested_by, requested_at=time.time(),
            status="pending", message=""))
    return rid


def outcome(store: StateStore, rid: str) -> tuple[str, str]:
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(credential_rotations.c.status, credential_rotations.c.message)
                           .where(credential_rotations.c.id == rid)).first()
    return (str(row[0]), str(row[1])) if row else ("unknown", "")


def _claim(store: StateStore) -> list[tuple[str, str, str, str]]:
    with store.engine.begin() as conn:
        rows = conn.execute(sa.select(credential_rotations.c.id, credential_rotations.c.target,
                                      credential_rotations.c.account, credential_rotations.c.requested_by)
                            .where(credential_rotations.c.status == "pending")).all()
    claimed = []
    for rid, target, account, by in rows:
        with store.engine.begin() as conn:  # one worker wins each request (several nodes may poll)
            won = conn.execute(credential_rotations.update().where(
                credential_rotations.c.id == rid, credential_rotations.c.status == "pending").values(status="running"))
        if won.rowcount:
            claimed.append((str(rid), str(target), str(account), str(by)))
    return claimed


def _finish(store: StateStore, rid: str, status: str, message: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(credential_rotations.update().where(credential_rotations.c.id == rid)
                     .values(status=status, message=message[:2000], finished_at=time.time()))


def run_requests(ctx: PluginContext) -> None:
    for rid, name, account, by in _claim(ctx.store):
        target = ctx.target(name)
        try:
            if target is None:
                raise RotationError(f"unknown target {name!r}")
            _finish(ctx.store, rid, "done", rotate(ctx, target, account, requested_by=by))
        except RotationError as exc:
            _finish(ctx.store, rid, "failed", str(exc))


_FAILED: dict[tuple[str, str], float] = {}
"""When a scheduled rotation last failed: it is retried after a tenth of ``rotate_every``
(at least a minute), not on every round."""


def run_schedule(ctx: PluginContext, now: float | None = None) -> None:
    """Rotate every vaulted credential older than its target's ``rotate_every`` seconds."""
    now = time.time() if now is None else now
    with ctx.store.engine.begin() as conn:
        ages = {(r[0], r[1]): r[2] for r in conn.execute(
            sa.select(credentials.c.target, credentials.c.account, credentials.c.updated_at)).all()}
    for target in ctx.targets():
        every = target.options.get("rotate_every")
        if not every:
            continue
        for account in target.accounts:
            updated = ages.get((target.name, account))
            failed = _FAILED.get((target.name, account))
            if updated is None or now - updated < float(every):
                continue
            if failed is not None and now - failed < max(float(every) / 10, 60.0):
                continue
            try:
                rotate(ctx, target, account, requested_by="schedule")
                _FAILED.pop((target.name, account), None)
            except RotationError as exc:
                _FAILED[(target.name, account)] = now
                log.warning("scheduled rotation failed: %s", exc)


_WORKERS: set[int] = set()


def start_worker(ctx: PluginContext, poll: float = POLL_SECONDS) -> None:
    """Carry out rotation requests and schedules in this process (once per context)."""
    if id(ctx) in _WORKERS:
        return
    _WORKERS.add(id(ctx))

    def loop() -> None:
        while True:
            for job in (run_requests, run_schedule):
                try:
                    job(ctx)
                except Exception:  # noqa: BLE001 - the worker must outlive one bad round
                    log.exception("credential rotation round failed")
            gevent.sleep(poll)
    gevent.spawn(loop)
