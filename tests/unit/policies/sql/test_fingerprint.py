"""fingerprint(): one hash for statements that differ only by literals; the modes count."""

from __future__ import annotations

from policies.sql import classify, fingerprint


def test_fingerprint_ignores_literals_and_includes_modes() -> None:
    fp1, d1 = fingerprint("SELECT * FROM t WHERE a = 'x' AND b = 1")
    fp2, d2 = fingerprint("select  * FROM t /* c */ WHERE a = 'yy' AND b = 22")
    assert d1 == "SELECT * FROM t WHERE a = ? AND b = ?"
    assert d2 == "select * FROM t WHERE a = ? AND b = ?"
    assert fingerprint("SELECT * FROM t WHERE a = 'q' AND b = 3")[0] == fp1
    assert fp1 != fp2  # keyword case is kept in the digest
    assert fingerprint("SELECT 1", no_backslash_escapes=True)[0] != fingerprint("SELECT 1")[0]
    assert classify("SELECT * FROM t WHERE a = 'x' AND b = 1").fingerprint == fp1


def test_lex_error_hashes_the_raw_text_and_shows_no_literal() -> None:
    fp1, digest = fingerprint("SELECT 'secret")
    assert digest == "<lex error>"
    assert fingerprint("SELECT 'other")[0] != fp1  # no digest to share: the raw text decides
    assert fingerprint("SELECT 'secret", ansi_quotes=True)[0] != fp1
