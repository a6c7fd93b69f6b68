"""The rule masker: turns ``masking:`` rules into per-result-set plans and text maskers.

Entry point ``bastion.maskers: rules = policies.masking.engine:RuleMasker``.

* ``plan(session, columns)`` runs once per column-definition set. A column is masked by
  the first in-scope rule whose ``columns`` globs match ``schema.table.column`` (by the
  original names, and by the aliases the client sees) — the whole value gets the rule's
  style; otherwise, if in-scope rules name recognizers, the value is scanned and only
  recognized substrings are replaced. Only string-typed columns are rewritten (numeric
  and temporal values cannot change in place in the binary protocol). Styles keep the length.
  The plan's ``mask`` scans every scanned value of a batch of rows together (one
  :func:`~policies.masking.mask_many` per recognizer list): same result as value by value.
* ``mask_output(session, text)``: live masking of protocol output (SSH exec, SFTP reads)
  under the in-scope rules (group exemptions apply).
* ``mask_text(session, text)``: what goes to the journal, index, recordings and logs.
  Always applies every recognizer, whatever the user's groups: storage never holds a
  clear sensitive value, even for people allowed to see it live.
"""

from __future__ import annotations

import fnmatch
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bastion.core.contracts import ColumnInfo, RowBatch, RowMasker
from bastion.core.types import Session
from policies.files import MaskRule
from policies.masking import BUILTIN, STYLES, MaskStyle, Recognizer, mask_many, mask_text, regex_recognizer
from policies.masking.prefilter import Scanner, scanner_for
from policies.masking.styles import nonempty
from policies.matching import scope_matches

if TYPE_CHECKING:
    from bastion.context import PluginContext

STORAGE_STYLE = {"card": "partial", "email": "email", "iban": "partial", "phone": "partial", "ssn": "partial"}
"""How recognized values look in stored text; secrets are fully masked."""


def _column_names(col: ColumnInfo) -> list[str]:
    names = []
    if col.org_name:
        names.append(f"{col.schema}.{col.org_table}.{col.org_name}".lower())
    names.append(f"{col.schema}.{col.table}.{col.name}".lower())
    return names


def column_matches(patterns: Sequence[str], col: ColumnInfo) -> bool:
    """``db.table.col`` globs; ``table.col`` and ``col`` match in any schema/table."""
    for pattern in patterns:
        p = pattern.lower()
        depth = p.count(".")
        full = p if depth == 2 else ("*." + p if depth == 1 else "*.*." + p)
        if any(fnmatch.fnmatchcase(name, full) for name in _column_names(col)):
            return True
    return False


class RuleMasker:
    name = "rules"

    def __init__(self, ctx: PluginContext) -> None:
        policies = ctx.settings.policies
        self.rules: tuple[MaskRule, ...] = policies.masking
        self.recognizers: dict[str, Recognizer] = dict(BUILTIN)
        for custom in policies.recognizers:
            self.recognizers[custom.name] = regex_recognizer(custom.name, custom.pattern, custom.validator)
        self.key = _hash_key(Path(ctx.settings.config.state_dir) / "masking.key")
        self._all = list(self.recognizers.values())
        self._storage_styles = {name: self._style(STORAGE_STYLE.get(name, "full"), 4) for name in self.recognizers}

    def _style(self, name: str, keep_last: int) -> MaskStyle:
        if name == "partial":
            return STYLES["partial"](keep_last=keep_last)
        if name == "hash":
            return STYLES["hash"](self.key)
        if name == "email":
            return STYLES["email"]()
        return STYLES["full"]()

    def _in_scope(self, session: Session) -> list[MaskRule]:
        return [r for r in self.rules if scope_matches(r.scope, session)]

    def plan(self, session: Session, columns: Sequence[ColumnInfo]) -> RowMasker | None:
        rules = self._in_scope(session)
        if not rules:
            return None
        whole: dict[int, tuple[Callable[[str], str], str]] = {}
        scans: dict[Scanner, list[tuple[int, str]]] = {}
        scanners = [(r, [self.recognizers[n] for n in r.recognizers if n in self.recognizers]) for r in rules]
        styles = {rec.name: self._style(r.style, r.keep_last) for r, found in scanners for rec in found}
        for index, col in enumerate(columns):
            if not col.is_text:
                continue
            label = f"{col.schema}.{col.org_table or col.table}.{col.org_name or col.name}"
            rule = next((r for r in rules if r.columns and column_matches(r.columns, col)), None)
            if rule is not None:
                whole[index] = (nonempty(self._style(rule.style, rule.keep_last)), f"column:{label}")
                continue
            # A value is at most ``length`` bytes, hence characters: recognizers that need a
            # longer value cannot match in this column (e.g. no card in a CHAR(2)).
            recs = [rec for _, found in scanners for rec in found
                    if not col.length or col.length >= getattr(rec, "min_len", 1)]
            if recs:  # columns with the same recognizers share one Scanner, and one scan per batch
                scans.setdefault(scanner_for(recs), []).append((index, label))
        if not whole and not scans:
            return None
        counts: dict[str, int] = {}
        return RowMasker(frozenset(whole) | {i for cols in scans.values() for i, _ in cols},
                         _row_mask(whole, scans, styles, counts), counts)

    def masks_output(self, session: Session) -> bool:
        return any(r.recognizers for r in self._in_scope(session))

    def mask_output(self, session: Session, text: str) -> tuple[str, dict[str, int]]:
        rules = [r for r in self._in_scope(session) if r.recognizers]
        if not rules:
            return text, {}
        recs = [self.recognizers[n] for r in rules for n in r.recognizers if n in self.recognizers]
        styles = {n: self._style(r.style, r.keep_last) for r in rules for n in r.recognizers}
        return mask_text(text, recs, lambda name: styles.get(name) or self._storage_styles[name])

    def mask_text(self, session: Session, text: str) -> tuple[str, dict[str, int]]:
        del session  # storage masking does not depend on who is looking
        return mask_text(text, self._all, lambda name: self._storage_styles[name])


def _row_mask(whole: dict[int, tuple[Callable[[str], str], str]], scans: dict[Scanner, list[tuple[int, str]]],
              styles: dict[str, MaskStyle], counts: dict[str, int]) -> Callable[[RowBatch], None]:
    """The plan's ``mask``: whole-value styles (called on non-empty values only), then one
    scan per Scanner over the batch."""
    style_for = styles.__getitem__

    def mask(batch: RowBatch) -> None:
        for index, (style, key) in whole.items():
            values = batch[index]
            done = 0
            for row, value in enumerate(values):
                if value:  # NULL and '' stay as they are
                    values[row] = style(value.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
                    done += 1
            if done:
                counts[key] = counts.get(key, 0) + done
        for scanner, cols in scans.items():
            flat: list[bytes | None] = []
            for index, _ in cols:
                flat += batch[index]
            rows = len(batch[cols[0][0]])
            for position, (masked, found) in mask_many(flat, scanner, style_for).items():
                index, label = cols[position // rows]
                batch[index][position % rows] = masked
                for name, n in found.items():
                    key = f"{name}:{label}"
                    counts[key] = counts.get(key, 0) + n
    return mask


def _hash_key(path: Path) -> bytes:
    """Key of the keyed-hash style; stable across restarts so joins keep lining up."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    return path.read_bytes()
