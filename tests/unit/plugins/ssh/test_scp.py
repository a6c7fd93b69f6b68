"""Legacy scp endpoints found in any spelling; lines that cannot be judged are refused."""

from __future__ import annotations

import pytest

from plugins.ssh.scp import ScpRequest, UnparseableScp, parse_scp

W, R = "open-write", "open-read"


@pytest.mark.parametrize(("command", "op", "paths", "recursive"), [
    ("scp -t uploads/", W, ("uploads/",), False),
    ("scp -f /etc/hosts", R, ("/etc/hosts",), False),
    ("scp -r -d -t -- -odd", W, ("-odd",), True),
    ("/usr/bin/scp -pf 'a file'", R, ("a file",), False),
    ("scp -v -t .", W, (".",), False),
    ("scp -B -t /etc/x", W, ("/etc/x",), False),
    ("scp -t -v -B /etc/", W, ("/etc/",), False),
    ("scp -prt /etc/x", W, ("/etc/x",), True),
    ("scp -d -t /etc", W, ("/etc",), False),
    ("scp -t -- /etc/x", W, ("/etc/x",), False),
    ("scp -tr //etc/x", W, ("//etc/x",), True),
    ("command scp -t /etc/x", W, ("/etc/x",), False),
    ("exec scp -t /etc/x", W, ("/etc/x",), False),
    ("exec /usr/bin/scp -t /etc/x", W, ("/etc/x",), False),
    ("sudo scp -t /etc/x", W, ("/etc/x",), False),
    ("sh -c 'scp -t /etc/x'", W, ("/etc/x",), False),
    ("env LC_ALL=C scp -f a b c", R, ("a", "b", "c"), False),
    ("'s'cp -t /etc/x", W, ("/etc/x",), False),
    ("scp -S evil -t x", W, ("x",), False),
])
def test_endpoint_found(command, op, paths, recursive):
    request = parse_scp(command)
    assert isinstance(request, ScpRequest), request
    assert (request.op, request.paths, request.path, request.recursive) == (op, paths, paths[0], recursive)


def test_wrappers_are_reported():
    request = parse_scp("sudo -u root scp -t /etc/x")
    assert isinstance(request, ScpRequest) and request.via == ("sudo",)


@pytest.mark.parametrize("command", [
    "scp -t a b", "scp -tf x", "scp -t", "scp -t $DIR", "scp -f /etc/*", "scp -f /e?c/passwd",
    "scp -t x; rm -rf /", "ls && scp -t /etc/x", "scp -t x | cat", "scp -t 'unterminated", "$(echo scp) -t x",
    "eval scp -t x", "scp -Z -t x", "scp -t x & scp -f y", "sh -c \"scp -t $X\"",
])
def test_unparseable_endpoint_is_refused(command):
    request = parse_scp(command)
    assert isinstance(request, UnparseableScp), request
    assert request.reason.startswith("unparseable scp endpoint")


@pytest.mark.parametrize("command", [
    "scp x y", "scp file host:dir", "rm -rf /", "ls -t", "echo scp -t x", "scp -Z x y", "cat -f $(ls)",
])
def test_not_an_endpoint(command):
    assert parse_scp(command) is None
