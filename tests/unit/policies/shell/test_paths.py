from __future__ import annotations

import pytest

from policies.shell.paths import fileop_paths, normalize_path, resolve_link_target


@pytest.mark.parametrize(("path", "home", "expected"), [
    ("/etc/x", "/home/bob", "/etc/x"),
    ("//etc//x", "/", "/etc/x"),
    ("/./etc/./x", "/", "/etc/x"),
    ("/var/../etc/x", "/", "/etc/x"),
    ("/../../etc", "/", "/etc"),
    ("../../../../etc/x", "/home/bob", "/etc/x"),
    ("x/../y", "/home/bob", "/home/bob/y"),
    ("", "/home/bob", "/home/bob"),
    (".", "/home/bob/", "/home/bob"),
    ("/", "/home", "/"),
    ("a/", "/h", "/h/a"),
    ("...", "/h", "/h/..."),
])
def test_normalize_path(path, home, expected):
    assert normalize_path(path, home) == expected


@pytest.mark.parametrize(("path", "home"), [("a\0b", "/"), ("a\ufffd", "/"), ("a\udc80", "/"), ("a", "rel")])
def test_paths_that_cannot_be_judged(path, home):
    with pytest.raises(ValueError):
        normalize_path(path, home)


@pytest.mark.parametrize(("link", "target", "expected"), [
    ("/home/bob/l", "../../etc/passwd", "/etc/passwd"),
    ("l", "../../etc/passwd", "/etc/passwd"),
    ("sub/l", "x", "/home/bob/sub/x"),
    ("/home/bob/l", "/etc/shadow", "/etc/shadow"),
    ("/l", "../../x", "/x"),
])
def test_link_target_is_relative_to_the_link(link, target, expected):
    assert resolve_link_target(link, target, "/home/bob") == expected


def test_fileop_paths_reads_symlink_both_ways():
    found = fileop_paths("symlink", "../../etc/passwd", "/home/bob/l", "/home/bob")
    assert "/etc/passwd" in found and "/home/bob/l" in found
    assert fileop_paths("rename", "a", "/x/../b", "/h") == ["/h/a", "/b"]
