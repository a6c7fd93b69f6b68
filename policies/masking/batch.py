"""Batch scanning: the values of many rows through one :class:`~.prefilter.Scanner` at once.

Contract: :func:`scan_batch` finds in each text of a batch exactly what
``scanner.find(text)`` finds in it. How: the texts at least ``scanner.min_len`` long are
joined by :data:`SEPARATOR`; one pre-filter pass over the joined text tells which
recognizers may match anywhere in the batch; each of them runs once over the joined text if
it declares ``joinable = True``, else once per text (its full ``find``, whose own checks
stand in for the pre-filter's). Python-level work per call, not per value, is what a
batch saves: the Hyperscan call, one regex pass per recognizer, the bookkeeping.

Promises a recognizer makes (the built-ins keep them, checked by property tests):

* ``joinable``: none of its matches contains a ``"\\n"``, and a ``"\\n"`` next to a text
  changes none of its decisions about that text (its context checks treat ``"\\n"`` as
  the start or end of the text), so its matches in the joined text are exactly its
  matches in each text. A match that crosses a separator anyway (a broken promise) makes
  the recognizer run text by text instead. A user's regex is never joinable.
* ``min_len``: it finds nothing in a text shorter than that (its matches there in the
  joined text are dropped).

Pure: no I/O, thread-safe (the Scanner is).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .recognizers import Match, merge

if TYPE_CHECKING:
    from .prefilter import Scanner

__all__ = ["SEPARATOR", "Batch", "scan_batch"]

SEPARATOR = "\n"
"""What goes between the texts of a batch in its joined text."""


@dataclass(frozen=True, slots=True)
class Batch:
    """What :func:`scan_batch` found. ``found`` maps the position of each text with
    matches to its offset in ``joined`` and its matches, with offsets into ``joined``
    (sorted, non-overlapping, as :meth:`Scanner.find` gives them): the caller can splice
    the masked text straight from ``joined``."""

    joined: str
    found: dict[int, tuple[int, list[Match]]]

    def per_text(self, count: int) -> list[list[Match]]:
        """The matches of each of the ``count`` texts, with offsets into the text."""
        out: list[list[Match]] = [[] for _ in range(count)]
        for i, (base, matches) in self.found.items():
            out[i] = [Match(m.recognizer, m.start - base, m.end - base) for m in matches] if base else matches
        return out


def scan_batch(scanner: Scanner, texts: Sequence[str]) -> Batch:
    """Every text's matches (see the module contract)."""
    index = [i for i, text in enumerate(texts) if len(text) >= scanner.min_len]
    if len(index) <= 1:
        if not index:
            return Batch("", {})
        text = texts[index[0]]
        matches = scanner.find(text)
        return Batch(text, {index[0]: (0, matches)} if matches else {})
    values = [texts[i] for i in index]
    joined = SEPARATOR.join(values)
    ranks = scanner.hits(joined)
    if not ranks:
        return Batch(joined, {})
    starts: list[int] = []
    pos = 0
    for value in values:
        starts.append(pos)
        pos += len(value) + 1  # the separator
    lengths = [len(value) for value in values]
    ranked: dict[int, list[tuple[int, list[Match]]]] = {}
    for rank in sorted(ranks):
        for k, matches in _run(scanner, rank, values, joined, starts, lengths).items():
            lists = ranked.get(k)
            if lists is None:
                ranked[k] = [(rank, matches)]
            else:
                lists.append((rank, matches))
    # one recognizer's own matches are sorted and never overlap: merge only when several found some
    return Batch(joined, {index[k]: (starts[k], lists[0][1] if len(lists) == 1 else merge(lists))
                          for k, lists in ranked.items()})


def _run(scanner: Scanner, rank: int, values: list[str], joined: str, starts: list[int],
         lengths: list[int]) -> dict[int, list[Match]]:
    """One recognizer's matches in the batch: value position -> its matches (offsets into
    ``joined``; only values with matches)."""
    if scanner.joinable[rank]:
        split = _split(scanner.finders[rank](joined), starts, lengths, scanner.min_lens[rank])
        if split is not None:
            return split
    find = scanner.recognizers[rank].find
    out: dict[int, list[Match]] = {}
    for k, value in enumerate(values):
        matches = find(value)
        if matches:
            base = starts[k]
            out[k] = [Match(m.recognizer, m.start + base, m.end + base) for m in matches] if base else matches
    return out


def _split(matches: list[Match], starts: list[int], lengths: list[int], min_len: int) -> dict[int, list[Match]] | None:
    """A joinable recognizer's matches in the joined text, by value; None if one crosses
    a separator. Matches in values shorter than ``min_len`` are dropped."""
    out: dict[int, list[Match]] = {}
    for m in matches:
        k = bisect.bisect_right(starts, m.start) - 1
        if m.end > starts[k] + lengths[k]:
            return None
        if lengths[k] < min_len:
            continue
        hits = out.get(k)
        if hits is None:
            out[k] = [m]
        else:
            hits.append(m)
    return out
