"""Attempt limits hold under parallel guesses (issue 12, defect 5): 39 wrong passwords and the
right one sent at once must not sign in (the 4th failure locks), nor 29 wrong 2FA codes and the
right one (5 attempts per code). Each request runs in its own copy of the auth function, as
concurrent Lambda invocations do; they share the database.

To make the race deterministic, the wrong guesses are held inside the slow step (the password
hash, or the code's HMAC) until the right guess has been answered: a limit checked on a stale
read lets the right guess through, one reserved before the check does not."""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lutea.auth import codes, passwords
from lutea.data.mongo import get_db

from infra.local import gateway
from tests.integration.auth.flows import PASSWORD, user_with_password
from tests.support.concurrency import crashes, run_together

ROOT = Path(__file__).resolve().parents[2]
WRONG = "Mauvais1!x"
CODE = "24681357"


def _containers(n: int) -> list[Callable[[dict[str, Any]], dict[str, Any]]]:
    handlers = []
    for i in range(n):
        spec = importlib.util.spec_from_file_location(f"lutea_function_auth_race_{i}", ROOT / "functions/auth/app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handlers.append(lambda event, h=module.lambda_handler: h(event, gateway.LambdaContext("AuthFunction")))
    return handlers


def _post(path: str, body: dict[str, Any], ip: str) -> dict[str, Any]:
    return gateway.build_event(
        "POST", path, resource=path, source_ip=ip, body=json.dumps(body), headers={"Content-Type": "application/json"}
    )


@pytest.fixture
def serialised_metrics(monkeypatch):
    """Powertools' metrics buffer is per container; here the containers share one process."""
    from lutea import observability

    lock = threading.RLock()
    provider = observability.metrics.provider
    for name in ("add_metric", "flush_metrics"):
        original = getattr(provider, name)

        def locked(*args, _f=original, **kwargs):
            with lock:
                return _f(*args, **kwargs)

        monkeypatch.setattr(provider, name, locked)


class HeldWrongGuesses:
    """Wrong guesses wait inside ``slow_step`` until released; ``enough`` is set once ``n`` of
    them are inside it."""

    def __init__(self, n: int) -> None:
        self.n, self.inside, self.lock = n, 0, threading.Lock()
        self.enough, self.release = threading.Event(), threading.Event()

    def wrap(self, slow_step: Callable[..., Any], is_right: Callable[..., bool]) -> Callable[..., Any]:
        def held(*args: Any) -> Any:
            if not is_right(*args):
                with self.lock:
                    self.inside += 1
                    if self.inside >= self.n:
                        self.enough.set()
                self.release.wait(20)
            return slow_step(*args)

        return held

    def right_guess(self, send: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        def go() -> dict[str, Any]:
            try:
                self.enough.wait(20)
                return send()
            finally:
                self.release.set()

        return go


@pytest.mark.usefixtures("tiny_switch_interval", "serialised_metrics")
def test_39_wrong_passwords_and_the_right_one_in_parallel_do_not_sign_in(monkeypatch):
    user = user_with_password(email="cible@example.test")
    held = HeldWrongGuesses(4)  # the 4th consecutive failure locks
    monkeypatch.setattr(
        passwords, "verify_password", held.wrap(passwords.verify_password, lambda stored, password: password == PASSWORD)
    )
    handlers = _containers(40)
    tasks = [
        lambda h=h, i=i: h(_post("/auth/login", {"email": user["email"], "password": WRONG}, f"203.0.113.{i}"))
        for i, h in enumerate(handlers[:39])
    ]
    tasks.append(
        held.right_guess(
            lambda: handlers[39](_post("/auth/login", {"email": user["email"], "password": PASSWORD}, "203.0.113.99"))
        )
    )

    results = run_together(tasks)

    assert not crashes(results), crashes(results)[:3]
    assert {r["statusCode"] for r in results} == {401}
    assert not any("Set-Cookie" in (r.get("multiValueHeaders") or {}) for r in results)
    stored = get_db()["users"].find_one({"_id": user["_id"]})
    assert stored.get("lockUntil") is not None  # and the account is locked


@pytest.mark.usefixtures("tiny_switch_interval", "serialised_metrics")
def test_29_wrong_codes_and_the_right_one_in_parallel_do_not_sign_in(monkeypatch, frozen_clock):
    from datetime import timedelta

    admin = user_with_password("admin", email="admin-cible@example.test")
    get_db()["users"].update_one(
        {"_id": admin["_id"]},
        {
            "$set": {
                "verificationCode": codes.hash_two_factor_code(CODE),
                "verificationCodeAttempts": 0,
                "verificationCodeExpires": frozen_clock.current + timedelta(minutes=10),
            }
        },
    )
    held = HeldWrongGuesses(5)  # 5 attempts per code
    monkeypatch.setattr(codes, "hash_two_factor_code", held.wrap(codes.hash_two_factor_code, lambda code: code == CODE))
    handlers = _containers(30)
    tasks = [
        lambda h=h, i=i: h(_post("/auth/2fa/finalize", {"email": admin["email"], "code": f"{i:08d}"}, f"203.0.113.{i}"))
        for i, h in enumerate(handlers[:29])
    ]
    tasks.append(
        held.right_guess(
            lambda: handlers[29](_post("/auth/2fa/finalize", {"email": admin["email"], "code": CODE}, "203.0.113.99"))
        )
    )

    results = run_together(tasks)

    assert not crashes(results), crashes(results)[:3]
    assert {r["statusCode"] for r in results} == {401}
    stored = get_db()["users"].find_one({"_id": admin["_id"]})
    assert stored.get("verificationCode") is None  # the code is void
