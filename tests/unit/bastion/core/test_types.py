"""Event identifiers: unique, and never repeated by a forked worker."""

from __future__ import annotations

import os

from bastion.core.types import _event_id


def test_event_ids_are_unique_and_never_shared_with_a_forked_child() -> None:
    ids = {_event_id() for _ in range(20_000)}
    assert len(ids) == 20_000 and all(len(i) == 16 for i in ids)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child's next ids come from fresh bytes, not the parent's buffer
        os.write(w, "".join(_event_id() for _ in range(4)).encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    child = os.read(r, 64).decode()
    os.close(r)
    parent = "".join(_event_id() for _ in range(4))
    assert len(child) == 64 and child != parent
