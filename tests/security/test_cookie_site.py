"""The session cookies' SameSite and Secure follow from where the API is served: on the
frontend's own site (a custom domain such as api.lutea.example for https://lutea.example) they
are first-party, Strict and Secure; on *.execute-api.amazonaws.com they would be third-party,
None and Secure, which Safari and Firefox block (hence the custom domain required in prod)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

# Deployed stages refuse the public development secrets.
REAL_SECRETS = {"JWT_ACCESS_SECRET": "p" * 40, "JWT_REFRESH_SECRET": "q" * 40, "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32}


def _stage(monkeypatch: pytest.MonkeyPatch, stage: str, **extra: str) -> None:
    from lutea import config

    for name, value in {"STAGE": stage, **REAL_SECRETS, **extra}.items():
        monkeypatch.setenv(name, value)
    config.reset_settings()


def _attributes(raw: str) -> set[str]:
    return {a.strip().lower() for a in raw.split(";")[1:]}


def _cookies() -> list[str]:
    from lutea.http.cookies import cleared_cookies, session_cookies

    return [str(c) for c in (*session_cookies("a", "r", timedelta(minutes=15), timedelta(days=7)), *cleared_cookies())]


def test_a_custom_domain_on_the_frontend_site_makes_first_party_strict_cookies(
    monkeypatch: pytest.MonkeyPatch, make_client: Any
) -> None:
    from lutea import config

    from tests.security.support import PASSWORD, user_with_password

    _stage(monkeypatch, "dev", API_DOMAIN="api.lutea.example", FRONTEND_URL="https://lutea.example,https://www.lutea.example")
    try:
        user = user_with_password()
        login = make_client().post(
            "/auth/login", json={"email": user["email"], "password": PASSWORD}, headers={"Origin": "https://lutea.example"}
        )
        assert login.status == 200
        assert len(login.set_cookies) == 2
        for raw in [*login.set_cookies, *_cookies()]:
            attributes = _attributes(raw)
            assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes, raw
    finally:
        config.reset_settings()


def test_a_deployed_api_on_another_site_gets_none_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea import config

    _stage(monkeypatch, "dev", FRONTEND_URL="https://lutea.example")
    try:
        assert config.get_settings().cookie_same_site == "None"
        for raw in _cookies():
            assert {"secure", "samesite=none"} <= _attributes(raw), raw
    finally:
        config.reset_settings()


def test_local_runs_keep_strict_cookies_without_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea import config

    _stage(monkeypatch, "local")
    try:
        for raw in _cookies():
            attributes = _attributes(raw)
            assert "samesite=strict" in attributes and "secure" not in attributes, raw
    finally:
        config.reset_settings()


@pytest.mark.parametrize(
    ("api_domain", "frontend", "same_site"),
    [
        ("api.lutea.example", "https://lutea.example", True),
        ("api.lutea.example", "https://www.lutea.example", True),
        ("lutea.example", "https://app.lutea.example", True),
        ("api.lutea.example", "https://lutea.example.evil.example", False),
        ("api.lutea.example", "https://other.example", False),
        ("api.example", "https://other.example", False),  # "example" alone is no site
        ("abc123.execute-api.eu-west-3.amazonaws.com", "https://lutea.example", False),
    ],
)
def test_same_site_is_decided_conservatively(api_domain: str, frontend: str, same_site: bool) -> None:
    from lutea.config import load_settings

    settings = load_settings({"STAGE": "dev", "API_DOMAIN": api_domain, "FRONTEND_URL": frontend, **REAL_SECRETS})
    assert settings.api_same_site_as_frontend is same_site
    assert settings.cookie_same_site == ("Strict" if same_site else "None")


def test_production_refuses_a_custom_domain_on_another_site() -> None:
    from lutea.config import load_settings

    with pytest.raises(RuntimeError, match="same site"):
        load_settings(
            {
                "STAGE": "prod",
                **REAL_SECRETS,
                "MONGODB_URI": "mongodb://db.invalid:27017",
                "API_DOMAIN": "api.other.example",
                "FRONTEND_URL": "https://lutea.example",
            }
        )
