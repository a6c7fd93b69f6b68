"""Slack-compatible webhook notifications for approval requests (never blocks the caller)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import gevent
import requests

if TYPE_CHECKING:
    from bastion.approvals import Approval

log = logging.getLogger("bastion.webhook")

VERBS = {"new": "needs approval", "approved": "was approved", "denied": "was denied", "expired": "expired"}


def message(kind: str, approval: Approval, base_url: str) -> dict[str, Any]:
    link = f"{base_url.rstrip('/')}/approvals/{approval.id}" if base_url else approval.id
    statement = approval.statement if len(approval.statement) <= 500 else approval.statement[:500] + "…"
    text = (f"[bastion] {approval.id} {VERBS.get(kind, kind)}: {approval.requester} on {approval.target} — "
            f"`{statement}` (rule {approval.rule}) {link}")
    return {"text": text, "bastion": {"event": kind, "id": approval.id, "requester": approval.requester,
                                      "target": approval.target, "kind": approval.kind, "rule": approval.rule,
                                      "status": approval.status, "decisions": approval.decisions, "url": link}}


class Webhook:
    def __init__(self, url: str, base_url: str = "", timeout: float = 5.0) -> None:
        self.url, self.base_url, self.timeout = url, base_url, timeout

    def __call__(self, kind: str, approval: Approval) -> None:
        gevent.spawn(self._post, message(kind, approval, self.base_url))

    def _post(self, body: dict[str, Any]) -> None:
        for attempt in range(3):
            try:
                resp = requests.post(self.url, json=body, timeout=self.timeout)
                if resp.status_code < 500:
                    if resp.status_code >= 400:
                        log.warning("webhook refused: HTTP %s", resp.status_code)
                    return
            except requests.RequestException as exc:
                log.warning("webhook failed (attempt %d): %s", attempt + 1, type(exc).__name__)
            gevent.sleep(0.5 * 2 ** attempt)
