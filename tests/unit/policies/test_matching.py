"""Command and file-operation criteria of guardrail rules (policies/matching.py)."""

from __future__ import annotations

import pytest

from policies.files import GuardMatch
from policies.matching import match_command, match_fileop

ALLOW = GuardMatch(programs_only=["ls", "cat", "grep", "echo", "nice"])
RM_RECURSIVE = GuardMatch(programs=["rm"], options=["recursive"])
CHMOD_R = GuardMatch(programs=["chmod", "chown"], options=["-R"])
SHUTDOWN = GuardMatch(programs=["shutdown", "reboot", "systemctl"], args_regex=r"^(reboot|poweroff|halt)$")
PY = GuardMatch(programs=["python*"])


@pytest.mark.parametrize(("m", "line", "expected"), [
    (ALLOW, "ls -la", False),
    (ALLOW, "ls | grep x && echo ok", False),
    (ALLOW, "nice ls", False),
    (ALLOW, "ls; rm x", True),
    (ALLOW, "sudo ls", True),  # wrappers are programs too: allow sudo to allow sudo ls
    (ALLOW, "nice rm x", True),
    (ALLOW, "bash -c 'ls'", True),
    (ALLOW, "echo $(id)", True),  # the substitution runs id
    (ALLOW, "$X", True),  # unknown
    (ALLOW, "find . -delete", True),
    (ALLOW, "", False),
    (RM_RECURSIVE, "rm -f x", False),
    (RM_RECURSIVE, "rm -- -r", False),
    (RM_RECURSIVE, "rm --force --interactive=never x", False),
    (RM_RECURSIVE, "rm -fR x", True),
    (RM_RECURSIVE, "rm --recursive x", True),
    (RM_RECURSIVE, "rm --re x", True),
    (RM_RECURSIVE, "rm x -r", True),
    (RM_RECURSIVE, "rm $FLAGS x", True),
    (RM_RECURSIVE, "ls -r", False),
    (RM_RECURSIVE, "echo x | xargs rm", True),  # xargs may hand rm a -r
    (RM_RECURSIVE, "find . -name x -exec rm {} +", False),
    (RM_RECURSIVE, "python3 -c 'print(1)'", True),  # inline code is opaque to a deny-list
    (RM_RECURSIVE, "python3 app.py", False),
    (CHMOD_R, "chmod -R 777 /", True),
    (CHMOD_R, "chown -hR u /", True),
    (CHMOD_R, "chmod 644 f", False),
    (SHUTDOWN, "systemctl reboot", True),
    (SHUTDOWN, "systemctl status nginx", False),
    (SHUTDOWN, "sudo systemctl $ACTION", True),
    (PY, "python3.11 x.py", True),
    (PY, "perl x.pl", False),
    (GuardMatch(options=["recursive"]), "cp -a src dst", True),
    (GuardMatch(options=["recursive"]), "cp src dst", False),
    (GuardMatch(programs=["/usr/bin/rm"]), "rm x", True),
])
def test_command_criteria(m, line, expected):
    assert match_command(m, line) is expected


def test_command_regex_keeps_matching_the_whole_line():
    m = GuardMatch(command_regex="forbidden")
    assert match_command(m, "echo forbidden")
    assert not match_command(m, "echo allowed")
    assert match_command(GuardMatch(programs=["rm"], command_regex="x"), "rm x")
    assert not match_command(GuardMatch(programs=["rm"], command_regex="y"), "rm x")


def test_no_command_criteria_matches_nothing():
    assert not match_command(GuardMatch(paths=["/etc/*"]), "rm -rf /etc")


def test_args_regex_is_validated():
    with pytest.raises(ValueError, match="args_regex"):
        GuardMatch(args_regex="(")


ETC = GuardMatch(file_ops=["open-write", "remove", "rename", "mkdir", "symlink"], paths=["/etc/*", "/etc"])


@pytest.mark.parametrize(("op", "path", "target", "home", "expected"), [
    ("open-write", "/etc/x", "", "/home/bob", True),
    ("open-write", "//etc/x", "", "/home/bob", True),
    ("open-write", "/./etc/x", "", "/home/bob", True),
    ("open-write", "/var/../etc/x", "", "/home/bob", True),
    ("open-write", "../../../../etc/x", "", "/home/bob", True),
    ("open-write", "../../etc/x", "", "/home/bob", True),
    ("mkdir", "/etc/", "", "/", True),
    ("remove", "etc/x", "", "/", True),
    ("open-write", "x", "", "/etc", True),
    ("open-write", "notes.txt", "", "/home/bob", False),
    ("open-write", "/etcetera/x", "", "/", False),
    ("open-read", "/etc/x", "", "/", False),
    ("rename", "/tmp/a", "/tmp/../etc/passwd", "/", True),
    ("symlink", "../../etc/passwd", "/home/bob/link", "/home/bob", True),  # OpenSSH order: target, link
    ("symlink", "/home/bob/link", "../../etc/passwd", "/home/bob", True),  # draft order: link, target
    ("symlink", "notes", "/home/bob/link", "/home/bob", False),
    ("open-write", "/etc\0/x", "", "/", True),  # NUL: fail closed
    ("open-write", "/tmp/\ufffd", "", "/", True),  # not UTF-8: fail closed
])
def test_fileop_paths_are_normalised(op, path, target, home, expected):
    assert match_fileop(ETC, op, path, target, home) is expected
