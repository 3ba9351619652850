"""MongoDB indexes as a versioned migration run ahead of traffic (make migrate, before each
deploy), that reports conflicts clearly and drops indexes nothing uses."""

from __future__ import annotations

from lutea.data import indexes
from lutea.data.mongo import get_db

from infra import migrate


def test_the_migration_creates_what_the_queries_need_and_records_its_version():
    info = get_db()["bookings"].index_information()  # migrated by the test rig, as at deploy time
    assert info["createdAt_-1__id_-1"]["key"] == [("createdAt", -1), ("_id", -1)]  # the admin list's sort
    assert info["dateId_1_createdAt_1"]["key"] == [("dateId", 1), ("createdAt", 1)]
    unique = info["stripePaymentIntentId_unique"]
    assert unique["unique"] is True
    assert unique["partialFilterExpression"] == {"stripePaymentIntentId": {"$type": "string"}}
    assert indexes.applied_version(get_db()) == indexes.VERSION


def test_unused_indexes_are_dropped_and_a_second_run_changes_nothing():
    db = get_db()
    db["bookings"].drop_index("stripePaymentIntentId_unique")
    db["bookings"].create_index("stripePaymentIntentId", sparse=True)
    db["bookings"].create_index([("createdAt", -1)])
    report = indexes.migrate_indexes(db)
    assert sorted(report.dropped) == ["bookings.createdAt_-1", "bookings.stripePaymentIntentId_1"]
    assert "createdAt_-1" not in db["bookings"].index_information()
    again = indexes.migrate_indexes(db)
    assert again.ok and again.dropped == []


def test_a_conflict_is_reported_clearly_and_the_version_is_not_recorded(capsys):
    db = get_db()
    db.drop_collection("users")
    db.drop_collection("migrations")
    db["users"].create_index("email")  # an older, non-unique index under the name the unique one needs
    report = indexes.migrate_indexes(db)
    assert not report.ok
    [conflict] = report.conflicts
    assert conflict.startswith("users 'email'") and "already exists with different options" in conflict
    assert "role_1" in db["users"].index_information()  # the others are still created
    assert indexes.applied_version(db) is None
    assert migrate.migrate_mongo(False, db) == 1
    err = capsys.readouterr().err
    assert "index conflict: users 'email'" in err and "not recorded" in err


def test_the_template_documents_the_migration_before_a_deploy():
    from infra.local import gateway

    text = gateway.TEMPLATE.read_text(encoding="utf-8")
    assert "make migrate" in text and "lutea.data.indexes" in text


def test_make_deploy_migrates_the_stages_indexes_before_it_deploys():
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        ["make", "-n", "deploy", "ENV=prod"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    [migrate] = [i for i, line in enumerate(out) if "infra.migrate --only mongo" in line]
    [deploy] = [i for i, line in enumerate(out) if "sam deploy --config-env prod" in line]
    assert migrate < deploy
    assert "STAGE=prod LUTEA_SECRET_MONGODB=lutea/prod/mongodb" in out[migrate]


def test_make_migrate_alone_declares_every_repositorys_indexes():
    # make migrate runs in a process of its own: the indexes it creates are those its imports
    # register, not those a test session happened to import first.
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    data = root / "layers" / "shared" / "lutea" / "data"
    declared = {f"lutea.data.{p.stem}" for p in data.glob("*.py") if "@register_indexes" in p.read_text(encoding="utf-8")}
    code = "from lutea.data.indexes import _all_builders; print(sorted({b.__module__ for b in _all_builders()}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={"PYTHONPATH": str(root / "layers" / "shared")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == str(sorted(declared))
