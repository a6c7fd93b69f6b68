"""Helpers to drive real MySQL clients against the bastion."""

from __future__ import annotations

import ssl
import subprocess
from typing import Any

import pymysql

from tests.integration.conftest import BastionProc

NO_VERIFY = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}


def pymysql_conn(b: BastionProc, token: str, user: str = "shop-db", database: str = "shop", **kw: Any):  # type: ignore[no-untyped-def]
    return pymysql.connect(host="127.0.0.1", port=b.ports["mysql"], user=user, password=token, database=database,
                           ssl=NO_VERIFY, connect_timeout=10, **kw)


def direct_conn(mariadb, database: str = "shop", **kw: Any):  # type: ignore[no-untyped-def]
    return pymysql.connect(host="127.0.0.1", port=mariadb.port, user="bastion_admin", password="admin-secret-pw",
                           database=database, connect_timeout=10, **kw)


def cli(b: BastionProc, token: str, sql: str, *extra: str, user: str = "shop-db",
        tool: str = "mariadb", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    argv = [tool, "--no-defaults", "-h", "127.0.0.1", "-P", str(b.ports["mysql"]), "--ssl", "-u", user,
            f"-p{token}", *extra]
    if tool == "mariadb":
        argv += ["shop", "-B", "-e", sql]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
