"""The worker side of ``bastion serve --workers N`` (see :mod:`bastion.runtime.supervisor`).

A worker is ``bastion serve --worker I --listen-fds NAME=FD,... --ready-fd FD --parent PID``:
the same bastion as a single process, except that it accepts on sockets the supervisor
bound (:func:`inherited_listeners`), journals to ``journal_dir/worker-I``
(:func:`worker_settings`), runs no indexer (the supervisor runs the only one), tells the
supervisor when it accepts (:func:`notify_ready`) and dies with it (:func:`die_with_parent`).
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import signal
import socket
import sys
from pathlib import Path

from bastion.audit.segments import WORKER_PREFIX
from bastion.config.load import Settings


def become_worker(settings: Settings, index: int, listen_fds: str,
                  parent: int) -> tuple[Settings, dict[str, socket.socket]]:
    """Make this process worker ``index``: it dies with ``parent``, leaves SIGHUP to the
    supervisor (a rolling restart, one worker at a time), copies the supervisor's indexer
    status into its gauges; returns its settings and its inherited listeners."""
    import gevent

    from bastion.audit.service import copy_status

    die_with_parent(parent)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    gevent.spawn(copy_status, Path(settings.config.audit.journal_dir))
    return worker_settings(settings, index), inherited_listeners(listen_fds)


def side_settings(settings: Settings, name: str) -> Settings:
    """``settings`` for a process that journals beside the node's journal, in
    ``journal_dir/<name>`` (two writers must never share one hash chain). Searches still
    read the one index: a relative sqlite index path stays relative to the main journal."""
    own = settings.config.audit
    index = own.index
    if index.backend == "sqlite" and not Path(index.database).is_absolute():
        index = dataclasses.replace(index, database=str(Path(own.journal_dir) / index.database))
    audit = dataclasses.replace(own, index=index, journal_dir=str(Path(own.journal_dir) / name))
    return dataclasses.replace(settings, config=dataclasses.replace(settings.config, audit=audit))


def worker_settings(settings: Settings, index: int) -> Settings:
    """Worker ``index``'s settings: its own stable journal, ``journal_dir/worker-<index>``,
    so a restarted worker finds (and closes) the sessions its predecessor left open."""
    return side_settings(settings, f"{WORKER_PREFIX}{index}")


def listen_spec(sockets: dict[str, socket.socket]) -> str:
    """The ``--listen-fds`` argument naming ``sockets``: ``web=3,mysql=4``."""
    return ",".join(f"{name}={sock.fileno()}" for name, sock in sockets.items())


def inherited_listeners(spec: str) -> dict[str, socket.socket]:
    """The listening sockets named by ``--listen-fds`` (inherited from the supervisor)."""
    found: dict[str, socket.socket] = {}
    for item in filter(None, spec.split(",")):
        name, _, fd = item.partition("=")
        if not name or not fd.isdigit():
            raise ValueError(f"--listen-fds: expected NAME=FD, got {item!r}")
        found[name] = socket.socket(fileno=int(fd))
    return found


def notify_ready(fd: int) -> None:
    """Tell the supervisor this worker accepts (one line on the socket it passed as ``fd``)."""
    with socket.socket(fileno=fd) as sock:
        sock.sendall(f"ready {os.getpid()}\n".encode())


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGTERM this process when ``parent`` dies (a ``kill -9`` of the
    supervisor): the worker then drains and exits like at a SIGTERM."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the worker outlives a killed supervisor until stopped
    if parent and os.getppid() != parent:
        sys.exit(0)  # the parent died before the request took effect
