"""The housekeeping function's email retry, in a fresh interpreter as Lambda runs it.

A failed validation or reset email is stored without its link; its retry asks the module that
issues links for a fresh one (lutea.email.fresh_secrets). That module, lutea.domain.accounts,
registers when it is imported, and nothing at the housekeeping function's init imports it: the
job imports it itself. Without that import the retry finds no provider and drops the email as
obsolete (marked sent, nothing sent). In the test process the module is always already imported
by other tests, so only a fresh interpreter shows it."""

from __future__ import annotations

import json
import subprocess
import sys
from email import message_from_bytes
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_JOB = """
import json, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from infra.local import gateway

housekeeping = gateway.load_function_module(Path.cwd() / "functions" / "housekeeping")

from lutea import clock
from lutea.auth import codes
from lutea.data.users import TemporaryUserRepository
from lutea.email.failures import record_failure
from lutea.email.service import EmailMessage

start = datetime.now(UTC)
clock.set_clock(lambda: start)
TemporaryUserRepository().register(
    "anne@example.test",
    {"verificationToken": codes.hash_link_token("lost"), "expiresAt": start + timedelta(hours=24), "registeredAt": start},
    window=timedelta(hours=1),
    limit=3,
)
link = "http://localhost:3000/validate-email?token=lost"
record_failure(
    EmailMessage(
        to=("anne@example.test",), subject="Validez", html=f"<a href='{link}'>ici</a>", text=f"Validez : {link}",
        kind="validation_link", secret=link,
    ),
    "ResendError",
)
clock.set_clock(lambda: start + timedelta(minutes=6))  # its first retry is due
loaded = "lutea.domain.accounts" in sys.modules
counts = housekeeping.retry_failed_emails({"source": "aws.events"}, gateway.LambdaContext("RetryFailedEmails"))
print(json.dumps({"accounts_loaded_before_the_job": loaded, "counts": counts}))
"""


def test_the_retry_job_gives_a_failed_link_email_a_fresh_link_in_a_fresh_interpreter(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    env = {
        "STAGE": "test",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}:{ROOT}",
        "EMAIL_OUTBOX_DIR": str(outbox),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "LuteaTest",
    }
    out = subprocess.run([sys.executable, "-c", _JOB], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["accounts_loaded_before_the_job"] is False  # else this test would prove nothing
    assert found["counts"] == {"sent": 1, "failed": 0, "abandoned": 0}
    [sent] = [message_from_bytes(p.read_bytes(), policy=default) for p in outbox.glob("*.eml")]
    text = sent.get_body(("plain",)).get_content()
    assert "Validez : http://localhost:3000/validate-email?token=" in text
    assert "token=lost" not in text  # a fresh link, not the one that was never delivered
