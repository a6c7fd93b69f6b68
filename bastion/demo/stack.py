"""A private MariaDB plus a ``bastion serve`` subprocess in front of it.

Used by the benchmarks (``bench/mysql.py``) and handy for experiments: the same
services, seed data, accounts and configuration as ``bastion demo`` and the
integration tests, without sshd or the IdP. ``allow_all=True`` keeps only the access
stage (the demo's guardrails deny DROP and hold DELETE), which is what a benchmark of
the relay itself wants.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.demo.services import MariaDB, free_port
from bastion.demo.setup import UPSTREAM_ACCOUNTS, demo_config, seed_mariadb, write_config

ROOT = Path(__file__).resolve().parents[2]


def _cli(config: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bastion.cli", *args, "--config", str(config)],
                          input=stdin, capture_output=True, cwd=ROOT, timeout=60)


@dataclass
class BastionProcess:
    """A running ``bastion serve`` (stdout's first line told its ports)."""

    proc: subprocess.Popen[bytes]
    config: Path
    ports: dict[str, int]
    log: Path

    def token(self, user: str = "alice", groups: str = "dba", ttl: int = 3600) -> str:
        res = _cli(self.config, "tokens", "issue", "--user", user, "--groups", groups, "--ttl", str(ttl), "--json")
        if res.returncode != 0:
            raise RuntimeError(f"tokens issue failed: {res.stderr.decode(errors='replace')}")
        return str(json.loads(res.stdout)["token"])

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode


def start_bastion(workdir: Path, config: dict[str, Any], env: dict[str, str] | None = None,
                  cli: list[str] | None = None) -> BastionProcess:
    """Write ``config``, start ``bastion serve`` and wait for its ready line.

    ``cli`` replaces the command that runs the bastion CLI (``python -m bastion.cli``),
    e.g. with a profiler wrapper."""
    path = write_config(workdir / "bastion.yaml", config)
    log = workdir / "bastion.log"
    argv = [*(cli or [sys.executable, "-m", "bastion.cli"]), "serve", "--config", str(path), "--grace", "3"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=out, cwd=ROOT, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        raise RuntimeError(f"bastion did not start:\n{log.read_text(errors='replace')[-3000:]}")
    return BastionProcess(proc, path, json.loads(line)["ports"], log)


def mysql_config(workdir: Path, db: MariaDB, *, allow_all: bool) -> dict[str, Any]:
    """The demo's MySQL-only configuration; ``allow_all`` drops the guardrails stage."""
    ports = {"web": free_port(), "mysql": free_port()}
    config = demo_config(workdir, db=db, sshd=None, idp_metadata_url=None, ports=ports, protocols={"mysql"},
                         sp_base_url=f"http://127.0.0.1:{ports['web']}")
    if allow_all:
        files = [f for f in config["policies"]["files"] if Path(f).name == "access.yaml"]
        config["policies"] = {**config["policies"], "files": files, "stages": ["access"]}
    return config


def store_credentials(config: Path) -> None:
    for account, (_user, password, _grant) in UPSTREAM_ACCOUNTS.items():
        res = _cli(config, "credentials", "set", f"shop-db/{account}", stdin=password.encode())
        if res.returncode != 0:
            raise RuntimeError(f"credentials set failed: {res.stderr.decode(errors='replace')}")


@dataclass
class Stack:
    workdir: Path
    db: MariaDB
    bastion: BastionProcess | None = None
    extra: list[BastionProcess] = field(default_factory=list)

    def stop(self) -> None:
        for b in [*self.extra, *([self.bastion] if self.bastion else [])]:
            b.stop()
        self.db.stop()


def start_stack(workdir: Path, *, allow_all: bool = True, db: MariaDB | None = None,
                audit: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                cli: list[str] | None = None, mysql_options: dict[str, Any] | None = None,
                server: dict[str, Any] | None = None, listener: dict[str, Any] | None = None) -> Stack:
    """Start MariaDB (seeded like the demo; ``db`` may be a configured, unstarted one) and
    one bastion in front of it; ``audit`` overrides keys of the config's ``audit`` section,
    ``mysql_options`` sets ``listeners.mysql.options``, ``listener`` other keys of
    ``listeners.mysql``, ``server`` the ``server`` section."""
    db = db or MariaDB(workdir / "mariadb")
    stack = Stack(workdir, db)
    try:
        db.start()
        seed_mariadb(db)
        stack.bastion = add_bastion(workdir / "bastion", db, allow_all=allow_all, audit=audit, env=env, cli=cli,
                                    mysql_options=mysql_options, server=server, listener=listener)
    except BaseException:
        stack.stop()
        raise
    return stack


def add_bastion(workdir: Path, db: MariaDB, *, allow_all: bool = True, audit: dict[str, Any] | None = None,
                env: dict[str, str] | None = None, cli: list[str] | None = None,
                mysql_options: dict[str, Any] | None = None, server: dict[str, Any] | None = None,
                listener: dict[str, Any] | None = None) -> BastionProcess:
    """A bastion of its own (state, ports, vaulted credentials) in front of the running ``db``."""
    config = mysql_config(workdir, db, allow_all=allow_all)
    config["audit"] = {**config["audit"], **(audit or {})}
    if mysql_options:
        config["listeners"]["mysql"]["options"] = {**config["listeners"]["mysql"].get("options", {}),
                                                   **mysql_options}
    config["listeners"]["mysql"].update(listener or {})
    if server:
        config["server"] = server
    workdir.mkdir(parents=True, exist_ok=True)
    path = write_config(workdir / "bastion.yaml", config)
    store_credentials(path)
    return start_bastion(workdir, config, env=env, cli=cli)
