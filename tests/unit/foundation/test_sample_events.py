"""The sample events of events/ still drive their functions (sam local invoke -e ...)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.local import gateway

EVENTS = Path(__file__).resolve().parents[3] / "events"


@pytest.mark.parametrize(
    ("name", "function", "status"),
    [
        ("retreats-public.json", "RetreatsFunction", 200),
        ("auth-profile-anonymous.json", "AuthFunction", 401),
        ("bookings-preflight.json", "BookingsFunction", 204),
    ],
)
def test_api_sample_events(name, function, status):
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    result = gateway.functions()[function].entry_point()(event, gateway.LambdaContext(function))
    assert result["statusCode"] == status
    if status == 204:
        assert result["headers"]["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_scheduled_sample_event_runs_every_job():
    event = json.loads((EVENTS / "scheduled-event.json").read_text(encoding="utf-8"))
    for logical_id in ("CleanupTemporaryUsersFunction", "ExpirePendingBookingsFunction", "RetryFailedEmailsFunction"):
        result = gateway.functions()[logical_id].entry_point()(event, gateway.LambdaContext(logical_id))
        assert isinstance(result, dict) and all(isinstance(v, int) for v in result.values()), (logical_id, result)
