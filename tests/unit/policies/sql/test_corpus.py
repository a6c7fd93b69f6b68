"""Bypass corpus (must be caught) and benign corpus (must pass cleanly)."""

from __future__ import annotations

import pytest

from policies.sql import Kind, classify, stricter
from tests.unit.policies.sql.corpus import BENIGN, BYPASS, DANGEROUS_FLAGS, Case


@pytest.mark.parametrize("c", BYPASS, ids=[c.id for c in BYPASS])
def test_bypass_is_caught(c: Case) -> None:
    result = classify(c.sql, no_backslash_escapes=c.nbe, ansi_quotes=c.ansi)
    if c.exact:
        assert result.kind is c.kind, result
    else:
        # As strict as expected or stricter: UNKNOWN always satisfies this.
        assert stricter(result.kind, c.kind) is result.kind, result
    assert c.flags <= result.flags, (sorted(c.flags - result.flags), result)


@pytest.mark.parametrize(("sql", "kind"), [(s, k) for _, s, k in BENIGN], ids=[i for i, _, _ in BENIGN])
def test_benign_passes(sql: str, kind: Kind) -> None:
    result = classify(sql)
    assert result.kind is kind, result
    assert not result.flags & DANGEROUS_FLAGS, result
    assert result.error == "", result


def test_corpus_sizes() -> None:
    assert len(BYPASS) >= 100
    assert len(BENIGN) >= 40
    assert len({c.id for c in BYPASS}) == len(BYPASS)
