"""Masking composed for one session: every configured masker applied in order.

Three uses, one place: text bound for storage (journal, index, recordings, approval
requests) is ``redact``-ed with every recognizer whoever is looking; text shown live to
the session's user (SSH output, SFTP reads, MySQL error messages) goes through ``live``
under the rules in scope for that user; result columns get a ``plan`` (a :class:`RowMask`
over batches of rows) once per column-definition set. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bastion.core.contracts import ColumnInfo, Masker, RowBatch, RowMasker
from bastion.core.types import Session

BatchMask = Callable[[RowBatch], None]


@dataclass(frozen=True, slots=True)
class RowMask:
    """Every masker's plan for one result set, composed: ``mask(batch)`` rewrites the
    ``columns`` of a :data:`RowBatch` in place as :attr:`RowMasker.mask` says, each
    masker in turn (a later one sees what the earlier ones left)."""

    columns: frozenset[int]
    mask: BatchMask


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

    def plan(self, columns: Sequence[ColumnInfo], plans: list[RowMasker]) -> RowMask | None:
        """The masking of one result set (None when nothing in it is masked); each
        masker's plan is appended to ``plans`` so the caller can collect its counts.
        Only text columns are rewritten (numeric and temporal values cannot change in
        place): a plan naming another column sees it as NULLs."""
        used: list[RowMasker] = []
        for masker in self.maskers:
            plan = masker.plan(self.session, columns)
            if plan:
                plans.append(plan)
                used.append(plan)
        text = frozenset(i for i, col in enumerate(columns) if col.is_text)
        rewritten = frozenset(i for plan in used for i in plan.columns) & text
        if not rewritten:
            return None
        masks = [plan.mask if plan.columns <= text else _text_only(plan, text) for plan in used]
        return RowMask(rewritten, masks[0] if len(masks) == 1 else _chain(masks))


def _text_only(plan: RowMasker, text: frozenset[int]) -> BatchMask:
    """``plan.mask`` shown NULLs in the columns that are not text (it cannot rewrite them)."""
    def mask(batch: RowBatch) -> None:
        rows = len(next(iter(batch.values()), []))
        plan.mask({i: batch[i] if i in text else [None] * rows for i in plan.columns})
    return mask


def _chain(masks: list[BatchMask]) -> BatchMask:
    def mask(batch: RowBatch) -> None:
        for each in masks:
            each(batch)
    return mask
