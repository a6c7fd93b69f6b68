"""Shell command lines parsed, not pattern-matched (pure: no I/O).

``parse(line)`` yields every simple command a POSIX shell would run for ``line``:
through lists, pipelines, subshells, compound commands, functions and command
substitutions, and recursively through wrappers (``sh -c``, ``sudo``, ``env``, ``nice``,
``timeout``, ``xargs``, ``find -exec``…; see ``policies.shell.wrappers``). Program names
are basenames with quoting resolved (``/bin/rm``, ``\\rm``, ``r''m`` and ``$'\\x72m'``
are ``rm``). Interpreters given inline code are kind ``inline_code``; ``find -delete``
is kind ``delete`` (argv ``rm -r -f -- <start points>``).

Whatever cannot be resolved before the line runs makes it *unknown*: an expansion,
glob or brace in a program name, arithmetic or process substitution, ``eval``/``source``,
a shell or interpreter reading its commands from stdin, a syntax error. Rules that name
programs fail closed on unknown lines (policies/matching.py).
"""

from __future__ import annotations

from functools import lru_cache

from policies.shell.interpreters import inline_code, interpreter
from policies.shell.lexer import Unknown
from policies.shell.model import DELETE, EXEC, INLINE_CODE, ParsedLine, SimpleCommand, Word
from policies.shell.options import option_names
from policies.shell.parser import MAX_DEPTH, Grammar
from policies.shell.variables import command_of
from policies.shell.wrappers import Code, unwrap

__all__ = ["DELETE", "EXEC", "INLINE_CODE", "ParsedLine", "SimpleCommand", "Word", "option_names", "parse"]

MAX_LINE = 64 * 1024
_DECLARATIONS = frozenset({"export", "declare", "typeset", "local", "readonly"})


class _Analyzer:
    def __init__(self) -> None:
        self.commands: list[SimpleCommand] = []

    def script(self, text: str, via: tuple[str, ...], depth: int) -> None:
        if depth > MAX_DEPTH:
            raise Unknown("commands nested too deeply")
        Grammar(text, lambda words: self.command(words, via, depth, False),
                lambda body: self.script(body, via, depth + 1)).run()

    def command(self, argv: tuple[Word, ...], via: tuple[str, ...], depth: int, extra: bool) -> None:
        if depth > MAX_DEPTH:
            raise Unknown("commands nested too deeply")
        head = argv[0]
        if not head.static or not head.text:
            raise Unknown(f"program name not known before the line runs ({head.text!r})")
        cmd = SimpleCommand(argv, EXEC, via, extra)
        if cmd.program.startswith("=") or not cmd.program:
            raise Unknown(f"program name {head.text!r} is expanded by the shell")
        family = interpreter(cmd.program)
        if family is not None and inline_code(family, argv):
            cmd = SimpleCommand(argv, INLINE_CODE, via, extra)
        self.commands.append(cmd)
        if cmd.program in _DECLARATIONS:  # export PAGER='…'; man ls
            for word in argv[1:]:
                command = command_of(word)
                if command is not None:
                    self.script(command.text, (*via, cmd.program), depth + 1)
        started = unwrap(cmd.program, argv)
        for item in started or ():
            inner_via = (*via, cmd.program)
            if isinstance(item, Code):
                if not item.word.static:
                    raise Unknown(f"{cmd.program} runs a command string not known before the line runs")
                self.script(item.word.text, inner_via, depth + 1)
            elif item.argv:
                if item.kind == DELETE:
                    self.commands.append(SimpleCommand(item.argv, DELETE, inner_via, extra))
                    continue
                self.command(item.argv, inner_via, depth + 1, extra or item.extra_args)


@lru_cache(maxsize=2048)
def parse(line: str) -> ParsedLine:
    """Every simple command of ``line``, or the reason it cannot be judged statically."""
    analyzer = _Analyzer()
    try:
        if "\0" in line:
            raise Unknown("NUL byte in the command line")
        if len(line) > MAX_LINE:
            raise Unknown("command line too long to judge")
        analyzer.script(line, (), 0)
    except Unknown as exc:
        return ParsedLine(tuple(analyzer.commands), (str(exc),))
    except RecursionError:
        return ParsedLine(tuple(analyzer.commands), ("commands nested too deeply",))
    except (ValueError, IndexError, KeyError) as exc:  # a parser bug must deny, not crash the policy
        return ParsedLine(tuple(analyzer.commands), (f"parser error: {exc!r}",))
    return ParsedLine(tuple(analyzer.commands))
