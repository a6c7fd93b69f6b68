"""Grammar suite: which simple commands a line runs, through which wrappers, of which kind."""

from __future__ import annotations

import functools
import shlex
import subprocess

import pytest

from policies.shell import DELETE, EXEC, INLINE_CODE, parse

E, C, X = EXEC, INLINE_CODE, DELETE

GRAMMAR = [
    ("ls -la", [("ls", E, ())]),
    ("a; b && c || d | e |& f & g", [(p, E, ()) for p in "abcdefg"]),
    ("a\nb\n\nc", [("a", E, ()), ("b", E, ()), ("c", E, ())]),
    ("(a; (b)) | { c; }", [("a", E, ()), ("b", E, ()), ("c", E, ())]),
    ("if a; then b; elif c; then d; else e; fi", [(p, E, ()) for p in "abcde"]),
    ("while a; do b; done; until c; do d; done", [(p, E, ()) for p in "abcd"]),
    ("for x in a b c; do d $x; done", [("d", E, ())]),
    ("for x\ndo\n d\ndone", [("d", E, ())]),
    ("select x in a b; do d; done", [("d", E, ())]),
    ("case $x in a|b) c;; (d) e;& *) f;;& esac", [("c", E, ()), ("e", E, ()), ("f", E, ())]),
    ("case x in\n a)\n b\n ;;\nesac", [("b", E, ())]),
    ("f() { a; }; function g { b; }; function h() ( c )", [("a", E, ()), ("b", E, ()), ("c", E, ())]),
    ("X=1 Y=$(a) b", [("a", E, ()), ("b", E, ())]),
    ("X=1", []),
    ("arr=(one two) b", [("b", E, ())]),
    ("a $(b $(c)) `d`", [("c", E, ()), ("b", E, ()), ("d", E, ()), ("a", E, ())]),
    ('a "$(b)" "${x}"', [("b", E, ()), ("a", E, ())]),
    ("a > out 2>&1 < in >> log &> all 3<> rw", [("a", E, ())]),
    (">out a", [("a", E, ())]),
    ("a <<EOF; b\nbody $x\nEOF\nc", [("a", E, ()), ("b", E, ()), ("c", E, ())]),
    ("a <<'E'\n$(b)\nE", [("a", E, ())]),
    ("a <<<word", [("a", E, ())]),
    ("! a | b", [("a", E, ()), ("b", E, ())]),
    ("time -p a", [("a", E, ())]),
    ("[[ -f x && $(a) ]] && b", [("a", E, ()), ("b", E, ())]),
    ("a # b; c", [("a", E, ())]),
    ("a\\\nb", [("ab", E, ())]),
    ("echo if then fi", [("echo", E, ())]),
    ("/usr/local/bin/tool x", [("tool", E, ())]),
    ("\\ls", [("ls", E, ())]),
    ("'l's", [("ls", E, ())]),
    ("$'\\154s'", [("ls", E, ())]),
    ("$\"ls\"", [("ls", E, ())]),
    ("bash -c 'a; b'", [("bash", E, ()), ("a", E, ("bash",)), ("b", E, ("bash",))]),
    ("sudo -u x sh -c 'nice a'", [("sudo", E, ()), ("sh", E, ("sudo",)), ("nice", E, ("sudo", "sh")),
                                  ("a", E, ("sudo", "sh", "nice"))]),
    ("env -i -- A=1 a", [("env", E, ()), ("a", E, ("env",))]),
    ("env -i A=1 -- a", [("env", E, ()), ("--", E, ("env",))]),  # env runs a program named --
    ("timeout -k 5 10 a", [("timeout", E, ()), ("a", E, ("timeout",))]),
    ("xargs -n 1 -I{} a {}", [("xargs", E, ()), ("a", E, ("xargs",))]),
    ("xargs", [("xargs", E, ()), ("echo", E, ("xargs",))]),
    ("find . -name x -exec a {} \\; -delete", [("find", E, ()), ("a", E, ("find",)), ("rm", X, ("find",))]),
    ("find -delete", [("find", E, ()), ("rm", X, ("find",))]),
    ("command -v a", [("command", E, ())]),
    ("exec 3>&1", [("exec", E, ())]),
    ("ssh -p 22 -i key host a b", [("ssh", E, ()), ("a", E, ("ssh",))]),
    ("ssh -N -L 1:h:2 host", [("ssh", E, ())]),
    ("watch -n 1 a b", [("watch", E, ()), ("a", E, ("watch",))]),
    ("watch -x a b", [("watch", E, ()), ("a", E, ("watch",))]),
    ("script -q -c a /dev/null", [("script", E, ()), ("a", E, ("script",))]),
    ("su -c a", [("su", E, ()), ("a", E, ("su",))]),
    ("trap 'a' EXIT", [("trap", E, ()), ("a", E, ("trap",))]),
    ("trap -- 'a' EXIT INT", [("trap", E, ()), ("a", E, ("trap",))]),
    ("trap -p; trap - EXIT", [("trap", E, ()), ("trap", E, ())]),
    ("python3 -c 'x'", [("python3", C, ())]),
    ("python3.11 -I -c 'x'", [("python3.11", C, ())]),
    ("python3 x.py -c y", [("python3", E, ())]),
    ("python3 -m venv v", [("python3", E, ())]),
    ("perl -lane 'x' f", [("perl", C, ())]),
    ("perl -MPOSIX x.pl", [("perl", E, ())]),
    ("node --require m -e 'x'", [("node", C, ())]),
    ("awk -F: '{print $1}' f", [("awk", E, ())]),  # a text filter: it cannot start programs
    ("awk '{print | \"sh\"}' f", [("awk", C, ())]),
    ("gawk 'BEGIN { f=\"system\"; @f(\"id\") }'", [("gawk", C, ())]),
    ("awk -e 'BEGIN{}'", [("awk", C, ())]),
    ("awk \"$P\" f", [("awk", C, ())]),
    ("awk -f p.awk f", [("awk", E, ())]),
    ("osascript -e 'x'", [("osascript", C, ())]),
]


