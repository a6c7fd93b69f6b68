from __future__ import annotations

from typing import Any

from bastion.core.contracts import ColumnInfo, RowBatch, RowMasker
from bastion.core.masks import Masks
from tests.conftest import make_session


class Suffix:
    """A masker appending ``tag`` to every non-NULL value of ``columns``."""

    name = "suffix"

    def __init__(self, tag: bytes, columns: frozenset[int]) -> None:
        self.tag, self.columns = tag, columns

    def plan(self, session: Any, columns: Any) -> RowMasker | None:
        def mask(batch: RowBatch) -> None:
            for index in self.columns:
                values = batch[index]
                values[:] = [None if v is None else v + self.tag for v in values]
        return RowMasker(self.columns, mask) if self.columns else None

    def mask_text(self, session: Any, text: str) -> tuple[str, dict[str, int]]:
        return text, {}

    def mask_output(self, session: Any, text: str) -> tuple[str, dict[str, int]]:
        return text, {}

    def masks_output(self, session: Any) -> bool:
        return False


COLUMNS = [ColumnInfo("s", "t", "t", name, name, is_text) for name, is_text in
           [("a", True), ("n", False), ("b", True)]]


def test_plans_chain_in_order_over_text_columns_only():
    masks = Masks([Suffix(b"1", frozenset({0, 1})), Suffix(b"2", frozenset({0, 2})), Suffix(b"3", frozenset())],
                  make_session())
    plans: list[RowMasker] = []
    rows = masks.plan(COLUMNS, plans)
    assert rows is not None and rows.columns == {0, 2} and len(plans) == 2
    batch: RowBatch = {0: [b"x", None], 2: [b"y", b"z"]}
    rows.mask(batch)
    assert batch == {0: [b"x12", None], 2: [b"y2", b"z2"]}  # column 1 (not text) is never rewritten


def test_nothing_to_mask_is_no_plan():
    assert Masks([Suffix(b"1", frozenset({1}))], make_session()).plan(COLUMNS, []) is None
    assert Masks([], make_session()).plan(COLUMNS, []) is None
