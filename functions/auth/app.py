"""The /auth routes: registration, email validation, sign-in (with the admin's emailed code),
refresh, sign-out, password reset, and who-am-I probes."""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from lutea.auth.tokens import ACCESS_TTL, REFRESH_TTL
from lutea.domain import accounts, sessions
from lutea.errors import InvalidInput
from lutea.http import CREATED, admin_required, create_app, json_body, jwt_required, make_handler, require_principal
from lutea.http.cookies import REFRESH_COOKIE, cleared_cookies, parse_cookie_header, session_cookies
from lutea.http.guards import check_csrf, lowercase_headers
from lutea.observability import metrics
from lutea.schemas.auth import (
    FinalizeLoginIn,
    ForgotPasswordIn,
    LoginIn,
    RefreshIn,
    RegisterIn,
    ResetPasswordIn,
    ValidateEmailIn,
    VerifyCodeIn,
)
from lutea.validation import parse

app = create_app()


def _signed_in(session: sessions.Session) -> Response:
    return json_body(200, session.body,
                     cookies=session_cookies(session.access_token, session.refresh_token, ACCESS_TTL, REFRESH_TTL))


@app.post("/auth/register", responses=CREATED)
def register(body: RegisterIn):
    answer = accounts.register(accounts.Registration(**body.model_dump()))
    metrics.add_metric(name="RegistrationsRequested", unit=MetricUnit.Count, value=1)
    return json_body(201, answer)


@app.post("/auth/validate-email")
def validate_email(body: ValidateEmailIn):
    session = sessions.validate_email(body.token)
    metrics.add_metric(name="AccountsCreated", unit=MetricUnit.Count, value=1)
    return _signed_in(session)


@app.post("/auth/login")
def login(body: LoginIn):
    outcome = sessions.sign_in(body.email, body.password)
    if isinstance(outcome, sessions.CodeRequired):
        return json_body(200, outcome.body)  # no cookies before the code
    return _signed_in(outcome)


@app.post("/auth/2fa/finalize")
def finalize_two_factor(body: FinalizeLoginIn):
    return _signed_in(sessions.finalize_two_factor(body.email, body.code))


@app.post("/auth/2fa/verify")
@jwt_required
def verify_two_factor(body: VerifyCodeIn):
    return json_body(200, sessions.verify_two_factor(require_principal().user_id, body.code))


@app.post("/auth/refresh")
def refresh():
    # API clients send the token in the body; browsers send the cookie, which travels with
    # cross-site requests too, hence the origin check for it.
    token = parse(RefreshIn, _json_body_or_empty()).refresh_token
    if not token:
        headers = lowercase_headers(app.current_event.headers)
        token = parse_cookie_header(headers.get("cookie")).get(REFRESH_COOKIE) or None
        if token:
            check_csrf(app.current_event.http_method, headers)
    return _signed_in(sessions.refresh(token))


def _json_body_or_empty() -> Any:
    raw = app.current_event.body
    if not raw or not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(["Le corps de la requête n'est pas un JSON valide"],
                           fields=[{"field": "body", "rule": "json_invalid"}]) from exc


@app.post("/auth/logout")
@jwt_required
def logout():
    return json_body(200, sessions.sign_out(require_principal().family_id), cookies=cleared_cookies())


@app.post("/auth/forgot-password")
def forgot_password(body: ForgotPasswordIn):
    return json_body(200, accounts.request_password_reset(body.email))


@app.post("/auth/reset-password")
def reset_password(body: ResetPasswordIn):
    return json_body(200, accounts.reset_password(body.token, body.newPassword))


@app.get("/auth/admin/check")
@admin_required
def admin_check() -> dict:
    return {"message": "Accès administrateur autorisé", "role": "admin"}


@app.get("/auth/profile")
@jwt_required
def profile() -> dict:
    return sessions.profile_claims(require_principal().user_id)


@app.get("/auth/user-info")
@jwt_required
def user_info() -> dict:
    return accounts.get_profile(require_principal().user_id)


lambda_handler = make_handler(app)
