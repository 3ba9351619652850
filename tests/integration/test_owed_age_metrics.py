"""The scheduled jobs report how long the oldest owed email and the oldest owed refund have
waited (OldestOwedEmailAgeSeconds, OldestOwedRefundAgeSeconds), which template.yaml alarms on
after 2 hours: a job that keeps failing quietly is seen."""
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


def test_the_age_of_the_oldest_owed_refund_is_reported(frozen_clock: Any, capsys: Any) -> None:
    from lutea.data.mongo import get_db

    scheduled = gateway.load_function_module(ROOT / "functions" / "scheduled")
    context = gateway.LambdaContext("CompleteCancellations")
    capsys.readouterr()
    scheduled.complete_cancellations({"source": "aws.events"}, context)
    assert _metric(capsys.readouterr().out, "OldestOwedRefundAgeSeconds") == [0]  # nothing owed

    from lutea.data.owed import owed_entry

    for hours in (3, 1):  # cancelled hours ago, Stripe never answered since
        entry = {**owed_entry("customer_cancellation_refund", {"pi": "pi_missing", "amount": 100}),
                 "createdAt": frozen_clock.current - timedelta(hours=hours)}
        get_db()["bookings"].insert_one({"_id": ObjectId(), "statut": "CANCELLED", "owed": {"refund_customer": entry}})
    from lutea.domain.cancellation import oldest_owed_refund_age_seconds

    assert oldest_owed_refund_age_seconds() == 3 * 3600


def test_the_age_of_the_oldest_owed_email_is_reported(frozen_clock: Any, capsys: Any) -> None:
    from lutea.email.failures import EmailFailureRepository
    from lutea.email.service import EmailMessage

    housekeeping = gateway.load_function_module(ROOT / "functions" / "housekeeping")
    context = gateway.LambdaContext("RetryFailedEmails")
    capsys.readouterr()
    housekeeping.retry_failed_emails({"source": "aws.events"}, context)
    assert _metric(capsys.readouterr().out, "OldestOwedEmailAgeSeconds") == [0]  # nothing owed

    EmailFailureRepository().record(EmailMessage(to=("a@example.test",), subject="s", html="h", text="t",
                                                 kind="admin_alert"), "ResendError")
    frozen_clock.advance(minutes=1)  # its first retry is not due yet: still owed
    housekeeping.retry_failed_emails({"source": "aws.events"}, context)
    assert _metric(capsys.readouterr().out, "OldestOwedEmailAgeSeconds") == [60]
