"""/analytics routes: sessions and events from the frontend (public), statistics (admin)."""
from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from lutea.domain import analytics
from lutea.http import CREATED, admin_required, create_app, json_body, make_handler
from lutea.schemas.analytics import CreateEventIn, CreateSessionIn, UpdateSessionIn
from lutea.wire import to_wire

app = create_app()


@app.post("/analytics/session", responses=CREATED)
def create_session(body: CreateSessionIn):
    session = analytics.create_session(analytics.NewSession(
        session_id=body.session_id, started_at=body.started_at, browser=body.browser,  # type: ignore[arg-type]
        device_type=body.device_type, is_login=bool(body.is_login)))
    return json_body(201, to_wire(session))


@app.patch("/analytics/session/<sessionId>")
def update_session(sessionId: str, body: UpdateSessionIn):  # the template's path parameter
    session = analytics.update_session(sessionId, ended_at=body.ended_at, is_login=body.is_login)  # type: ignore[arg-type]
    return to_wire(session)


@app.delete("/analytics/session/<sessionId>")
def delete_session(sessionId: str):
    analytics.delete_session(sessionId)
    return Response(status_code=200, body="")  # the original returned nothing


@app.post("/analytics/event", responses=CREATED)
def create_event(body: CreateEventIn):
    event = analytics.create_event(analytics.NewEvent(
        session_id=body.session_id, event_type_code=body.event_type_code, event_ts=body.event_ts,  # type: ignore[arg-type]
        page_path=body.page_path, event_data=body.event_data))
    return json_body(201, to_wire(event))


@app.get("/analytics/stats")
@admin_required
def get_stats():
    return analytics.get_stats()


@app.get("/analytics/event-types")
@admin_required
def list_event_types():
    return analytics.list_event_types()


@app.delete("/analytics/clear-all")
@admin_required
def clear_all():
    return analytics.clear_all()


lambda_handler = make_handler(app)