@pytest.mark.parametrize(("line", "expected"), GRAMMAR)
def test_simple_commands(line, expected):
    parsed = parse(line)
    assert not parsed.unknown, parsed.unknown
    assert [(c.program, c.kind, c.via) for c in parsed.commands] == expected


@pytest.mark.parametrize(("line", "_"), GRAMMAR)
def test_grammar_lines_are_valid_bash(line, _):
    res = subprocess.run(["bash", "-n", "-c", line], capture_output=True, timeout=10)
    assert res.returncode == 0, res.stderr


def test_words_are_resolved_statically():
    cmd = parse("a 'b c' \"d $x\" e\\ f $'g\\th' ~/x *.log {a,b}").commands[0]
    assert cmd.args == ("b c", "d $x", "e f", "g\th", "~/x", "*.log", "{a,b}")
    assert [w.dynamic for w in cmd.argv[1:]] == [False, True, False, False, False, False, True]
    assert [w.glob for w in cmd.argv[1:]] == [False, False, False, False, False, True, False]


def test_xargs_marks_extra_arguments():
    rm = parse("echo x | xargs rm").commands[-1]
    assert (rm.program, rm.extra_args) == ("rm", True)


def test_find_delete_is_rm_of_its_start_points():
    delete = parse("find a b -name '*.tmp' -delete").commands[-1]
    assert (delete.kind, delete.args) == (DELETE, ("-r", "-f", "--", "a", "b"))


UNKNOWN = [
    ("$(echo rm) x", "program name"),
    ("$CMD x", "program name"),
    ("${CMD} x", "program name"),
    ("r${X}m x", "program name"),
    ("/bin/r[m] x", "program name"),
    ("/bin/r? x", "program name"),
    ("{rm,x}", "program name"),
    ("=rm x", "expanded"),
    ("echo $((1+2))", "arithmetic"),
    ("echo $[1+2]", "arithmetic"),
    ("((x++))", "arithmetic"),
    ("diff <(a) <(b)", "process substitution"),
    ("a >(b)", "process substitution"),
    ("echo ${x:-$(a)}", "inside ${"),
    ("cat <<EOF\n`a`\nEOF", "here-document"),
    ("eval a", "eval"),
    ("source f", "source"),
    (". f", "."),
    ("alias a=b", "alias"),
    ("sh", "stdin"),
    ("bash -s", "stdin"),
    ("bash -", "stdin"),
    ("sh /dev/stdin", "stdin"),
    ("a | python3", "stdin"),
    ("ruby -", "stdin"),
    ("tclsh", "stdin"),
    ("sudo -s", "stdin"),
    ("sudo", "stdin"),
    ("su -", "stdin"),
    ("ssh host", "stdin"),
    ("ssh -o ProxyCommand='rm -rf d' host ls", "local command"),
    ("ssh -oLocalCommand=x -o PermitLocalCommand=yes host ls", "local command"),
    ("ssh -F cfg host ls", "local command"),
    ("sh -c \"$x\"", "not static"),
    ("bash $script", "not static"),
    ("fish -c a", "syntax is not parsed"),
    ("parallel a ::: b", "does not show"),
    ("timeout --frobnicate 5 a", "not understood"),
    ("sudo -Z a", "not understood"),
    ("sudo $OPT a", "not static"),
    ("echo 'x", "unterminated"),
    ('echo "x', "unterminated"),
    ("echo `x", "unterminated"),
    ("echo $(a `b)", "unterminated"),
    ("echo $(x", "unbalanced"),
    ("if a; then b", "end of line"),
    ("a )", "syntax error"),
    ("fi", "syntax error"),
    ("a (b)", "syntax error"),
    ("case x in a) b;; ", "end of line"),
    ("coproc a", "unsupported"),
    ("hash -p /bin/rm ls", "hash -p"),
    ("a\0b", "NUL"),
    ("find . -exec a {}", "terminator"),
    ("echo $'\\cA'", "control"),
    ("x" * 70000, "too long"),
    ("echo $(" * 20 + "a" + ")" * 20, "nested"),

]


@pytest.mark.parametrize(("line", "reason"), UNKNOWN)
def test_unknown(line, reason):
    parsed = parse(line)
    assert parsed.unknown and reason in parsed.unknown[0], parsed


def test_wrappers_nest_up_to_the_limit():
    line = functools.reduce(lambda inner, _: f"sh -c {shlex.quote(inner)}", range(8), "rm -r d")
    parsed = parse(line)
    assert not parsed.unknown
    assert parsed.commands[-1].program == "rm" and parsed.commands[-1].via == ("sh",) * 8
