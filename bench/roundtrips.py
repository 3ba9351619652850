"""Section 0, round trips: for the ten busiest routes, the MongoDB commands one warm request
sends (bench/dbcount.py) and its other network calls (Stripe, Resend), beside the minimum the
route's invariants need. Each route runs twice: as deployed in AWS (the WAF holds the global
per-IP limit, the app only the strict tiers) and as ``make dev`` (every limit in the app).

In-process, through the real handlers (tests/support/client.py), the real Stripe SDK talking to
the fake Stripe server of tests/support/fake_stripe.py; every email is one Resend call in AWS
(counted from the outbox here). Each request is measured after one warm-up of the same route,
so what a container does once (index builds, the catalogue cache) is not in the figures: the
cold side is in section 1."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import BOOKING_DATE, booking_body, print_table, real_mongo, use_bench_env, verdict
from bench.dbcount import CommandCounter


@dataclass(frozen=True)
class Minimum:
    mongo: int
    network: int
    why: str


# What each route's invariants need, in round trips. The rate-limit counter is one findAndModify
# on the strict-tier routes (it has to be shared by every container to mean anything).
MINIMUM: dict[str, Minimum] = {
    "catalogue": Minimum(
        1, 0, "one read of the public catalogue (here: its (id, updatedAt) key; the documents only when it changed)"
    ),
    "retreat by id": Minimum(1, 0, "one find of the retreat"),
    "availability": Minimum(
        3,
        0,
        "the retreat (its date block gives the counter's id); the date's seat "
        "counter (places - held); the seats of PENDING bookings whose payment "
        "window closed but that the 20-minute sweep has not expired yet "
        "(they count as free)",
    ),
    "login": Minimum(
        4,
        0,
        "strict-tier counter; the user found by email and its attempt reserved in one "
        "findAndModify (an unknown address costs the same command); lastLogin stamped and "
        "the failure count reset; the new session family (insert)",
    ),
    "refresh": Minimum(
        2,
        0,
        "the family rotated conditionally on its jti (reuse detection); the user (role/email may have changed since sign-in)",
    ),
    "profile": Minimum(2, 0, "the session family is still active (logout ends access tokens); the user"),
    "create booking": Minimum(
        6,
        0,
        "bookings-tier counter; session family active; the retreat (price, "
        "date, active); the client's unpaid holds (a cap per IP and email); "
        "seats taken by one conditional update; the booking inserted",
    ),
    "create PaymentIntent": Minimum(
        3,
        1,
        "session family active (a signed-in owner); the booking (status, "
        "amount, owner or guest token: checked on the booking itself); "
        "Stripe's PaymentIntent; its id stored on the booking (conditional "
        "on PENDING)",
    ),
    "webhook succeeded": Minimum(
        3,
        3,
        "the event claimed once (unique id); the booking confirmed "
        "conditionally (PENDING -> CONFIRMED); the claim marked done; Stripe's "
        "current PaymentIntent (the amount kept, refunds included: the event's "
        "copy has the charge as a bare id); the confirmation and the admin's "
        "copy (Resend)",
    ),
    "my bookings": Minimum(2, 0, "session family active; the user's bookings (one find)"),
}


@dataclass
class Outcome:
    status: int
    commands: str
    mongo: int
    create_indexes: int
    network: int
    network_detail: str


class Scenario:
    """The data and the signed-in client the ten routes need, made once."""

    def __init__(self, tmp: Path) -> None:
        from lutea.auth.passwords import hash_password

        from bench import fixtures
        from tests.support.accounts import make_user, sign_in
        from tests.support.client import ApiClient
        from tests.support.fake_stripe import FakeStripe

        self.tmp = tmp
        self.stripe = FakeStripe().start()
        os.environ.update(
            {
                "STRIPE_API_BASE": self.stripe.url,
                "STRIPE_SECRET_KEY": self.stripe.api_key,
                "STRIPE_WEBHOOK_SECRET": self.stripe.webhook_secret,
            }
        )
        self._reload()
        fixtures.seed_retreats(19)
        self.retreat_id = fixtures.booking_retreat(places=10000)
        self.password = "Motdepasse-bench-1"
        self.login_user = make_user("client", password=hash_password(self.password))
        self.user = make_user("client")
        self.client = sign_in(ApiClient(), self.user)
        self.anonymous = ApiClient()

    @staticmethod
    def _reload() -> None:
        from lutea.config import reset_settings
        from lutea.payments import gateway

        reset_settings()
        gateway.reset_gateway()

    def set_mode(self, edge: bool) -> None:
        os.environ["RATE_LIMIT_GLOBAL_AT_EDGE"] = "1" if edge else "0"
        self._reload()

    def outbox_count(self) -> int:
        outbox = Path(os.environ["EMAIL_OUTBOX_DIR"])
        return len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0

    def book(self) -> str:
        response = self.client.post("/bookings", json=booking_body(self.retreat_id))
        assert response.status == 201, response.body
        return str(response.json()["_id"])

    def intent(self, booking_id: str) -> str:
        response = self.client.post("/stripe/create-payment-intent", json={"metadata": {"bookingId": booking_id}})
        assert response.status == 200, response.body
        return str(response.json()["id"])

    # --- each route: a setup (outside the counted window) returning the request to count ----
    def routes(self) -> dict[str, Callable[[], Callable[[], Any]]]:
        from tests.support.accounts import sign_in
        from tests.support.client import ApiClient

        def ready(request: Callable[[], Any]) -> Callable[[], Callable[[], Any]]:
            return lambda: request

        def refresh() -> Callable[[], Any]:
            fresh = sign_in(ApiClient(), self.user)  # a refresh token of its own each time
            return lambda: fresh.post("/auth/refresh")

        def intent() -> Callable[[], Any]:
            booking_id = self.book()
            return lambda: self.client.post("/stripe/create-payment-intent", json={"metadata": {"bookingId": booking_id}})

        def webhook() -> Callable[[], Any]:
            obj = self.stripe.succeed(self.intent(self.book()))
            body, signature = self.stripe.webhook("payment_intent.succeeded", obj)
            headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
            return lambda: ApiClient(origin=None).post("/stripe/webhook", body=body, headers=headers)

        login_body = {"email": self.login_user["email"], "password": self.password}
        return {
            "catalogue": ready(lambda: self.anonymous.get("/retreats/public")),
            "retreat by id": ready(lambda: self.anonymous.get(f"/retreats/public/{self.retreat_id}")),
            "availability": ready(
                lambda: self.anonymous.get(f"/bookings/availability/{self.retreat_id}", query={"date": BOOKING_DATE})
            ),
            "login": ready(lambda: ApiClient().post("/auth/login", json=login_body)),
            "refresh": refresh,
            "profile": ready(lambda: self.client.get("/auth/profile")),
            "create booking": ready(lambda: self.client.post("/bookings", json=booking_body(self.retreat_id))),
            "create PaymentIntent": intent,
            "webhook succeeded": webhook,
            "my bookings": ready(lambda: self.client.get("/bookings/my-bookings")),
        }

    def measure(self, counter: CommandCounter, setup: Callable[[], Callable[[], Any]]) -> Outcome:
        with contextlib.redirect_stdout(open(os.devnull, "w")):  # EMF metric lines
            request = setup()
            counter.reset()
            stripe_before = len(self.stripe.requests)
            mails_before = self.outbox_count()
            response = request()
        stripe_calls = [f"{r.method} {r.path}" for r in self.stripe.requests[stripe_before:]]
        mails = self.outbox_count() - mails_before
        detail = [*(f"Stripe {c}" for c in stripe_calls), *(["Resend email"] * mails)]
        return Outcome(
            response.status,
            counter.summary(),
            counter.total,
            counter.count("createIndexes"),
            len(detail),
            ", ".join(detail) or "none",
        )


def run() -> bool:
    tmp = Path(tempfile.mkdtemp(prefix="lutea-bench-rt-"))
    use_bench_env(tmp, "bench-roundtrips")
    counter = CommandCounter().install()
    scenario = Scenario(tmp)
    rows: list[list[Any]] = []
    ok = True
    try:
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            for setup in scenario.routes().values():  # warm-up: per-container first-time work
                setup()()
        results: dict[str, dict[bool, Outcome]] = {}
        for edge in (True, False):
            scenario.set_mode(edge)
            for name, setup in scenario.routes().items():
                results.setdefault(name, {})[edge] = scenario.measure(counter, setup)
        for name, by_mode in results.items():
            aws, dev = by_mode[True], by_mode[False]
            minimum = MINIMUM[name]
            passed = aws.mongo <= minimum.mongo and aws.network <= minimum.network and aws.create_indexes == 0
            ok &= passed
            rows.append(
                [
                    name,
                    aws.status,
                    aws.mongo,
                    dev.mongo,
                    aws.create_indexes,
                    minimum.mongo,
                    aws.network,
                    minimum.network,
                    verdict(passed),
                    aws.commands,
                    aws.network_detail,
                ]
            )
    finally:
        scenario.stripe.stop()
    print_table(
        "0. Round trips per warm request (AWS: global per-IP limit at the WAF; dev: every limit in the app)",
        [
            "route",
            "status",
            "mongo AWS",
            "mongo dev",
            "createIndexes",
            "min mongo",
            "other net",
            "min net",
            "result",
            "MongoDB commands (AWS)",
            "other network calls (AWS)",
        ],
        rows,
        [
            "counted by "
            + (
                "a pymongo command listener (MONGODB_URI, a real server)"
                if real_mongo()
                else "wrapping the stand-in's Collection methods, one command per pymongo call "
                "(bench/dbcount.py; a real server adds getMore past 101 documents, none here)"
            )
            + "; PASS = AWS count ≤ minimum and no createIndexes on the request path.",
            *(f"min {name}: {m.mongo} + {m.network} -- {m.why}" for name, m in MINIMUM.items()),
        ],
    )
    return ok
