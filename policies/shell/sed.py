"""Does a sed script run commands? GNU sed's ``e`` command and the ``e`` flag of ``s``
execute their text as a shell command (``sed -n '1e rm -rf D' f``, ``s/.*/rm -rf D/e``).

A small scanner of sed's grammar (addresses, ``!``, blocks, each command's argument
syntax) finds them; a script it cannot follow counts as running commands (fail closed).
"""

from __future__ import annotations

_SIMPLE = set("=dDgGhHnNpPxzF{}")
_TO_EOL = set("aicrRwW#:")  # text, file name, comment or label to the end of the line
_LABEL = set("btTv")  # label or version: to ';' or the end of the line
_NUMBER = set("qQlL")  # an optional number


class _Unreadable(Exception):
    pass


def sed_runs_commands(script: str) -> bool:
    """True when ``script`` has an ``e`` command or an ``s///e``, or cannot be read."""
    try:
        return _Scanner(script).run()
    except (_Unreadable, IndexError):
        return True


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text, self.i = text, 0

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def skip_blanks(self, also: str = "") -> None:
        while self.peek() and (self.peek() in " \t" or self.peek() in also):
            self.i += 1

    def run(self) -> bool:
        while True:
            self.skip_blanks(";\n")
            if not self.peek():
                return False
            self.address()
            self.skip_blanks()
            if self.peek() == "!":
                self.i += 1
                self.skip_blanks("!")
            if self.command():
                return True

    def address(self) -> None:
        for part in range(2):
            c = self.peek()
            if c.isdigit() or c in "$+~":
                while self.peek() and (self.peek().isdigit() or self.peek() in "$+~"):
                    self.i += 1
            elif c in ("/", "\\"):
                if c == "\\":
                    self.i += 1
                self.delimited(self.peek())
                while self.peek() in ("I", "M"):
                    self.i += 1
            elif part:
                raise _Unreadable("address expected after ','")
            self.skip_blanks()
            if part or self.peek() != ",":
                return
            self.i += 1
            self.skip_blanks()

    def delimited(self, delim: str) -> None:
        """Skip ``<delim>…<delim>`` (backslash escapes) starting at the opening delimiter."""
        if not delim or delim in "\n\\":
            raise _Unreadable("bad delimiter")
        self.i += 1
        while True:
            c = self.peek()
            if not c:
                raise _Unreadable("unterminated")
            self.i += 2 if c == "\\" else 1
            if c == delim:
                return

    def to_eol(self) -> None:
        while self.peek() and self.peek() != "\n":
            self.i += 2 if self.peek() == "\\" else 1

    def command(self) -> bool:
        c = self.peek()
        self.i += 1
        if c == "e":
            return True
        if c in ("s", "y"):
            delim = self.peek()
            self.delimited(delim)
            self.i -= 1  # the closing delimiter of the first part opens the second
            self.delimited(delim)
            return c == "s" and self.s_flags()
        if c in _TO_EOL:
            self.to_eol()
        elif c in _LABEL:
            while self.peek() and self.peek() not in ";\n":
                self.i += 1
        elif c in _NUMBER:
            self.skip_blanks()
            while self.peek().isdigit():
                self.i += 1
        elif c not in _SIMPLE:
            raise _Unreadable(f"unknown command {c!r}")
        return False

    def s_flags(self) -> bool:
        while True:
            c = self.peek()
            if c == "e":
                return True
            if c in ("w", "W"):
                self.to_eol()
                return False
            if not c or c in ";\n} \t#":
                return False
            if not (c.isdigit() or c in "gpiImM"):
                raise _Unreadable(f"unknown s flag {c!r}")
            self.i += 1
