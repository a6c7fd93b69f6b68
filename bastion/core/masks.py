"""Masking composed for one session: every configured masker applied in order.

Three uses, one place: text bound for storage (journal, index, recordings, approval
requests) is ``redact``-ed with every recognizer whoever is looking; text shown live to
the session's user (SSH output, SFTP reads, MySQL error messages) goes through ``live``
under the rules in scope for that user; result columns get a ``plan`` (column index ->
function) once per column-definition set. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bastion.core.contracts import ColumnInfo, Masker, RowMasker
from bastion.core.types import Session

MaskFn = Callable[[bytes], bytes]


def _add(counts: dict[str, int], found: dict[str, int]) -> None:
    for key, n in found.items():
        counts[key] = counts.get(key, 0) + n


class Masks:
    """The maskers of one session; ``live_counts`` sums what live masking replaced."""

    __slots__ = ("_live", "live_counts", "maskers", "session")

    def __init__(self, maskers: Sequence[Masker], session: Session) -> None:
        self.maskers = tuple(maskers)
        self.session = session
        self.live_counts: dict[str, int] = {}
        self._live = tuple(m for m in self.maskers if m.masks_output(session))

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """``text`` as storage may hold it, and the counts per recognizer."""
        counts: dict[str, int] = {}
        for masker in self.maskers:
            text, found = masker.mask_text(self.session, text)
            _add(counts, found)
        return text, counts

    @property
    def masks_live(self) -> bool:
        """Whether :meth:`live` can change anything for this session (streams skip it otherwise)."""
        return bool(self._live)

    def live(self, text: str) -> str:
        """``text`` as this session's user may see it live (counted in ``live_counts``)."""
        for masker in self._live:
            text, found = masker.mask_output(self.session, text)
            _add(self.live_counts, found)
        return text

    def plan(self, columns: Sequence[ColumnInfo], plans: list[RowMasker]) -> dict[int, MaskFn]:
        """Column index -> masking function for one result set; each masker's plan is
        appended to ``plans`` so the caller can collect its per-recognizer counts."""
        merged: dict[int, MaskFn] = {}
        for masker in self.maskers:
            plan = masker.plan(self.session, columns)
            if not plan:
                continue
            plans.append(plan)
            for index, fn in plan.maskers.items():
                if not columns[index].is_text:
                    continue  # numeric/temporal values cannot change in place
                previous = merged.get(index)
                merged[index] = fn if previous is None else _chain(previous, fn)
        return merged


def _chain(first: MaskFn, second: MaskFn) -> MaskFn:
    return lambda value: second(first(value))
