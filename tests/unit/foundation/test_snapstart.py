"""SnapStart hooks (lutea/snapstart.py): a snapshot then a restore, simulated in-process, reuse
no connection, no secret and no random state from before the snapshot."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId
from lutea import snapstart
from lutea.config import get_settings, reset_settings
from lutea.data import mongo
from pymongo.errors import InvalidOperation

from tests.support.fake_secrets import FakeSecretsExtension

SECRET_ID = "lutea/snapstart"
# Nothing listens on port 1: the client is created (it connects in the background) and never used.
UNREACHABLE = "mongodb://127.0.0.1:1/?directConnection=true"


def _secret(version: str) -> dict[str, dict[str, str]]:
    """One secret per need (lutea.config.SECRET_SOURCES)."""
    return {
        f"{SECRET_ID}/jwt": {
            "JWT_ACCESS_SECRET": f"access-{version}-" + "a" * 40,
            "JWT_REFRESH_SECRET": f"refresh-{version}-" + "b" * 40,
        },
        f"{SECRET_ID}/stripe": {"STRIPE_SECRET_KEY": f"sk_test_{version}"},
        f"{SECRET_ID}/mongodb": {"MONGODB_URI": UNREACHABLE},
    }


@pytest.fixture
def aws_like(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSecretsExtension]:
    """Settings from a secret served by the extension, and a real pymongo client."""
    with FakeSecretsExtension(_secret("v1")) as fake:
        for name, value in {
            "LUTEA_SECRET_JWT": f"{SECRET_ID}/jwt",
            "LUTEA_SECRET_STRIPE": f"{SECRET_ID}/stripe",
            "LUTEA_SECRET_MONGODB": f"{SECRET_ID}/mongodb",
            "LUTEA_SECRETS_VIA": "extension",
            "AWS_SESSION_TOKEN": fake.token,
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(fake.port),
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(mongo, "_index_builders", [])  # built at deploy time, not by a client's first use
        reset_settings()
        mongo.reset_db()
        try:
            yield fake
        finally:
            mongo.close_db()
            monkeypatch.undo()
            reset_settings()


def test_snapshot_then_restore_reuses_no_connection_secret_or_random_state(aws_like: FakeSecretsExtension) -> None:
    # Init, as Lambda runs it before taking the snapshot.
    settings_before = get_settings()
    client_before = mongo.get_db().client
    assert settings_before.jwt_access_secret.startswith("access-v1-")

    snapstart.before_snapshot()
    with pytest.raises(InvalidOperation):  # closed: no socket or monitor survives into the snapshot
        client_before["lutea"]["x"].find_one()
    # What the snapshot holds, restored identically in every new execution environment.
    random_state = random.getstate()
    inc = ObjectId._inc
    process_bytes = ObjectId._random()
    aws_like.secrets.update(_secret("v2"))  # rotated while the snapshot waited

    restored: list[dict[str, Any]] = []
    for n in range(2):  # two environments restored from the same snapshot
        if n:  # back to the snapshot's memory: no client, no settings (the first copy lives elsewhere)
            mongo.close_db()
            reset_settings()
        random.setstate(random_state)
        ObjectId._inc = inc
        snapstart.after_restore()
        restored.append(
            {"random": random.random(), "oid": ObjectId(), "settings": get_settings(), "client": mongo.get_db().client}
        )

    replay = random.Random()
    replay.setstate(random_state)
    from_snapshot = replay.random()
    for copy in restored:
        assert copy["random"] != from_snapshot
        assert copy["oid"].binary[4:9] != process_bytes
        assert copy["settings"] is not settings_before
        assert copy["settings"].jwt_access_secret.startswith("access-v2-")
        assert copy["settings"].stripe_secret_key == "sk_test_v2"
        assert copy["client"] is not client_before
    assert restored[0]["random"] != restored[1]["random"]
    assert restored[0]["oid"].binary[4:] != restored[1]["oid"].binary[4:]
    assert restored[0]["client"] is not restored[1]["client"]
    assert len(aws_like.requests) == 3 * len(_secret("v1"))  # each secret: at init, then once per restore


def test_hooks_are_registered_once_where_the_runtime_offers_them(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Any]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_before_snapshot = lambda hook: calls.append(("before", hook))  # type: ignore[attr-defined]
    runtime.register_after_restore = lambda hook: calls.append(("after", hook))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    monkeypatch.setattr(snapstart, "_registered", False)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    from lutea.observability import instrumented

    instrumented(lambda event, context: None)
    instrumented(lambda event, context: None)
    assert calls == [("before", snapstart.before_snapshot), ("after", snapstart.after_restore)]


def test_without_snapstart_or_its_library_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapstart, "_registered", False)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    assert snapstart.register_hooks() is False  # not even an import attempt
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # the import fails
    assert snapstart.register_hooks() is False
