"""COM_STMT_PREPARE response sections: PREPARE_OK, parameter and column definitions."""

from __future__ import annotations

import pytest

from plugins.mysql.codec import (
    COM_QUERY,
    COM_STMT_PREPARE,
    ColumnDefItem,
    PrepareOk,
    PrepareOkItem,
    ResponseTracker,
    build_eof,
)

from . import captured
from .conftest import CAPTURE_CAPS
from .tracking import DEP, P41, col, run


def test_captured_prepare_params_and_columns():
    tracker = ResponseTracker(COM_STMT_PREPARE, CAPTURE_CAPS)
    items = [tracker.feed(p) for p in captured.payloads(captured.EOF_PREPARE)]
    assert isinstance(items[0], PrepareOkItem) and items[0].prepare_ok.num_params == 1
    assert [i.index for i in items if isinstance(i, ColumnDefItem)] == list(range(14))
    assert len(tracker.params) == 1 and len(tracker.columns) == 14


@pytest.mark.parametrize(
    ("nparams", "ncols", "deprecate", "codes"),
    [
        (0, 0, False, "P"),
        (0, 0, True, "P"),
        (2, 0, False, "PAAF"),
        (2, 0, True, "PAA"),
        (0, 2, False, "PDDE"),
        (0, 2, True, "PDD"),
        (1, 1, False, "PAFDE"),
        (1, 1, True, "PAD"),
    ],
)
def test_prepare_shapes(nparams, ncols, deprecate, codes):
    payloads = [PrepareOk(1, ncols, nparams).build()]
    payloads += [col("?")] * nparams + ([build_eof()] if nparams and not deprecate else [])
    payloads += [col("c")] * ncols + ([build_eof()] if ncols and not deprecate else [])
    tracker = ResponseTracker(COM_STMT_PREPARE, DEP if deprecate else P41)
    assert run(tracker, payloads) == codes
    assert len(tracker.params) == nparams and len(tracker.columns) == ncols


def test_prepare_expected_flag():
    tracker = ResponseTracker(COM_QUERY, P41, prepare_expected=True)
    assert run(tracker, [PrepareOk(1, 0, 0).build()]) == "P"
