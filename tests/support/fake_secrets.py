"""Fakes of the two ways a function can fetch its Secrets Manager secret, on 127.0.0.1:

- ``FakeSecretsExtension``: the AWS Parameters and Secrets Lambda Extension's local HTTP API
  (``GET /secretsmanager/get?secretId=…`` with the ``X-Aws-Parameters-Secrets-Token`` header);
- ``FakeSecretsManager``: Secrets Manager's own JSON API (``POST /`` with
  ``X-Amz-Target: secretsmanager.GetSecretValue``), for boto3 pointed at it with
  ``AWS_ENDPOINT_URL_SECRETS_MANAGER``.

Both answer the same ``GetSecretValue`` document and record what they were asked; ``delay``
(seconds) holds each answer back, as Secrets Manager across the network would, and ``spans``
keeps when each request came and was answered (``time.monotonic``)."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.fake_http import LocalServer, QuietHandler, send_json


class _FakeSecrets(LocalServer):
    def __init__(self, secrets: dict[str, dict[str, Any]], token: str = "session-token", delay: float = 0.0) -> None:
        super().__init__()
        self.secrets = secrets
        self.token = token
        self.delay = delay
        self.spans: list[tuple[float, float]] = []
        self.requests: list[dict[str, Any]] = []

    def _answer(self, handler: BaseHTTPRequestHandler, secret_id: str | None) -> None:
        came = time.monotonic()
        if self.delay:
            time.sleep(self.delay)
        self.spans.append((came, time.monotonic()))
        if secret_id not in self.secrets:
            send_json(handler, 400, {"__type": "ResourceNotFoundException", "Message": "not found"})
            return
        send_json(
            handler,
            200,
            {
                "ARN": f"arn:aws:secretsmanager:eu-west-3:123456789012:secret:{secret_id}",
                "Name": secret_id,
                "VersionId": "v1",
                "VersionStages": ["AWSCURRENT"],
                "SecretString": json.dumps(self.secrets[secret_id]),
                "CreatedDate": 1.0,
            },
        )

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


class FakeSecretsExtension(_FakeSecrets):
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                split = urlsplit(self.path)
                secret_id = (parse_qs(split.query).get("secretId") or [None])[0]
                token = self.headers.get("X-Aws-Parameters-Secrets-Token")
                fake.requests.append({"path": split.path, "secretId": secret_id, "token": token})
                if token != fake.token:
                    send_json(self, 401, {"message": "missing or wrong session token"})
                elif split.path != "/secretsmanager/get":
                    send_json(self, 404, {"message": "unknown path"})
                else:
                    fake._answer(self, secret_id)

        return Handler


class FakeSecretsManager(_FakeSecrets):
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.read_body() or b"{}")
                target = self.headers.get("X-Amz-Target")
                fake.requests.append({"target": target, "secretId": body.get("SecretId")})
                if target != "secretsmanager.GetSecretValue":
                    send_json(self, 400, {"__type": "UnknownOperationException", "Message": str(target)})
                else:
                    fake._answer(self, body.get("SecretId"))

        return Handler
