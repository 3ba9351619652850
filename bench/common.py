"""What every section shares: paths, the isolated environment, the probes of each function,
percentiles and plain-text tables. Standard library only: the cold-start child imports it."""

from __future__ import annotations

import glob
import math
import os
import platform
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "shared"
ORIGIN = "http://localhost:3000"
# Variables that would make a function reach something outside this machine.
EXTERNAL_VARS = (
    "LUTEA_SECRET_JWT",
    "LUTEA_SECRET_MONGODB",
    "LUTEA_SECRET_MYSQL",
    "LUTEA_SECRET_STRIPE",
    "LUTEA_SECRET_RESEND",
    "LUTEA_SECRET_RECAPTCHA",
    "MYSQL_HOST",
    "RESEND_API_KEY",
    "RESEND_API_BASE",
    "STRIPE_API_BASE",
    "RECAPTCHA_SECRET_KEY",
    "AWS_PROFILE",
)


def bench_env(tmp: Path, service: str = "bench", base: dict[str, str] | None = None) -> dict[str, str]:
    """The functions' environment for a bench: nothing external, state under ``tmp``, no limit
    that a bench would hit. ``MONGODB_URI`` is kept when the caller set it (a real server)."""
    env = dict(os.environ if base is None else base)
    for name in EXTERNAL_VARS:
        env.pop(name, None)
    env.update(
        {
            "STAGE": "local",
            "FRONTEND_URL": ORIGIN,
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "LuteaBench",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "EMAIL_OUTBOX_DIR": str(tmp / "outbox"),
            "ANALYTICS_SQLITE_PATH": str(tmp / "analytics.sqlite3"),
            "MONGODB_DB": f"lutea_bench_{os.getpid()}",
            "RATE_LIMIT_PER_MINUTE": "10000000",
            "RATE_LIMIT_STRICT_PER_MINUTE": "10000000",
            "RATE_LIMIT_CONTACT_PER_MINUTE": "10000000",
            "RATE_LIMIT_BOOKING_PER_MINUTE": "10000000",
            "PENDING_BOOKINGS_PER_CLIENT": "10000000",
            "PENDING_SEATS_PER_CLIENT": "10000000",
            "SEED_DEMO_DATA": "0",
            # As template.yaml's Globals, and on the floor's side too: a setting, not our code.
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "eu-west-3"),
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode, as a deployed function has it
    env["PYTHONPATH"] = os.pathsep.join([str(LAYER), str(ROOT)])
    return env


def use_bench_env(tmp: Path, service: str = "bench") -> None:
    """Apply :func:`bench_env` to this process (sections that run the handlers in-process)."""
    env = bench_env(tmp, service)
    for name in EXTERNAL_VARS:
        os.environ.pop(name, None)
    os.environ.update(env)
    for path in (str(ROOT), str(LAYER)):
        if path not in sys.path:
            sys.path.insert(0, path)


def real_mongo() -> bool:
    return bool(os.environ.get("MONGODB_URI", "").strip())


def drop_bench_db() -> None:
    """On a real server, drop the database this bench process (and its children) wrote."""
    if not real_mongo():
        return
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(os.environ["MONGODB_URI"], serverSelectionTimeoutMS=3000)
    with client:
        client.drop_database(f"lutea_bench_{os.getpid()}")


# --- the functions and the request each section sends them -------------------------------------


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    body: Any = None
    signed_in: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    setup: str = ""  # data the probe needs: "retreats", "booking_retreat"
    note: str = ""


@dataclass(frozen=True)
class Spec:
    group: str
    logical_id: str
    cold: Probe | None  # None: import only (scheduled)
    memory: Probe | None
    needs_heavy: bool = False  # stripe or fpdf2 in functions/<group>/requirements.txt

    @property
    def app_file(self) -> Path:
        return ROOT / "functions" / self.group / "app.py"

    @property
    def present(self) -> bool:
        return self.app_file.is_file()


BOOKING_DATE = "2030-06-01T14:00:00.000Z"
BOOKING_END = "2030-06-03T14:00:00.000Z"


def booking_body(retreat_id: str, nb_places: int = 1) -> dict[str, Any]:
    return {
        "retreatId": retreat_id,
        "dateStart": BOOKING_DATE,
        "dateEnd": BOOKING_END,
        "nbPlaces": nb_places,
        "participants": [{"prenom": f"Prénom{i}", "nom": f"Nom{i}", "email": f"p{i}@example.test"} for i in range(nb_places)],
        "billingAddress": {
            "address": "1 rue de la Paix",
            "city": "Montpellier",
            "postalCode": "34000",
            "country": "France",
            "phone": "0600000000",
        },
    }


CONTACT_BODY = {
    "nom": "Durand",
    "prenom": "Alice",
    "email": "alice@example.test",
    "telephone": "0600000000",
    "message": "Bonjour, une question sur la retraite de juin.",
    "rgpd": True,
}

SPECS: dict[str, Spec] = {
    s.group: s
    for s in (
        Spec(
            "auth",
            "AuthFunction",
            cold=Probe("GET", "/auth/profile", note="401, no session"),
            memory=Probe("GET", "/auth/profile", signed_in=True, note="200, signed in"),
        ),
        Spec(
            "users",
            "UsersFunction",
            cold=Probe("GET", "/users/profile", note="401, no session"),
            memory=Probe("GET", "/users/profile", signed_in=True, note="200, signed in"),
        ),
        Spec(
            "retreats",
            "RetreatsFunction",
            cold=Probe("GET", "/retreats/public", note="200, empty catalogue"),
            memory=Probe("GET", "/retreats/public", setup="retreats", note="200, 20 retreats"),
        ),
        Spec(
            "bookings",
            "BookingsFunction",
            needs_heavy=True,
            cold=Probe("GET", "/bookings/my-bookings", note="401, no session"),
            memory=Probe("POST", "/bookings", setup="booking_retreat", note="201, guest booking"),
        ),
        Spec(
            "payments",
            "PaymentsFunction",
            needs_heavy=True,
            cold=Probe("POST", "/stripe/cancel-payment-intent", body={"paymentIntentId": "pi_bench"}, note="401, no session"),
            memory=Probe(
                "POST",
                "/stripe/webhook",
                body={"id": "evt_bench", "type": "x"},
                headers={"Stripe-Signature": "t=1,v1=00"},
                note="400, bad signature (stripe)",
            ),
        ),
        Spec(
            "email",
            "EmailFunction",
            cold=Probe("POST", "/email/contact", body={}, note="400, empty form"),
            memory=Probe("POST", "/email/contact", body=CONTACT_BODY, note="201, to the outbox"),
        ),
        Spec(
            "analytics",
            "AnalyticsFunction",
            cold=Probe("GET", "/analytics/stats", note="401, no session"),
            memory=Probe(
                "POST",
                "/analytics/session",
                body={"session_id": "bench-session-0001", "started_at": "2030-01-01T00:00:00.000Z", "device_type": "desktop"},
                note="201/200, same session",
            ),
        ),
        # Import only when cold; in memory, its EventBridge handler run on a scheduled event.
        Spec(
            "scheduled",
            "ExpirePendingBookingsFunction",
            cold=None,
            needs_heavy=True,
            memory=Probe("EVENT", "expire_pending_bookings", note="nothing overdue"),
        ),
    )
}


def available_specs() -> list[Spec]:
    return list(SPECS.values())


def missing_reason(spec: Spec) -> str:
    return f"skipped: {spec.app_file.relative_to(ROOT)} not present yet"


# --- numbers and tables --------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: list[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def print_table(title: str, headers: list[str], rows: list[list[Any]], notes: list[str] | None = None) -> None:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) if i < len(r) else 0 for r in cells) for i in range(len(headers))]
    numeric = [all(_numeric(r[i]) for r in cells[1:] if i < len(r)) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        out = []
        for i, width in enumerate(widths):
            text = row[i] if i < len(row) else ""
            out.append(text.rjust(width) if numeric[i] and i else text.ljust(width))
        return "  ".join(out).rstrip()

    print()
    print(title)
    print("=" * len(title))
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
    for note in notes or []:
        print(f"  * {note}")
    sys.stdout.flush()


def _numeric(text: str) -> bool:
    t = text.rstrip("x%").replace(".", "", 1).replace("-", "", 1).replace(",", "")
    return t.isdigit() or text == "-"


def machine_line() -> str:
    return (
        f"Machine: {platform.platform()} | {platform.machine()} | cpus={os.cpu_count()} | "
        f"Python {platform.python_version()} ({sys.executable})"
    )


def python312() -> str | None:
    """A real python3.12 (not the pyenv shim), as the Makefile finds it: sam build needs one."""
    found = shutil.which("python3.12")
    if found and "shims" not in found:
        return found
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv"), "/root/.pyenv"]
    for root in roots:
        if root:
            candidates = sorted(glob.glob(f"{root}/versions/3.12*/bin/python3.12"))
            if candidates:
                return candidates[-1]
    return None
