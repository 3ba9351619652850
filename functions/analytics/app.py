"""/analytics routes: sessions and events from the frontend (public), statistics (admin)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from lutea.domain import analytics
from lutea.http import admin_required, create_app, current_principal, json_body, make_handler, optional_auth
from lutea.http.docs import ok
from lutea.schemas.analytics import CreateEventIn, CreateSessionIn, UpdateSessionIn
from lutea.wire import to_wire

app = create_app()


def _signed_in_user() -> str | None:
    """A signed-in visitor's sessions are linked to her account (exported and erased with it:
    docs/rgpd.md); anonymous visits stay anonymous."""
    principal = current_principal()
    return principal.user_id if principal is not None else None


@app.post("/analytics/session", responses=ok("AnalyticsSession", 201))
@optional_auth
def create_session(body: CreateSessionIn):
    """Start, or find, a visit's session.

    An existing `session_id` returns the existing session."""
    session = analytics.create_session(
        analytics.NewSession(
            session_id=body.session_id,
            started_at=body.started_at,
            browser=body.browser,
            device_type=body.device_type,
            is_login=bool(body.is_login),
        ),
        user_id=_signed_in_user(),
    )
    return json_body(201, to_wire(session))


@app.patch("/analytics/session/<sessionId>", responses=ok("AnalyticsSession", errors=(404,)))
@optional_auth
def update_session(sessionId: str, body: UpdateSessionIn):  # the template's path parameter
    """End a session or mark it signed in.

    `is_login` only moves from false to true; unknown session: 404."""
    session = analytics.update_session(
        sessionId,
        ended_at=body.ended_at,
        is_login=body.is_login,
        user_id=_signed_in_user(),
    )
    return to_wire(session)


@app.delete("/analytics/session/<sessionId>", responses=ok(None))
def delete_session(sessionId: str):
    """Delete a session and its events.

    200 with an empty body."""
    analytics.delete_session(sessionId)
    return Response(status_code=200, body="")  # the original returned nothing


@app.post("/analytics/event", responses=ok("AnalyticsEvent", 201))
def create_event(body: CreateEventIn):
    """Record an event of a visit.

    An unknown session is created on the fly; an unknown or disabled `event_type_code`: 400."""
    event = analytics.create_event(
        analytics.NewEvent(
            session_id=body.session_id,
            event_type_code=body.event_type_code,
            event_ts=body.event_ts,
            page_path=body.page_path,
            event_data=body.event_data,
        )
    )
    return json_body(201, to_wire(event))


@app.get("/analytics/stats", responses=ok("AnalyticsStats"))
@admin_required
def get_stats():
    """Site statistics (admin).

    Sessions, events, the booking funnel, devices, browsers, pages and payments: the original's
    getStats() result."""
    return analytics.get_stats()


@app.get("/analytics/event-types", responses=ok(["EventType"]))
@admin_required
def list_event_types():
    """The enabled event types (admin).

    Ordered by category, then label."""
    return analytics.list_event_types()


@app.delete("/analytics/clear-all", responses=ok("AnalyticsCleared"))
@admin_required
def clear_all():
    """Delete every session and event (admin).

    The event types are kept."""
    return analytics.clear_all()


lambda_handler = make_handler(app)
