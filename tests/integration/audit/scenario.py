"""Journal events shaped exactly as the MySQL and SSH plugins emit them, for the audit tests."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bastion.audit.backends import IndexBackend
from bastion.audit.indexer import Indexer
from bastion.audit.journal import Journal
from bastion.audit.search import AuditSearch
from bastion.core.contracts import AuditEvent

CARD = "4111 1111 1111 1111"


@dataclass
class AuditEnv:
    dir: Path
    journal: Journal
    backend: IndexBackend
    indexer: Indexer
    search: AuditSearch
    clock: float = field(default_factory=lambda: time.time() - 3600)

    def emit(self, type_: str, session: str, **data: Any) -> int:
        self.clock += 0.01
        return self.journal.append(asdict(AuditEvent(type=type_, session_id=session, at=self.clock, data=data)))

    def index(self) -> int:
        n = self.indexer.catch_up()
        self.backend.refresh()
        return n


def cast_file(directory: Path, session: str, lines: list[str]) -> Path:
    path = directory / "recordings" / f"{session}-1.cast"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"version": 2, "width": 80, "height": 24, "timestamp": int(time.time())}) + "\n")
        for i, text in enumerate(lines):
            fh.write(json.dumps([0.1 * i, "o", text]) + "\n")
        fh.write(json.dumps([9.9, "i", "exit\r"]) + "\n")
    return path


def mysql_session(env: AuditEnv, user: str = "alice") -> str:
    sid = uuid.uuid4().hex
    env.emit("session.start", sid, protocol="mysql", user=user, email=f"{user}@example.org", groups=["dba"],
             target="shop-db", account="admin", client_addr="127.0.0.1:50000", reason="INC-1234",
             role="", token_id="t1", tls="TLSv1.3", program="mysql", upstream_thread=42, upstream_tls=True)
    env.emit("query", sid, event_id=uuid.uuid4().hex[:16], protocol="mysql", command="query",
             statement="SELECT name, email FROM customers WHERE city = 'Paris'", schema="shop", verdict="allow",
             rule="dba-admin", reason="", duration_ms=1.2, would=[], rows=3, bytes=120, columns=2, results=1,
             affected=0, error="", masked={"email:email": 3})
    env.emit("query", sid, event_id=uuid.uuid4().hex[:16], protocol="mysql", command="query",
             statement="DELETE FROM orders WHERE id = 7", schema="shop", verdict="deny", rule="no-delete",
             reason="deletes need approval", duration_ms=0.3, would=[])
    return sid


def ssh_session(env: AuditEnv, user: str = "bob", end: bool = True) -> str:
    sid = uuid.uuid4().hex
    env.emit("session.start", sid, protocol="ssh", user=user, email=f"{user}@example.org", groups=["dev"],
             target="demo-host", account="deploy", client_addr="127.0.0.1:50001", reason="")
    env.emit("command", sid, event_id=uuid.uuid4().hex[:16], mode="exec", line="grep -r needle /var/log/app",
             channel=1, verdict="allow", rule="ssh-dev", reason="", would=[], exit_status=0, duration_ms=12.0,
             output="app.log: found the needle\n", output_truncated=False)
    env.emit("fileop", sid, event_id=uuid.uuid4().hex[:16], op="read", path="/srv/reports/q3-revenue.csv",
             target_path="", verdict="allow", rule="ssh-dev", bytes_read=2048, result="ok")
    cast = cast_file(env.dir, sid, ["\x1b[1;32mbob@demo\x1b[0m:~$ ", "ls\r\n",
                                    "the-quick-marmoset.txt  notes.md\r\n",
                                    f"card on file: {CARD}\r\n", "\x1b]0;title\x07bob@demo:~$ "])
    env.emit("command", sid, event_id=uuid.uuid4().hex[:16], mode="shell", line="ls", channel=1,
             audit_only=True, would="allow", rule="ssh-dev")
    env.emit("recording", sid, channel=1, path=str(cast), format="asciicast-v2", duration_s=9.9, events=6,
             output_bytes=120)
    if end:
        env.emit("session.end", sid, reason="client closed", channels=1, commands=2, file_ops=1, forwards=0,
                 denied=0, recordings=[str(cast)], bytes_in=10, bytes_out=200, duration_s=10.0)
    return sid
