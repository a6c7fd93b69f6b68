"""POSIX path spelling resolved lexically, as the target resolves it (pure).

SFTP and scp name paths as the client spells them: ``//etc/x``, ``/./etc/x``,
``/var/../etc/x`` and ``../../etc/x`` (relative to the session's home) all reach
``/etc/x``. Rules match the normalised form. ``..`` is resolved lexically: a symlink on
the target can still point elsewhere (docs/policies.md says so).
"""

from __future__ import annotations

import posixpath

_BAD = ("\0", "\ufffd")
"""NUL ends a C string early on the target; U+FFFD is what non-UTF-8 bytes decode to."""


def check_path(path: str) -> None:
    """Raise ``ValueError`` for a path the bastion cannot judge (NUL, non-UTF-8 bytes)."""
    if any(bad in path for bad in _BAD):
        raise ValueError("path holds a NUL byte or bytes that are not UTF-8")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("path holds bytes that are not UTF-8") from None


def normalize_path(path: str, home: str) -> str:
    """``path`` made absolute against ``home`` (itself absolute), with ``//``, ``/./`` and
    ``..`` resolved lexically; never above ``/``. An empty path is ``home``.

    Raises ``ValueError`` for NUL or non-UTF-8 bytes and for a relative ``home``.
    """
    check_path(path)
    check_path(home)
    if not home.startswith("/"):
        raise ValueError(f"home must be absolute, got {home!r}")
    full = path if path.startswith("/") else f"{home}/{path}"
    parts: list[str] = []
    for part in full.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def resolve_link_target(link_path: str, target: str, home: str) -> str:
    """Where a symlink at ``link_path`` pointing to ``target`` leads: a relative target is
    relative to the link's own directory, not to the session's working directory."""
    link = normalize_path(link_path, home)
    if target.startswith("/"):
        return normalize_path(target, home)
    return normalize_path(target, posixpath.dirname(link) or "/")


def fileop_paths(op: str, path: str, target_path: str, home: str) -> list[str]:
    """Every path a file operation touches, normalised (``ValueError`` if one cannot be judged).

    For ``symlink`` the order of the two names differs between the SFTP draft and OpenSSH
    (which sends the target first), so both readings are returned: each name as a path,
    and each resolved as a link target relative to the other's directory.
    """
    found = [normalize_path(path, home)] + ([normalize_path(target_path, home)] if target_path else [])
    if op == "symlink" and target_path:
        found += [resolve_link_target(target_path, path, home), resolve_link_target(path, target_path, home)]
    return list(dict.fromkeys(found))
