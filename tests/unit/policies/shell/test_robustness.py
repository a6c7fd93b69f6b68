"""The parser and the redactor take any input: no exception, and redaction loses nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.shell import parse
from policies.shell.redact import redact_command

PIECES = st.sampled_from(list("abrm -$(){}[]<>|&;'\"\\`\n\t#*?=~!,.09") + [
    "sh -c ", "xargs ", "find ", " -exec ", " -delete", "<<EOF\n", "\nEOF\n", "$((", "${", "case ", " in ",
    " esac", "if ", " then ", " fi", "for ", " do ", " done", "sudo ", "env ", "python3 -c ", "scp -t ", ";;"])
LINES = st.lists(PIECES, max_size=40).map("".join)


@settings(max_examples=800, deadline=None)
@given(LINES)
def test_parse_never_raises(line):
    parsed = parse(line)
    assert all(c.argv and c.argv[0].static for c in parsed.commands)


@settings(max_examples=800, deadline=None)
@given(st.one_of(LINES, st.text(max_size=60)))
def test_redaction_with_identity_mask_is_lossless(line):
    assert redact_command(line, lambda s: s) == line


WORDS = st.text(alphabet="abcXYZ019 -_/.:=+", min_size=1, max_size=12).filter(str.strip)
SEPARATORS = st.sampled_from([";", "&&", "||", "|", "\n", "&", "|&", ">", "<", ">>", ">&", ";;"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(WORDS, SEPARATORS), min_size=1, max_size=8))
def test_a_mask_that_hides_everything_keeps_the_syntax(parts):
    line = "".join(w + sep for w, sep in parts)
    out = redact_command(line, lambda s: "*" * len(s))
    assert len(out) == len(line)
    expected = "".join("*" * len(w) + sep for w, sep in parts)
    assert out == expected
