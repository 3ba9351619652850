"""MongoDB indexes as a versioned migration run ahead of traffic (make migrate, the deploy-time
custom resource), that reports conflicts clearly and drops indexes nothing uses."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace

from lutea.data import indexes
from lutea.data.mongo import get_db

from infra import migrate
from infra.local import gateway
from tests.support.fake_http import LocalServer, QuietHandler


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


class _CloudFormation(LocalServer):
    """Stands for the presigned S3 URL a custom resource answers to."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[dict] = []

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_PUT(self) -> None:
                fake.answers.append(json.loads(self.read_body()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


def _custom_resource_event(url: str, request_type: str) -> dict:
    return {"RequestType": request_type, "ResponseURL": url, "StackId": "arn:stack", "RequestId": "r-1",
            "LogicalResourceId": "MongoIndexes", "ResourceType": "Custom::MongoIndexes",
            "ResourceProperties": {"Version": str(indexes.VERSION)}}


def _deploy_hook():
    return gateway.functions(gateway.load_template())["MigrateIndexesFunction"].entry_point()


def test_the_deploy_hook_applies_the_indexes_and_fails_the_deploy_on_a_conflict():
    handler = _deploy_hook()
    context = SimpleNamespace(log_stream_name="stream", function_name="migrate")
    with _CloudFormation() as cfn:
        assert handler(_custom_resource_event(cfn.url, "Update"), context) == {"status": "SUCCESS"}
        get_db().drop_collection("users")
        get_db()["users"].create_index("email")
        assert handler(_custom_resource_event(cfn.url, "Update"), context) == {"status": "FAILED"}
        assert handler(_custom_resource_event(cfn.url, "Delete"), context) == {"status": "SUCCESS"}
    ok, failed, deleted = cfn.answers
    assert ok["Status"] == "SUCCESS" and ok["Data"]["Version"] == str(indexes.VERSION)
    assert ok["RequestId"] == "r-1" and ok["LogicalResourceId"] == "MongoIndexes"
    assert failed["Status"] == "FAILED" and "users 'email'" in failed["Reason"]
    assert deleted["Status"] == "SUCCESS"


def test_the_template_runs_the_current_index_version_at_deploy():
    resource = gateway.load_template()["Resources"]["MongoIndexes"]
    assert resource["Type"] == "Custom::MongoIndexes"
    assert int(resource["Properties"]["Version"]) == indexes.VERSION
