"""The bastion's state stays private: nothing it writes is readable by other users.

The state directory holds the vault key, the state store (tokens' hashes, approvals,
login links), TLS and SSH host keys, recordings, the audit journal and index. Every
entry point sets :data:`UMASK` before it writes anything, so files are created 0600
and directories 0700; creation sites that may run under another umask (the state
store's SQLite file, created by whichever tool opens it first) create privately
themselves. ``bastion serve`` refuses to start while anything there is group- or
world-accessible (:func:`exposed`), and says how to fix it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

UMASK = 0o077
"""Group and others get nothing."""

LIMIT = 20
"""Most paths named in one refusal (the fix is one command for all of them)."""


def restrict_umask() -> None:
    """From now on, this process creates files 0600 and directories 0700."""
    os.umask(UMASK)


def private_file(path: Path) -> None:
    """Create ``path`` (and its missing parents) privately, if it does not exist yet."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def exposed(roots: Iterable[Path]) -> list[Path]:
    """Every file or directory under ``roots`` (the roots included) that a user other
    than the owner may read, write or enter. Symbolic links are not followed."""
    found: list[Path] = []
    for root in dict.fromkeys(roots):
        if not root.exists():
            continue
        paths = [root] + (sorted(root.rglob("*")) if root.is_dir() else [])
        for path in paths:
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found.append(path)
    return found


def refusal(paths: list[Path], roots: Iterable[Path]) -> str:
    """The message ``bastion serve`` stops with when ``paths`` are exposed."""
    shown = "\n".join(f"  {oct(p.lstat().st_mode & 0o777)} {p}" for p in paths[:LIMIT])
    more = f"\n  … and {len(paths) - LIMIT} more" if len(paths) > LIMIT else ""
    dirs = " ".join(str(r) for r in dict.fromkeys(roots) if r.exists())
    return (f"the bastion's state is readable by other users; refusing to start:\n{shown}{more}\n"
            f"fix: chmod -R go-rwx {dirs}")
