"""Option splitting for wrappers and option names for judged programs."""

from __future__ import annotations

import pytest

from policies.shell import DELETE, option_names, parse
from policies.shell.lexer import Unknown
from policies.shell.model import Word
from policies.shell.options import spec, split_options


def names(line: str) -> tuple[frozenset[str], bool]:
    # the last command the line runs itself (rsync --delete also yields the rm it amounts to)
    return option_names([c for c in parse(line).commands if c.kind != DELETE][-1])


@pytest.mark.parametrize(("line", "present", "absent"), [
    ("rm -rf x", {"-r", "-f", "recursive", "force"}, set()),
    ("rm -fR x", {"-R", "recursive"}, set()),
    ("rm --recursive x", {"--recursive", "recursive"}, set()),
    ("rm --recu x", {"--recu", "--recursive", "recursive"}, set()),
    ("rm --force x", {"force"}, {"recursive"}),
    ("rm x -r", {"recursive"}, set()),
    ("rm -- -r", set(), {"recursive", "-r"}),
    ("rm --interactive=never x", {"interactive"}, {"recursive"}),
    ("rm --r x", {"recursive"}, set()),  # the only rm long option starting with r
    ("cp -a src dst", {"recursive", "-a"}, set()),
    ("cp -t dir -r a", {"recursive", "target-directory"}, set()),
    ("cp -t -r a", {"target-directory"}, {"recursive"}),  # -r is the value of -t
    ("rsync -av --delete-after a b", {"recursive", "delete"}, set()),
    ("chmod -R 755 d", {"-R", "recursive"}, set()),
    ("tar -xzf a.tgz", {"-x", "-z", "-f"}, set()),
])
def test_option_names(line, present, absent):
    found, uncertain = names(line)
    assert present <= found and not absent & found and not uncertain


@pytest.mark.parametrize("line", ["rm $F x", "rm $(echo -r) x", "rm * ", "rm -[r] x", "rm {-r,x}",
                                  "echo x | xargs rm"])
def test_uncertain_options(line):
    assert names(line)[1]


@pytest.mark.parametrize("line", ["rm ./*.log", "rm /tmp/*.pid", "rm -f -- $F"])
def test_certain_options(line):
    assert not names(line)[1]


SUDO = spec("u", "nE", "user", "non-interactive")


def test_split_options():
    argv = tuple(Word(t) for t in ["sudo", "-nu", "root", "--user=x", "--non", "--", "rm", "-rf"])
    opts, i = split_options(argv, SUDO, "sudo")
    assert [(n, v.text if v else None) for n, v in opts] == [("-n", None), ("-u", "root"), ("--user", "x"),
                                                             ("--non-interactive", None)]
    assert argv[i].text == "rm"


@pytest.mark.parametrize("args", [["-Z", "rm"], ["--bogus", "rm"], ["-u"], ["--user"]])
def test_split_options_refuses_what_it_does_not_know(args):
    with pytest.raises(Unknown):
        split_options(tuple(Word(t) for t in ["sudo", *args]), SUDO, "sudo")


def test_split_options_refuses_dynamic_options():
    with pytest.raises(Unknown):
        split_options((Word("sudo"), Word("$X", dynamic=True), Word("rm")), SUDO, "sudo")
