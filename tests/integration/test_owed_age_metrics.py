"""The scheduled jobs report how long the oldest owed email, refund and side effect have waited
(OldestOwedEmailAgeSeconds, OldestOwedRefundAgeSeconds, OldestOwedEffectAgeSeconds), which
template.yaml alarms on after 2 hours: a job that keeps failing quietly is seen."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId

from infra.local import gateway

ROOT = Path(__file__).resolve().parents[2]


def _metric(output: str, name: str) -> list[float]:
    values: list[float] = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line and name in line:
            value = json.loads(line)[name]
            values += value if isinstance(value, list) else [value]
    return values


def test_the_ages_of_the_oldest_owed_refund_and_effect_are_reported(frozen_clock: Any, capsys: Any) -> None:
    from lutea.data.mongo import get_db
    from lutea.data.owed import owed_entry

    scheduled = gateway.load_function_module(ROOT / "functions" / "scheduled")
    context = gateway.LambdaContext("RetryOwedEffects")
    capsys.readouterr()
    scheduled.retry_owed_effects({"source": "aws.events"}, context)
    out = capsys.readouterr().out
    assert _metric(out, "OldestOwedRefundAgeSeconds") == [0] and _metric(out, "OldestOwedEffectAgeSeconds") == [0]

    # Owed hours ago, every attempt since refused: an admin cancel's refund (3 h), a customer
    # cancellation's refund (1 h), a confirmation email (5 h). Their next attempts are not due.
    later = frozen_clock.current + timedelta(hours=1)
    owed = [
        ("refund_pi_a", "booking_refund", 3),
        ("refund_customer", "customer_cancellation_refund", 1),
        ("email_confirmation", "booking_email", 5),
    ]
    for key, kind, hours in owed:
        entry = {
            **owed_entry(kind, {"pi": "pi_missing"}),
            "createdAt": frozen_clock.current - timedelta(hours=hours),
            "nextAttemptAt": later,
            "attempts": 3,
        }
        get_db()["bookings"].insert_one({"_id": ObjectId(), "statut": "CANCELLED", "owed": {key: entry}})
    scheduled.retry_owed_effects({"source": "aws.events"}, context)
    out = capsys.readouterr().out
    assert _metric(out, "OldestOwedRefundAgeSeconds") == [3 * 3600]  # refunds of every kind, not emails
    assert _metric(out, "OldestOwedEffectAgeSeconds") == [5 * 3600]


def test_the_age_of_the_oldest_owed_email_is_reported(frozen_clock: Any, capsys: Any) -> None:
    from lutea.email.failures import record_failure
    from lutea.email.service import EmailMessage

    housekeeping = gateway.load_function_module(ROOT / "functions" / "housekeeping")
    context = gateway.LambdaContext("RetryFailedEmails")
    capsys.readouterr()
    housekeeping.retry_failed_emails({"source": "aws.events"}, context)
    assert _metric(capsys.readouterr().out, "OldestOwedEmailAgeSeconds") == [0]  # nothing owed

    record_failure(EmailMessage(to=("a@example.test",), subject="s", html="h", text="t", kind="admin_alert"), "ResendError")
    frozen_clock.advance(minutes=1)  # its first retry is not due yet: still owed
    housekeeping.retry_failed_emails({"source": "aws.events"}, context)
    assert _metric(capsys.readouterr().out, "OldestOwedEmailAgeSeconds") == [60]
