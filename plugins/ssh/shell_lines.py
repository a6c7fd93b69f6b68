"""Best-effort reconstruction of the command lines typed in an interactive shell.

Server-echo reconstruction (as Warpgate and JumpServer do it): the *output* is what the shell drew, so
a headless terminal (``pyte``) reads the command line off the screen when the shell
answers Enter with a newline; the input side only marks the start of a line, Enter and
Ctrl-C. The prompt is the text left of the cursor when typing starts and is cut off.

To keep the terminal emulator off the hot path, output is fed to it only while a line
is being typed; otherwise the detector just keeps the last unfinished output line (the
prompt). Full-screen programs (alternate screen) pause detection.

This is an audit aid, not a security boundary: aliases, ``$(printf …)``, scripts, here
documents, disabled echo and REPLs all evade it. Only exec commands are enforced.
Pure: no I/O.
"""

from __future__ import annotations

import pyte

ALT_ON = ("\x1b[?1049h", "\x1b[?1047h", "\x1b[?47h")
ALT_OFF = ("\x1b[?1049l", "\x1b[?1047l", "\x1b[?47l")
TAIL_LIMIT = 4096
"""Characters of the current output line kept while idle (a prompt is far shorter)."""
TYPING_LIMIT = 65536
"""Output fed while typing one line before the detector gives up on that line."""


class CommandDetector:
    def __init__(self, width: int = 80, height: int = 24) -> None:
        self.screen = pyte.Screen(max(2, width), max(2, height))
        self.stream = pyte.Stream(self.screen)
        self.tail = ""
        self.prompt = ""
        self.row = 0
        self.typing = False
        self.pending = False
        self.alt = False
        self._fed = 0
        self._carry = ""

    def resize(self, width: int, height: int) -> None:
        self.screen.resize(max(2, height), max(2, width))

    def input(self, text: str) -> None:
        """Keystrokes from the user (decoded)."""
        if self.alt or self.pending:
            return
        for ch in text:
            if ch in "\x03\x04":  # Ctrl-C / Ctrl-D abandon the line
                self.typing = False
            elif ch in "\r\n":
                if self.typing:
                    self.pending = True
                    return
            elif not self.typing:
                self._start_line()

    def output(self, text: str) -> list[str]:
        """Output from the shell (decoded); returns the command lines completed by it."""
        commands: list[str] = []
        if self.pending and not self.alt and "\n" in text:
            head, _, text = text.partition("\n")
            self.stream.feed(head)
            line = self._capture()
            if line:
                commands.append(line)
            self.typing = self.pending = False
            self.tail = ""
        self._track_alt(text)
        if self.alt:
            self.typing = self.pending = False
        elif not self.typing:
            self._remember(text)
        else:
            self.stream.feed(text)
            self._fed += len(text)
            if self._fed > TYPING_LIMIT:
                self.typing = self.pending = False
                self.tail = ""
        return commands

    def _remember(self, text: str) -> None:
        cut = text.rfind("\n")
        self.tail = text[cut + 1:] if cut >= 0 else (self.tail + text)[-TAIL_LIMIT:]

    def _track_alt(self, text: str) -> None:
        window = self._carry + text
        if "\x1b[?" in window:
            on = max((window.rfind(s) for s in ALT_ON), default=-1)
            off = max((window.rfind(s) for s in ALT_OFF), default=-1)
            if on != off:
                self.alt = on > off
        self._carry = window[-8:]

    def _start_line(self) -> None:
        self.screen.reset()
        self.stream.feed(self.tail)
        self._fed = 0
        self.row = self.screen.cursor.y
        self.prompt = self.screen.display[self.row][:self.screen.cursor.x]
        self.typing = True

    def _capture(self) -> str:
        display = self.screen.display
        last = max(self.row, min(self.screen.cursor.y, len(display) - 1))
        first = display[self.row]
        line = first[len(self.prompt):] if first.startswith(self.prompt) else first
        for y in range(self.row + 1, last + 1):
            line += display[y]  # wrapped continuation rows (rows are padded to the full width)
        return line.strip()
