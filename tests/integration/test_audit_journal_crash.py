"""kill -9 of a process in the middle of group commits: after the journal reopens, every
record whose append returned is there, the chain verifies (a torn last record is counted,
not an error), and appends continue the chain."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from bastion.audit import segments
from bastion.audit.journal import Journal, verify

WRITER = textwrap.dedent("""
    import sys, threading
    from bastion.audit.journal import Journal

    journal = Journal(sys.argv[1], fsync=True, rotate_bytes=int(sys.argv[2]))
    lock = threading.Lock()

    def writer(k):
        i = 0
        while True:
            i += 1
            seq = journal.append({"type": "t", "at": 1.0, "data": {"k": k, "i": i, "pad": "x" * (i % 300)}},
                                 sync=i % 3 != 0)
            if i % 3 != 0:  # returned durable: it must survive
                with lock:
                    sys.stdout.write(f"{seq}\\n")
                    sys.stdout.flush()

    for k in range(6):
        threading.Thread(target=writer, args=(k,), daemon=True).start()
    threading.Event().wait()
""")


def run_and_kill(directory: Path, rotate_bytes: int, after: int) -> int:
    """Start a writer, SIGKILL it once ``after`` appends returned; the highest returned seq."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(directory), str(rotate_bytes)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    returned = []
    for line in proc.stdout:
        returned.append(int(line))
        if len(returned) >= after:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert returned, "the writer returned nothing"
    return max(returned)


def test_returned_records_survive_kill_9_and_the_chain_continues(tmp_path):
    directory = tmp_path / "audit"
    for round_, (rotate, after) in enumerate([(0, 200), (0, 37), (20_000, 300), (20_000, 11), (0, 150)]):
        highest = run_and_kill(directory, rotate, after)
        journal = Journal(directory, fsync=True, rotate_bytes=rotate)
        assert journal.seq >= highest, f"round {round_}: record {highest} returned but is gone"
        records = list(segments.iter_all(directory))
        assert [r["seq"] for r in records] == list(range(1, journal.seq + 1))
        assert journal.append({"type": "after-crash", "data": {"round": round_}}) == journal.seq
        journal.close()
        result = verify(directory)
        assert result.ok, result.problem
        assert result.records == journal.seq
