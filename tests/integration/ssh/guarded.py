"""A bastion process whose pipeline adds a small deny stage (run as a script, not by pytest).

The guardrail rule engine is built separately; until it lands, this stands in for it so
the SSH plugin's deny and review paths are tested end to end against the real sshd:
``python -m tests.integration.ssh.guarded CONFIG`` prints the same ready line as
``bastion serve`` and stops on SIGTERM.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # as bastion.cli does: before paramiko or anything using threads

import json  # noqa: E402
import sys  # noqa: E402

from bastion.core.pipeline import Pipeline  # noqa: E402
from bastion.core.types import Command, Decision, Event, FileOp, Forward  # noqa: E402
from bastion.runtime import logs  # noqa: E402
from bastion.runtime.bootstrap import build_context, load_checked  # noqa: E402
from bastion.runtime.server import Bastion  # noqa: E402
from policies.access import AccessPolicy  # noqa: E402


class MarkerGuard:
    """Denies commands containing ``forbidden``, files whose path contains ``denied``;
    asks for review (4 s hold) on ``needs-review``; explicitly allows forwards to port ``allow_port``."""

    name = "test-guard"

    def __init__(self, allow_port: int) -> None:
        self.allow_port = allow_port

    def decide(self, event: Event) -> Decision | None:
        if isinstance(event, Command) and "forbidden" in event.line:
            return Decision.deny(rule="test:no-forbidden", message="forbidden commands are blocked")
        if isinstance(event, Command) and "needs-review" in event.line:
            return Decision.review(rule="test:review", reason="needs a second pair of eyes",
                                   approvers=frozenset({"approvers"}), hold_seconds=4.0)
        if isinstance(event, FileOp) and "denied" in event.path + event.target_path:
            return Decision.deny(rule="test:no-denied-files", message="files named 'denied' are off limits")
        if isinstance(event, Forward) and event.port == self.allow_port:
            return Decision.allow(rule="test:forward-ok")
        return None


def main(config: str, allow_port: str) -> int:
    settings, protocols = load_checked(config)
    logs.setup(settings.config.log_level)
    ctx = build_context(settings)
    ctx.pipeline = Pipeline([AccessPolicy(ctx), MarkerGuard(int(allow_port))])
    bastion = Bastion(ctx, protocols)
    print(json.dumps({"event": "ready", "ports": bastion.start()}), flush=True)
    bastion.serve_forever(grace=3)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
