"""What operators see: one JSON log line per event with the request's correlation id and no
personal data; EMF metrics for the business events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from lutea.data.mongo import get_db
from lutea.data.seats import SeatRepository
from lutea.observability import logger

from infra.local import gateway
from tests.support.client import route_table

PERSONAL = ("zoé.lefèvre@example.test", "Zoé", "Lefèvre", "0611223344", "3 rue des Lilas")


@pytest.fixture
def info_logs():
    """The Powertools logger's own output, at INFO (its handler keeps the stream it was given)."""
    import io

    handler = logger.registered_handler
    buffer = io.StringIO()
    previous_level, previous_stream = logger.log_level, handler.setStream(buffer)
    logger.setLevel("INFO")
    yield buffer
    logger.setLevel(previous_level)
    handler.setStream(previous_stream)


def _retreat() -> dict:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=40)
    block = {
        "_id": ObjectId(),
        "start": start,
        "end": start + timedelta(days=2),
        "prixCents": 15000,
        "places": 10,
        "adresseRdv": "Domaine des Oliviers",
        "heureArrivee": "10h",
        "heureDepart": "17h",
    }
    retreat = {
        "_id": ObjectId(),
        "titreCard": "Retraite Observée",
        "imageCard": "/i.jpg",
        "altImageCard": "i",
        "imageModal": ["/i.jpg"],
        "altImageModal": ["i"],
        "texteModal": "t",
        "dates": [block],
        "aVenir": False,
        "isActive": True,
        "createdAt": start,
        "updatedAt": start,
    }
    get_db()["retreats"].insert_one(retreat)
    SeatRepository().ensure(retreat_id=retreat["_id"], date_id=block["_id"], places=10)
    return retreat


def _post_booking(retreat: dict) -> tuple[dict, dict]:
    block = retreat["dates"][0]
    body = {
        "retreatId": str(retreat["_id"]),
        "dateStart": block["start"].isoformat(),
        "dateEnd": block["end"].isoformat(),
        "nbPlaces": 1,
        "participants": [{"prenom": "Zoé", "nom": "Lefèvre", "email": "zoé.lefèvre@example.test"}],
        "billingAddress": {
            "address": "3 rue des Lilas",
            "city": "Sète",
            "postalCode": "34200",
            "country": "France",
            "phone": "0611223344",
        },
    }
    route, params, _ = gateway.match(route_table(), "POST", "/bookings")
    event = gateway.build_event(
        "POST",
        "/bookings",
        resource=route.path,
        path_parameters=params,
        headers={"Content-Type": "application/json", "Origin": "http://localhost:3000"},
        body=json.dumps(body, ensure_ascii=False),
    )
    return event, gateway.invoke(route, event)


def test_a_booking_request_logs_json_lines_with_the_correlation_id_and_no_personal_data(info_logs):
    retreat = _retreat()
    event, result = _post_booking(retreat)
    assert result["statusCode"] == 201
    lines = [line for line in info_logs.getvalue().splitlines() if line.strip()]
    logs = [json.loads(line) for line in lines]  # one JSON document per line, nothing free-form
    assert logs, "the request logged nothing"
    for entry in logs:
        assert entry["correlation_id"] == event["requestContext"]["requestId"]
        assert entry["function_name"] == "BookingsFunction"
        text = json.dumps(entry, ensure_ascii=False)
        for value in PERSONAL:
            assert value not in text


def test_a_booking_emits_the_bookings_created_metric(capfd):
    retreat = _retreat()
    _, result = _post_booking(retreat)
    assert result["statusCode"] == 201
    emf = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for blob in emf for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert "BookingsCreated" in names
    assert all(blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] for blob in emf)


def test_failed_logins_are_counted(api, capfd):
    res = api.post("/auth/login", json={"email": "nobody@example.test", "password": "Wrong!Passw0rd"})
    assert res.status == 401
    emf = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(blob.get("LoginsFailed") == [1.0] or blob.get("LoginsFailed") == 1.0 for blob in emf)
