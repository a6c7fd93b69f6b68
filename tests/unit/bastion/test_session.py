"""printable: audit data as valid Unicode, by the shortcut or by the walk alike."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bastion.session import _printable, printable

BAD = "caf\udce9"  # a latin1 byte decoded with surrogateescape


@dataclasses.dataclass
class Thing:
    name: str


CASES = [
    {"statement": "SELECT c FROM sbtest1 WHERE id=1", "rows": 1, "masked": {}, "would": [], "error": None},
    {"statement": "SELECT 'grüße ✓'", "columns": ["ü"], "duration_ms": 0.25, "ok": True},
    {"statement": f"SELECT '{BAD}'"},
    {"nested": {"deeper": [1, {"x": BAD}]}},
    {"list": [BAD, "fine"]},
    {BAD: "key"},
    {1: "a non-string key"},
    {"tuple": ("a", BAD)},
    {"thing": Thing("x")},
    {"big": 2**70},
    {"nan": float("nan")},
]


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_the_shortcut_gives_what_the_walk_gives(data):
    fast, walked = printable(data), _printable(data)
    assert json.dumps(fast, default=str, sort_keys=True) == json.dumps(walked, default=str, sort_keys=True)
    json.dumps(fast, default=str).encode("utf-8")  # no lone surrogate left anywhere
    assert fast is not data  # a record of its own: the caller may reuse its dict


def test_surrogates_become_escapes():
    assert printable({"s": BAD, "n": [BAD]}) == {"s": "caf\\xe9", "n": ["caf\\xe9"]}
