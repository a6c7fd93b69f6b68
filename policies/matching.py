"""Pure matchers for rule scopes and guardrail criteria (shared by guardrails and masking)."""

from __future__ import annotations

import fnmatch
import re
import shlex
from functools import lru_cache

from bastion.core.types import Session
from policies.files import GuardMatch, Scope
from policies.sql import Classification, Statement


def scope_matches(scope: Scope, session: Session) -> bool:
    """Does a rule scoped by ``scope`` apply to ``session``? Empty lists mean "any"."""
    groups = session.identity.groups
    if scope.unless_groups and groups & set(scope.unless_groups):
        return False
    if scope.groups and not groups & set(scope.groups):
        return False
    target = session.target
    if scope.protocols and target.protocol not in scope.protocols:
        return False
    if scope.targets or scope.tags:
        return target.name in scope.targets or bool(target.tags & set(scope.tags))
    return True


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)


def _table_matches(patterns: list[str], tables: frozenset[str]) -> bool:
    for table in tables:
        bare = table.rsplit(".", 1)[-1]
        for pattern in patterns:
            p = pattern.lower()
            if fnmatch.fnmatchcase(table, p) or ("." not in p and fnmatch.fnmatchcase(bare, p)):
                return True
    return False


def match_sql(m: GuardMatch, c: Classification) -> bool:
    """All SQL criteria given in ``m`` hold for at least one *effective* statement of ``c``.

    Effective statements (``Classification.effective``) are the outer statements and
    every statement they carry or imply (``SET STATEMENT … FOR DROP …``, ``PREPARE … FROM
    'DELETE …'``, routine bodies, ``CREATE OR REPLACE`` → ``DROP``): a rule on ``DROP``
    matches each of them. Flags match the statement's own flags or the whole command's.
    """
    if not (m.kinds or m.keywords or m.flags or m.tables or m.regex or m.wrapped_columns):
        return False  # a rule with no SQL criteria is not a SQL rule
    return any(_statement_matches(m, st, c.flags) for st in c.effective)


def _keyword_matches(keywords: list[str], keyword: str) -> bool:
    return any(keyword == k.upper() or keyword.startswith(k.upper() + " ") for k in keywords)


def _wrapped_matches(patterns: list[str], wrapped: frozenset[str]) -> bool:
    """``"*"`` in ``wrapped`` stands for any column (no AST, or ``PROCEDURE ANALYSE`` over ``*``)."""
    return any(c == "*" or fnmatch.fnmatchcase(c, p.lower()) for c in wrapped for p in patterns)


def _statement_matches(m: GuardMatch, st: Statement, flags: frozenset[str]) -> bool:
    return not (
        (m.kinds and st.kind.value not in m.kinds)
        or (m.keywords and not _keyword_matches(m.keywords, st.keyword))
        or (m.flags and not set(m.flags) & (st.flags | flags))
        or (m.tables and not _table_matches(m.tables, st.tables))
        or (m.regex and not _regex(m.regex).search(st.text))
        or (m.wrapped_columns and not _wrapped_matches(m.wrapped_columns, st.wrapped_columns))
    )


def _argv(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


_SHELL_SPLIT = re.compile(r"&&|\|\||[;|&\n`]|\$\(")


def match_command(m: GuardMatch, line: str) -> bool:
    """Programs match any simple command in the line (``a; b && c | d``); regex the whole line."""
    if not (m.programs or m.command_regex):
        return False
    if m.programs:
        programs = set()
        for part in _SHELL_SPLIT.split(line):
            argv = _argv(part.strip())
            while argv and ("=" in argv[0] or argv[0] in ("sudo", "env", "exec", "nohup", "time", "command")):
                argv = argv[1:]
            if argv:
                programs.add(argv[0].rsplit("/", 1)[-1])
        if not programs & set(m.programs):
            return False
    return not (m.command_regex and not _regex(m.command_regex).search(line))


def match_fileop(m: GuardMatch, op: str, path: str, target_path: str = "") -> bool:
    if not (m.file_ops or m.paths):
        return False
    if m.file_ops and op not in m.file_ops:
        return False
    if m.paths:
        candidates = [p for p in (path, target_path) if p]
        return any(fnmatch.fnmatchcase(p, g) for p in candidates for g in m.paths)
    return True


def match_forward(m: GuardMatch, host: str, port: int) -> bool:
    if not m.forward_to:
        return False
    return any(fnmatch.fnmatchcase(f"{host}:{port}", pattern) for pattern in m.forward_to)
