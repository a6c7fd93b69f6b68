"""The worker side of ``serve --workers N``: its settings, inherited sockets, ready line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from bastion.audit import segments
from bastion.audit.journal import Journal
from bastion.config.load import load_settings
from bastion.runtime.worker import inherited_listeners, listen_spec, notify_ready, worker_settings


def settings(tmp_path: Path, index: dict[str, str]):  # type: ignore[no-untyped-def]
    path = tmp_path / "bastion.yaml"
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "var"), "audit": {"index": index}}))
    return load_settings(path, known_protocols=set())


@pytest.mark.parametrize(
    ("index", "database"),
    [
        ({"database": "audit.db"}, "var/audit/audit.db"),  # relative: still the main journal's
        ({"database": "/srv/index.db"}, "/srv/index.db"),
        ({"backend": "none"}, "audit.db"),
    ],
    ids=["relative", "absolute", "no-index"],
)
def test_a_worker_journals_apart_and_searches_the_one_index(tmp_path, index, database):
    s = worker_settings(settings(tmp_path, index), 3)
    assert s.config.audit.journal_dir == str(tmp_path / "var" / "audit" / "worker-3")
    expected = database if database.startswith("/") or "backend" in index else str(tmp_path / database)
    assert s.config.audit.index.database == expected


def test_worker_journals_are_side_journals_once_they_hold_a_record(tmp_path):
    main = tmp_path / "audit"
    for name in ("worker-0", "worker-1", "web-42", "other"):
        journal = Journal(main / name, fsync=False)
        journal.append({"type": "x", "session_id": "", "at": 0.0, "data": {}})
        journal.close()
    (main / "worker-2").mkdir()  # started, nothing written yet
    assert [p.name for p in segments.side_journals(main)] == ["web-42", "worker-0", "worker-1"]


def test_listeners_pass_by_name_and_fd():
    with socket.create_server(("127.0.0.1", 0)) as a, socket.create_server(("127.0.0.1", 0)) as b:
        spec = listen_spec({"web": a, "mysql": b})
        found = inherited_listeners(spec)
        assert {name: s.getsockname() for name, s in found.items()} == {"web": a.getsockname(),
                                                                         "mysql": b.getsockname()}
        for s in found.values():
            s.detach()  # the fds are a's and b's


@pytest.mark.parametrize("spec", ["web", "web=", "=3", "web=x"])
def test_malformed_listen_fds_are_refused(spec):
    with pytest.raises(ValueError, match="NAME=FD"):
        inherited_listeners(spec)


def test_ready_line_names_the_worker():
    ours, theirs = socket.socketpair()
    notify_ready(theirs.detach())
    assert ours.recv(64).startswith(b"ready ")
    ours.close()
