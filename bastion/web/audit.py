"""Audit dashboard (roles ``auditor`` and ``admin``): search, session timeline with the
replay of SSH shell recordings, live sessions, CSV/JSON export. Read-only: every view is a GET.

A blueprint over :class:`bastion.audit.search.AuditSearch`, registered by
:func:`bastion.web.create_app`. Every view is :func:`~bastion.web.auth.role_required`:
people not signed in go through SAML sign-in and come back, others get 403.
Recordings are served by channel number, looked up through the session's ``recording``
events (:mod:`bastion.web.recordings`).
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from flask import Blueprint, Response, abort, make_response, render_template, request, send_file, stream_with_context

from bastion.audit.query import Search
from bastion.audit.search import AuditSearch, iso
from bastion.web import actions, recordings
from bastion.web.auth import ctx, current, role_required

bp = Blueprint("audit", __name__, url_prefix="/audit")
ROLES = ("auditor", "admin")
FILTERS = ("user", "target", "protocol", "verdict", "rule", "type", "session")
PAGE_SIZE = 50


@bp.app_template_global("audit_time")
def audit_time(seconds: float) -> str:
    return iso(seconds).replace("T", " ")


def searcher() -> AuditSearch:
    """The process's AuditSearch (built on first use; 503 when ``audit.index.backend: none``)."""
    context = ctx()
    found: AuditSearch | None = context.audit_search
    if found is None:
        found = AuditSearch.from_config(context.settings.config.audit)
        if found is None:
            abort(503, description="No audit index is configured (audit.index.backend: none).")
        context.audit_search = found
    return found


def _when(value: str) -> float | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (UTC) -> epoch seconds."""
    value = value.strip()
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return float(calendar.timegm(time.strptime(value, fmt)))
        except ValueError:
            continue
    return None


def search_from_args(args: Any, size: int = PAGE_SIZE) -> Search:
    """A :class:`Search` from query-string arguments (``q``, filters, ``since``, ``until``, ``after``)."""
    values: dict[str, Any] = {f: tuple(v for v in args.getlist(f) if v) for f in FILTERS}
    values["order"] = "oldest" if args.get("order") == "oldest" else "newest"
    try:
        return Search(text=args.get("q", "")[:500], since=_when(args.get("since", "")),
                      until=_when(args.get("until", "")), size=size, after=args.get("after") or None, **values)
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.get("/")
@role_required(*ROLES)
def index() -> str:
    q = search_from_args(request.args)
    try:
        page = searcher().search(q)
    except ValueError as exc:  # a bad cursor
        abort(400, description=str(exc))
    return render_template("audit/search.html", page=page, q=q, args=request.args, filters=FILTERS)


@bp.get("/sessions/<session_id>")
@role_required(*ROLES)
def session_page(session_id: str) -> Response:
    timeline = searcher().session_timeline(session_id, include_output=request.args.get("output") == "1")
    if not timeline:
        abort(404, description="No events of this session are indexed (yet).")
    casts = recordings.from_hits(timeline)
    player = bool(casts) and recordings.player_installed()
    resp = make_response(render_template("audit/session.html", session_id=session_id, timeline=timeline,
                                         recordings=casts, player=player))
    if player:
        resp.headers["Content-Security-Policy"] = recordings.PLAYER_CSP
    return resp


@bp.get("/sessions/<session_id>/recordings/<int:channel>.cast")
@role_required(*ROLES)
def recording(session_id: str, channel: int) -> Response:
    """The asciicast v2 file of one shell channel, as stored."""
    path = recordings.find(searcher(), session_id, channel, ctx().settings.state_dir / "recordings")
    if path is None:
        abort(404, description="No such recording.")
    # watching a session is itself audited: who looked at what, and when
    actions.audit(ctx(), "audit.recording_viewed", current(), request.remote_addr, session=session_id,
                  channel=channel)
    return send_file(path, mimetype="application/x-asciicast", max_age=0, conditional=True,
                     download_name=f"{session_id}-{channel}.cast")


@bp.get("/live")
@role_required(*ROLES)
def live() -> str:
    return render_template("audit/live.html", sessions=searcher().live_sessions())


@bp.get("/export.<fmt>")
@role_required(*ROLES)
def export(fmt: str) -> Response:
    if fmt not in ("csv", "json"):
        abort(404)
    q = search_from_args(request.args, size=1000)
    actions.audit(ctx(), "audit.export", current(), request.remote_addr, format=fmt,
                  query={k: v for k, v in request.args.items() if k != "cursor"})
    gen = searcher().export_csv(q) if fmt == "csv" else searcher().export_json(q)
    mime = "text/csv" if fmt == "csv" else "application/x-ndjson"
    name = f"bastion-audit-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.{'csv' if fmt == 'csv' else 'jsonl'}"
    return Response(stream_with_context(gen), mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
