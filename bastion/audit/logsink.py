"""An audit sink that writes each event to the structured log (for log shippers)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bastion.core.contracts import AuditEvent

if TYPE_CHECKING:
    from bastion.context import PluginContext

log = logging.getLogger("bastion.audit.events")


class LogSink:
    name = "log"
    required = False
    """A copy for log shippers; the journal is the source of truth."""

    def __init__(self, ctx: PluginContext) -> None:
        del ctx

    def emit(self, event: AuditEvent) -> None:
        log.info("%s", event.type, extra={"audit": {"type": event.type, "session_id": event.session_id,
                                                     "at": event.at, "data": dict(event.data)}})

    def close_orphans(self) -> None:
        return None

    def close(self) -> None:
        return None
