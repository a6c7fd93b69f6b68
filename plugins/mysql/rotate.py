"""Rotation of a vaulted MySQL/MariaDB password (driven by :mod:`bastion.credentials.rotate`).

The account changes its own password — ``ALTER USER CURRENT_USER() IDENTIFIED BY``, or
``SET PASSWORD`` where the account may not run ``ALTER USER`` — so rotation needs no
privileged account. Note: the new password uses the server's default authentication
plugin (an account ``IDENTIFIED VIA ed25519`` becomes a password account).
"""

from __future__ import annotations

import secrets
from typing import Any

import pymysql

from bastion.core.types import Target
from bastion.credentials.rotate import RotationError
from plugins.mysql.ephemeral import ssl_options

ACCESS_DENIED = {1044, 1045, 1227}


def _user(target: Target, account: str) -> str:
    return str((target.options.get("users") or {}).get(account, account))


def _connect(target: Target, account: str, password: bytes) -> Any:
    return pymysql.connect(host=target.host, port=target.port, user=_user(target, account), password=password,
                           connect_timeout=float(target.options.get("connect_timeout", 10)),
                           ssl=ssl_options(target), autocommit=True, program_name="bastion-rotate")


def _set_password(target: Target, account: str, login: bytes, value: bytes) -> None:
    try:
        conn = _connect(target, account, login)
    except pymysql.err.MySQLError as exc:
        raise RotationError(f"cannot log in to {target.name} as {account}: {exc.args[-1]}") from exc
    try:
        with conn.cursor() as cur:
            try:
                cur.execute("ALTER USER CURRENT_USER() IDENTIFIED BY %s", (value.decode(),))
            except pymysql.err.MySQLError as exc:
                if exc.args[0] not in ACCESS_DENIED:
                    raise RotationError(f"{target.name} refused the new password: {exc.args[-1]}") from exc
                cur.execute("SET PASSWORD = PASSWORD(%s)", (value.decode(),))
    except pymysql.err.MySQLError as exc:
        raise RotationError(f"{target.name} refused the new password: {exc.args[-1]}") from exc
    finally:
        conn.close()


class MySQLRotator:
    def fresh(self, kind: str, current: bytes) -> bytes:
        if kind != "password":
            raise RotationError(f"a MySQL credential is a password, not {kind}")
        return secrets.token_urlsafe(24).encode()

    def works(self, target: Target, account: str, kind: str, value: bytes) -> bool:
        try:
            conn = _connect(target, account, value)
        except pymysql.err.MySQLError:
            return False
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                return bool(cur.fetchone())
        finally:
            conn.close()

    def apply(self, target: Target, account: str, kind: str, current: bytes, new: bytes) -> None:
        _set_password(target, account, current, new)

    def retire(self, target: Target, account: str, kind: str, current: bytes, new: bytes) -> None:
        return None  # the old password stopped working with the ALTER

    def undo(self, target: Target, account: str, kind: str, current: bytes, new: bytes) -> None:
        if self.works(target, account, kind, new):
            _set_password(target, account, new, current)


ROTATOR = MySQLRotator()
