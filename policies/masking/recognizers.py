"""Value recognizers: find sensitive substrings (cards, IBANs, e-mails, tokens…) in a ``str``.

Contract:

* A :class:`Recognizer` has a ``name`` and ``find(text) -> list[Match]``. Matches are
  character offsets into ``text``, non-empty, sorted, and never overlap each other.
  ``find`` is pure, thread-safe and never raises on any ``str`` (including lone
  surrogates produced by ``surrogateescape`` decoding).
* :func:`find_all` merges several recognizers' matches into one non-overlapping,
  sorted list: the longest match wins an overlap; on equal length the recognizer listed
  first wins (so list ``card`` before ``phone``), then the leftmost.
* Built-ins (:data:`policies.masking.builtins.BUILTIN`) favour precision: each one pairs a tight regex with a
  checksum or structure validator (see :mod:`policies.masking.validators`) and a cheap
  pre-filter (a digit, ``@`` or literal-prefix check) so values that cannot match cost
  one C-level scan.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from . import validators
from .anchored_scan import no_digit, scan
from .gates import Gate

__all__ = [
    "FLAGS", "Match", "Recognizer", "RegexRecognizer", "find_all", "find_all_reference", "merge", "regex_recognizer",
]

# Flag letters accepted by regex_recognizer(); a small, explicit set so configs stay portable.
FLAGS: dict[str, re.RegexFlag] = {
    "i": re.IGNORECASE,
    "m": re.MULTILINE,
    "s": re.DOTALL,
    "x": re.VERBOSE,
    "a": re.ASCII,
}


@dataclass(frozen=True, slots=True)
class Match:
    """A finding: ``text[start:end]`` was recognized by the recognizer called ``recognizer``."""

    recognizer: str
    start: int
    end: int


class Recognizer(Protocol):
    """Anything with a ``name`` and a ``find`` method (``name`` may be a plain attribute)."""

    @property
    def name(self) -> str: ...

    def find(self, text: str) -> list[Match]: ...


class RegexRecognizer:
    """Regex candidates confirmed by an optional validator.

    The match span is the group named ``value`` when the pattern has one (so context such
    as a keyword can be required without being masked), otherwise the whole match. Empty
    spans are ignored. ``triggers`` (any literal must occur) and ``needs_digit`` are
    pre-filters: they must be implied by the pattern, they only skip work. ``anchors`` and
    ``max_len`` enable the anchor fast path (see :func:`.anchored_scan.scan` for the requirements);
    ``gate`` is a shared :class:`Gate` used by :func:`find_all`. ``joinable``: the
    pattern can neither match nor see across a ``"\n"`` (see :mod:`.prefilter`); only
    set for patterns that were checked for it (a user's pattern is not).
    """

    __slots__ = ("name", "pattern", "validator", "triggers", "needs_digit", "min_len", "anchors", "max_len",
                 "gate", "joinable", "_group")

    def __init__(
        self,
        name: str,
        pattern: re.Pattern[str],
        validator: Callable[[str], bool] | None = None,
        *,
        triggers: tuple[str, ...] = (),
        needs_digit: bool = False,
        min_len: int = 1,
        anchors: tuple[str, ...] = (),
        max_len: int = 0,
        gate: Gate | None = None,
        joinable: bool = False,
    ) -> None:
        self.name = name
        self.pattern = pattern
        self.validator = validator
        self.triggers = triggers
        self.needs_digit = needs_digit
        self.min_len = min_len
        self.anchors = anchors
        self.max_len = max_len
        self.gate = gate
        self.joinable = joinable
        self._group: int | str = "value" if "value" in pattern.groupindex else 0

    def prefilter(self, text: str) -> bool:
        """False when ``text`` certainly holds no match (cheap C-level checks only)."""
        if len(text) < self.min_len:
            return False
        if self.triggers and not any(t in text for t in self.triggers):
            return False
        return not (self.needs_digit and no_digit(text))

    def find(self, text: str) -> list[Match]:
        if not self.prefilter(text):
            return []
        return self.find_prefiltered(text)

    def find_prefiltered(self, text: str) -> list[Match]:
        """:meth:`find` for a ``text`` in which the combined pre-filter saw one of this
        recognizer's candidates (:mod:`policies.masking.prefilter`): the cheap checks are skipped."""
        if len(text) < self.min_len:
            return []
        out: list[Match] = []
        group, check = self._group, self.validator
        for m in scan(text, self.pattern, self.anchors, self.max_len, seen=True):
            start, end = m.span(group)
            if start < end and (check is None or check(text[start:end])):
                out.append(Match(self.name, start, end))
        return out

    def __repr__(self) -> str:
        return f"RegexRecognizer({self.name!r}, {self.pattern.pattern!r})"


def regex_recognizer(name: str, pattern: str, validator: str | None = None, flags: str = "") -> Recognizer:
    """Build a user-defined recognizer from config.

    ``validator`` is a key of :data:`validators.VALIDATORS` (``"luhn"``, ``"iban"``,
    ``"ssn"``, ``"card"``) or ``None``; ``flags`` is a string of letters from
    :data:`FLAGS` (e.g. ``"i"``). A group named ``value`` narrows the masked span.
    Raises ``ValueError`` naming the recognizer on an empty name, a bad regex, a pattern
    that matches the empty string, an unknown flag or an unknown validator.
    """
    if not name:
        raise ValueError("recognizer name must not be empty")
    check = None
    if validator is not None:
        check = validators.VALIDATORS.get(validator)
        if check is None:
            known = ", ".join(sorted(validators.VALIDATORS))
            raise ValueError(f"recognizer {name!r}: unknown validator {validator!r} (known: {known})")
    re_flags = re.RegexFlag(0)
    for letter in flags:
        if letter not in FLAGS:
            raise ValueError(f"recognizer {name!r}: unknown regex flag {letter!r} (known: {''.join(FLAGS)})")
        re_flags |= FLAGS[letter]
    try:
        compiled = re.compile(pattern, re_flags)
    except re.error as exc:
        raise ValueError(f"recognizer {name!r}: invalid regex {pattern!r}: {exc}") from None
    if compiled.fullmatch(""):
        # An always-matching pattern would "mask" nothing while looking configured.
        raise ValueError(f"recognizer {name!r}: regex {pattern!r} matches the empty string")
    return RegexRecognizer(name, compiled, check)


def find_all(text: str, recognizers: Sequence[Recognizer]) -> list[Match]:
    """All matches of ``recognizers`` in ``text``: sorted by start, non-overlapping.

    Overlaps are resolved greedily by priority: longer match first, then the recognizer
    earlier in ``recognizers``, then the leftmost match. One combined pre-filter pass
    (:mod:`policies.masking.prefilter`, compiled once per recognizer list) decides which
    recognizers run at all; the result is exactly :func:`find_all_reference`'s.
    """
    from .prefilter import scanner_for

    return scanner_for(recognizers).find(text)


def find_all_reference(text: str, recognizers: Sequence[Recognizer]) -> list[Match]:
    """:func:`find_all` without the combined pre-filter: every recognizer runs (behind its
    family :class:`Gate`, evaluated once per call). The reference the fast path is tested against."""
    ranked: list[tuple[int, list[Match]]] = []
    gates: dict[int, bool] = {}
    for rank, rec in enumerate(recognizers):
        gate: Gate | None = getattr(rec, "gate", None)
        if gate is not None:
            is_open = gates.get(id(gate))
            if is_open is None:
                is_open = gates[id(gate)] = gate(text)
            if not is_open:
                continue
        ranked.append((rank, rec.find(text)))
    return merge(ranked)


def merge(ranked: Sequence[tuple[int, list[Match]]]) -> list[Match]:
    """Merge per-recognizer matches (``(rank, matches)`` in rank order) as :func:`find_all` specifies."""
    found: list[tuple[int, int, int, Match]] = []
    hit_lists = 0
    for rank, hits in ranked:
        if hits:
            hit_lists += 1
            found.extend((hit.start - hit.end, rank, hit.start, hit) for hit in hits)
    if hit_lists <= 1:
        # A single recognizer's own matches never overlap: skip the merge.
        return [item[3] for item in found]
    found.sort(key=lambda item: item[:3])
    starts: list[int] = []  # accepted spans, kept sorted by start (they never overlap)
    ends: list[int] = []
    accepted: list[Match] = []
    for _, _, start, hit in found:
        i = bisect.bisect_right(starts, start)
        if i and ends[i - 1] > start:
            continue  # overlaps the accepted span starting at or before us
        if i < len(starts) and starts[i] < hit.end:
            continue  # overlaps the accepted span starting after us
        starts.insert(i, start)
        ends.insert(i, hit.end)
        accepted.insert(i, hit)
    return accepted
