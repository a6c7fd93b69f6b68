"""Pure matchers for rule scopes and guardrail criteria (shared by guardrails and masking)."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from functools import lru_cache

from bastion.core.types import Session
from policies.files import GuardMatch, Scope
from policies.shell import INLINE_CODE, SimpleCommand, option_names
from policies.shell import parse as parse_shell
from policies.shell.paths import fileop_paths
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


def _listed(program: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(program, posixpath.basename(p) or p) for p in patterns)


def _command_matches(m: GuardMatch, cmd: SimpleCommand) -> bool:
    if m.programs and cmd.kind == INLINE_CODE:
        return True  # inline code is opaque: it may do what any listed program does
    if m.programs and not _listed(cmd.program, m.programs):
        return False
    if m.options:
        names, uncertain = option_names(cmd)
        if not uncertain and not names & set(m.options):
            return False
    if m.args_regex:
        pattern = _regex(m.args_regex)
        if not (cmd.extra_args or any(w.dynamic or pattern.search(w.text) for w in cmd.argv[1:])):
            return False
    return True


def match_command(m: GuardMatch, line: str) -> bool:
    """Does the exec/shell line ``line`` meet every command criterion of ``m``?

    The line is parsed (policies.shell): ``programs``/``options``/``args_regex`` hold for
    one simple command (wrapped ones included); ``programs_only`` is violated by any
    command outside the list. A line the parser cannot resolve statically matches every
    rule with such criteria (fail closed). ``command_regex`` is searched in the raw line.
    """
    judged = bool(m.programs or m.programs_only or m.options or m.args_regex)
    if not (judged or m.command_regex):
        return False
    if m.command_regex and not _regex(m.command_regex).search(line):
        return False
    if not judged:
        return True
    parsed = parse_shell(line)
    if parsed.is_unknown:
        return True
    if m.programs_only and all(_listed(c.program, m.programs_only) for c in parsed.commands):
        return False
    if m.programs or m.options or m.args_regex:
        return any(_command_matches(m, c) for c in parsed.commands)
    return True


def match_fileop(m: GuardMatch, op: str, path: str, target_path: str = "", home: str = "/") -> bool:
    """Does a file operation meet ``m``? Paths are normalised against ``home`` (the
    session's home from the target's REALPATH) before ``paths`` globs match; symlink
    targets resolve against the link's directory. A path that cannot be judged (NUL,
    non-UTF-8) matches every rule with ``paths`` (fail closed)."""
    if not (m.file_ops or m.paths):
        return False
    if m.file_ops and op not in m.file_ops:
        return False
    if m.paths:
        try:
            candidates = fileop_paths(op, path, target_path, home)
        except ValueError:
            return True
        return any(fnmatch.fnmatchcase(p, g) for p in candidates for g in m.paths)
    return True


def match_forward(m: GuardMatch, host: str, port: int) -> bool:
    if not m.forward_to:
        return False
    return any(fnmatch.fnmatchcase(f"{host}:{port}", pattern) for pattern in m.forward_to)
