"""One combined pre-filter over every recognizer of a scan: which of them can match at all.

Contract:

* A recognizer may declare ``candidates``: regexes (ASCII, in the common subset of Python
  ``re`` and Hyperscan syntax) such that whenever ``find(text)`` returns a match, one of
  them matches somewhere in ``text``. A recognizer without ``candidates`` always runs.
  It may also offer ``find_prefiltered(text)``: ``find`` for a text in which one of its
  candidates occurs (so its own cheap checks can be skipped); same result.
* :class:`Scanner` compiles the candidates of a list of recognizers into one Hyperscan
  database (one pass over the text, all patterns at once, C speed) and
  :meth:`Scanner.find` runs only the recognizers whose candidates occur, then merges as
  :func:`policies.masking.recognizers.merge` does. Its result equals
  ``find_all_reference(text, recognizers)`` for every text (a property test checks it).
* :meth:`Scanner.find_many` is ``[scanner.find(t) for t in texts]`` for a batch of
  values, scanned together (:mod:`policies.masking.batch` says how, and what
  ``joinable`` and ``min_len`` promise).

Pure: no I/O. A Scanner is immutable after construction and thread-safe (a scan borrows
a scratch space of its own from a free list).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .recognizers import Match, Recognizer, merge

try:
    import hyperscan
except ImportError:  # pragma: no cover - exercised only where the wheel does not exist
    hyperscan = None  # type: ignore[assignment]

__all__ = ["Scanner", "scanner_for", "shape_regex"]


def shape_regex(anchor: str) -> str:
    """The regex of a shape anchor (see ``anchored_scan.scan``): ``0`` a digit, ``A`` an
    upper-case and ``a`` a lower-case ASCII letter, anything else itself."""
    out = []
    for ch in anchor:
        out.append({"0": "[0-9]", "A": "[A-Z]", "a": "[a-z]"}.get(ch) or re.escape(ch))
    return "".join(out)


def candidates_of(rec: Recognizer) -> tuple[str, ...]:
    """The recognizer's candidate patterns, or () when it must always run."""
    declared: tuple[str, ...] = getattr(rec, "candidates", ())
    if declared:
        return declared
    triggers: tuple[str, ...] = getattr(rec, "triggers", ())
    if triggers:
        return tuple(re.escape(t) for t in triggers)
    anchors: tuple[str, ...] = getattr(rec, "anchors", ())
    if anchors:
        return tuple(shape_regex(a) for a in anchors)
    return ()


class Scanner:
    """The compiled pre-filter of one ordered list of recognizers (a per-column plan)."""

    def __init__(self, recognizers: Sequence[Recognizer]) -> None:
        self.recognizers = tuple(recognizers)
        self.always: frozenset[int] = frozenset()
        self.min_len = min((getattr(r, "min_len", 1) for r in self.recognizers), default=1)
        expressions: list[bytes] = []
        ids: list[int] = []
        always = set()
        for rank, rec in enumerate(self.recognizers):
            patterns = candidates_of(rec)
            if not patterns:
                always.add(rank)
            for pattern in patterns:
                expressions.append(pattern.encode("ascii"))
                ids.append(rank)
        self.always = frozenset(always)
        self._ids = ids
        # A recognizer whose candidates occurred may skip its own cheap checks; one that
        # always runs keeps them.
        self.finders = [rec.find if rank in always else getattr(rec, "find_prefiltered", rec.find)
                        for rank, rec in enumerate(self.recognizers)]
        """Per rank: what runs once the pre-filter let the recognizer through."""
        self.joinable = [bool(getattr(rec, "joinable", False)) for rec in self.recognizers]
        self.min_lens = [getattr(rec, "min_len", 1) for rec in self.recognizers]
        self._db: Any = None
        self._regexes: list[re.Pattern[bytes]] = []
        self._scratches: list[Any] = []
        """Free Hyperscan scratch spaces: a scan takes one (or makes one) and gives it back.
        ``list.pop``/``append`` are atomic, so threads never share one; and it is not a
        ``threading.local``, which gevent's monkey-patching turns into one per greenlet."""
        if not expressions:
            return
        if hyperscan is not None:
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(expressions=expressions, ids=list(range(len(expressions))),
                       flags=hyperscan.HS_FLAG_SINGLEMATCH)
            self._db = db
        else:
            # One search per pattern: an alternation would hide a candidate that overlaps another.
            self._regexes = [re.compile(e) for e in expressions]

    def hits(self, text: str) -> set[int]:
        """Ranks of the recognizers that may match in ``text``."""
        found = set(self.always)
        raw = text.encode("utf-8", "surrogatepass")
        ids = self._ids
        if self._db is not None:
            def on_match(expr: int, _start: int, _end: int, _flags: int, _ctx: object) -> None:
                found.add(ids[expr])
            scratch = self._scratches.pop() if self._scratches else hyperscan.Scratch(self._db)
            try:
                self._db.scan(raw, match_event_handler=on_match, scratch=scratch)
            finally:
                self._scratches.append(scratch)
        else:
            found.update(ids[i] for i, regex in enumerate(self._regexes) if regex.search(raw))
        return found

    def find(self, text: str) -> list[Match]:
        """``find_all(text, recognizers)``, running only the recognizers the pre-filter lets through."""
        if len(text) < self.min_len:
            return []
        ranks = self.hits(text)
        if not ranks:
            return []
        finders = self.finders
        if len(ranks) == 1:  # one recognizer's own matches are sorted and never overlap
            return finders[ranks.pop()](text)
        return merge([(rank, finders[rank](text)) for rank in sorted(ranks)])


    def find_many(self, texts: Sequence[str]) -> list[list[Match]]:
        """``[self.find(text) for text in texts]``, the batch scanned together
        (:func:`policies.masking.batch.scan_batch`)."""
        from .batch import scan_batch

        return scan_batch(self, texts).per_text(len(texts))


@lru_cache(maxsize=256)
def _cached(recognizers: tuple[Recognizer, ...]) -> Scanner:
    return Scanner(recognizers)


def scanner_for(recognizers: Sequence[Recognizer]) -> Scanner:
    """The Scanner of ``recognizers`` (compiled once per distinct list, then cached)."""
    return _cached(tuple(recognizers))
