"""Legacy scp (``scp -O``, and OpenSSH < 9): the exec command names the transfer.

``scp -O local host:dir`` makes the client run ``scp -t dir`` on the server (upload:
the server is the sink), ``scp -O host:file .`` runs ``scp -f file`` (download). The
bastion judges this as a ``FileOp`` before the command runs upstream. A denied
transfer is answered in the scp protocol itself (``\\x02`` + message) so the client
prints the reason. Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScpRequest:
    op: str
    """``open-write`` for an upload (``-t``), ``open-read`` for a download (``-f``)."""
    path: str
    recursive: bool = False


def parse_scp(command: str) -> ScpRequest | None:
    """The transfer an ``scp -t``/``scp -f`` command asks for, or None if it is not one."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if not argv or posixpath.basename(argv[0]) != "scp":
        return None
    mode, recursive, paths = "", False, []
    options = True
    for arg in argv[1:]:
        if options and arg == "--":
            options = False
        elif options and arg.startswith("-") and len(arg) > 1:
            for flag in arg[1:]:
                if flag in "tf":
                    if mode and mode != flag:
                        return None
                    mode = flag
                elif flag == "r":
                    recursive = True
                elif flag not in "dpvqT":
                    return None  # an option real scp servers never get: judge it as a command
        else:
            paths.append(arg)
    if not mode or len(paths) != 1:
        return None
    return ScpRequest("open-write" if mode == "t" else "open-read", paths[0], recursive)


def scp_refusal(message: str) -> bytes:
    """A fatal scp protocol error line: the client prints ``message`` and stops."""
    return b"\x02" + message.replace("\n", " ").encode("utf-8", errors="replace") + b"\n"
