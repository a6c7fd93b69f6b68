"""The classifier's two caches: bounded LRUs with hit/miss counters.

* :data:`EXACT` is keyed on ``(sql, no_backslash_escapes, ansi_quotes)`` and holds whole
  :class:`~policies.sql.classification.Classification` values;
* :data:`SHAPES` is keyed on the literal-free sqlglot input and holds only its AST
  summary (:class:`~policies.sql.refine.Refinement`): no literal reaches its key or value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from policies.sql.classification import Classification
from policies.sql.refine import Refinement

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """Dict-based LRU bounded by entry count and total weight (≈ characters held)."""

    def __init__(self, maxsize: int, maxweight: int) -> None:
        self.maxsize, self.maxweight = maxsize, maxweight
        self.data: dict[K, tuple[V, int]] = {}
        self.weight = self.hits = self.misses = 0

    def get(self, key: K) -> V | None:
        try:
            value, weight = self.data.pop(key)
        except KeyError:
            self.misses += 1
            return None
        self.data[key] = (value, weight)  # re-insert: now the most recently used
        self.hits += 1
        return value

    def put(self, key: K, value: V, weight: int) -> None:
        if weight > self.maxweight // 16:
            return  # one huge entry must not flush everything else
        old = self.data.pop(key, None)
        self.weight += weight - (old[1] if old else 0)
        self.data[key] = (value, weight)
        while self.data and (len(self.data) > self.maxsize or self.weight > self.maxweight):
            try:
                self.weight -= self.data.pop(next(iter(self.data)))[1]
            except (KeyError, RuntimeError, StopIteration):  # concurrent use: give up this round
                break

    def clear(self) -> None:
        self.data.clear()
        self.weight = self.hits = self.misses = 0


@dataclass(frozen=True, slots=True)
class CacheInfo:
    exact_hits: int
    exact_misses: int
    shape_hits: int
    shape_misses: int
    exact_size: int
    shape_size: int
    maxsize: int
    template_hits: int = 0
    template_size: int = 0


EXACT: LRU[tuple[str, bool, bool], Classification] = LRU(10_000, 32 * 1024 * 1024)
SHAPES: LRU[str, Refinement] = LRU(10_000, 16 * 1024 * 1024)
TEMPLATES: LRU[str, Classification] = LRU(10_000, 16 * 1024 * 1024)
"""Fingerprint -> the classification of a statement whose literal values decide nothing
but its text (policies.sql.classify): no literal value reaches it (texts are replaced)."""


def cache_info() -> CacheInfo:
    """Hit/miss counters and sizes of the exact, shape (literal-free) and template caches."""
    e, s, t = EXACT, SHAPES, TEMPLATES
    return CacheInfo(e.hits, e.misses, s.hits, s.misses, len(e.data), len(s.data), e.maxsize, t.hits, len(t.data))


def cache_clear() -> None:
    """Empty both caches and reset their counters."""
    EXACT.clear()
    SHAPES.clear()
    TEMPLATES.clear()
