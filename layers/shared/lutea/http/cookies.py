"""The auth cookies of API.md: httpOnly, Path=/, and SameSite/Secure as the configuration
makes them (``Settings.cookie_same_site``): Strict when the browser sees the API on the
frontend's own site (a custom domain such as api.lutea.fr, or localhost), None; Secure only when
a deployed API is on another site (``*.execute-api.amazonaws.com``). SECURITY.md says why."""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from lutea.config import get_settings

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"


def _cookie(name: str, value: str, max_age: int) -> Cookie:
    settings = get_settings()
    return Cookie(
        name=name,
        value=value,
        path="/",
        http_only=True,
        secure=settings.cookie_secure,
        max_age=max_age,
        same_site=SameSite.NONE_MODE if settings.cookie_same_site == "None" else SameSite.STRICT_MODE,
    )


def session_cookies(access_token: str, refresh_token: str, access_ttl: timedelta, refresh_ttl: timedelta) -> list[Cookie]:
    return [
        _cookie(ACCESS_COOKIE, access_token, int(access_ttl.total_seconds())),
        _cookie(REFRESH_COOKIE, refresh_token, int(refresh_ttl.total_seconds())),
    ]


def cleared_cookies() -> list[Cookie]:
    # Same attributes as when set, or browsers keep the cookie.
    return [_cookie(ACCESS_COOKIE, "", 0), _cookie(REFRESH_COOKIE, "", 0)]


def parse_cookie_header(header: str | None) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in cookies:
            cookies[name] = value.strip().strip('"')
    return cookies
