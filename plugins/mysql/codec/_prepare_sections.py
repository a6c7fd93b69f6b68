"""COM_STMT_PREPARE response sections: PREPARE_OK → param defs [+EOF] → column defs
[+EOF], or ERR (rule 4 of :mod:`._response`)."""

from __future__ import annotations

from ._items import ColumnDefItem, ColumnsEndItem, Item, ParamDefItem, ParamsEndItem, PrepareOkItem
from ._response_base import State, TrackerBase
from ._stmt_packets import PrepareOk


class PrepareSections(TrackerBase):
    """Handlers of the COM_STMT_PREPARE states."""

    __slots__ = ()

    def _on_prepare_ok(self, payload: bytes) -> Item:
        if payload[0] == 0xFF:
            return self._err(payload)
        pok = PrepareOk.parse(payload)
        self._nparams, self._ncols, self._index = pok.num_params, pok.num_columns, 0
        self.params, self.columns = [], []
        self._state = State.PARAMS if pok.num_params else self._after_params()
        return PrepareOkItem(pok)

    def _after_params(self) -> State:
        self._index = 0
        return State.PREPARE_COLUMNS if self._ncols else State.DONE

    def _on_params(self, payload: bytes) -> Item:
        col = self._column(payload)
        index = self._index
        self._index += 1
        self.params.append(col)
        if self._index == self._nparams:
            self._state = self._after_params() if self.deprecate_eof else State.PARAMS_EOF
        return ParamDefItem(col, index)

    def _on_params_eof(self, payload: bytes) -> Item:
        status = self._expect_eof(payload, "parameter definitions")
        self._state = self._after_params()
        return ParamsEndItem(status)

    def _on_prepare_columns(self, payload: bytes) -> Item:
        col = self._column(payload)
        index = self._index
        self._index += 1
        self.columns.append(col)
        if self._index == self._ncols:
            self._state = State.DONE if self.deprecate_eof else State.PREPARE_COLUMNS_EOF
        return ColumnDefItem(col, index)

    def _on_prepare_columns_eof(self, payload: bytes) -> Item:
        status = self._expect_eof(payload, "column definitions")
        self._state = State.DONE
        return ColumnsEndItem(status)
