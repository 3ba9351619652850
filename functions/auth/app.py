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
from lutea.http import admin_required, create_app, json_body, jwt_required, make_handler, require_principal
from lutea.http.cookies import REFRESH_COOKIE, cleared_cookies, parse_cookie_header, session_cookies
from lutea.http.docs import ok
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
    return json_body(
        200, session.body, cookies=session_cookies(session.access_token, session.refresh_token, ACCESS_TTL, REFRESH_TTL)
    )


@app.post("/auth/register", responses=ok("Registered", 201))
def register(body: RegisterIn):
    """Register an account, pending until its email is validated.

    Creates a temporary user for 24 h and emails a validation link. An address already registered,
    or still pending, gets the same answer (no enumeration)."""
    answer = accounts.register(accounts.Registration(**body.model_dump()))
    metrics.add_metric(name="RegistrationsRequested", unit=MetricUnit.Count, value=1)
    return json_body(201, answer)


@app.post("/auth/validate-email", responses=ok("SignedIn"))
def validate_email(body: ValidateEmailIn):
    """Validate the emailed link and sign in.

    Turns the pending registration into an account and sets the access_token and refresh_token
    cookies. The token is single-use; unknown or expired: 400."""
    session = sessions.validate_email(body.token)
    metrics.add_metric(name="AccountsCreated", unit=MetricUnit.Count, value=1)
    return _signed_in(session)


@app.post("/auth/login", responses=ok("LoginAnswer"))
def login(body: LoginIn):
    """Sign in with email and password.

    A client gets `user` and both cookies. An admin gets `requires2FA: true`, no cookies, and an
    emailed 8-digit code for /auth/2fa/finalize. Wrong credentials, an unknown email and a locked
    account all get the same 401."""
    outcome = sessions.sign_in(body.email, body.password)
    if isinstance(outcome, sessions.CodeRequired):
        return json_body(200, outcome.body)  # no cookies before the code
    return _signed_in(outcome)


@app.post("/auth/2fa/finalize", responses=ok("SignedIn"))
def finalize_two_factor(body: FinalizeLoginIn):
    """Finish an admin's sign-in with the emailed code.

    Sets both cookies. A wrong or expired code: 401; after 5 wrong codes the code is void."""
    return _signed_in(sessions.finalize_two_factor(body.email, body.code))


@app.post("/auth/2fa/verify", responses=ok("boolean"))
@jwt_required
def verify_two_factor(body: VerifyCodeIn):
    """Check a 2FA code for the signed-in user.

    Answers `true` or `false`, as the original; a right code is used up."""
    return json_body(200, sessions.verify_two_factor(require_principal().user_id, body.code))


@app.post("/auth/refresh", responses=ok("SignedIn"))
def refresh():
    """Rotate the session: new access and refresh cookies.

    Reads the refresh_token cookie (or `refresh_token` in the body). The old refresh token dies;
    reusing a dead one revokes the whole session family (401). Missing: 400."""
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
        raise InvalidInput(
            ["Le corps de la requête n'est pas un JSON valide"], fields=[{"field": "body", "rule": "json_invalid"}]
        ) from exc


@app.post("/auth/logout", responses=ok("Message"))
@jwt_required
def logout():
    """Sign out.

    Revokes the session family and clears both cookies."""
    return json_body(200, sessions.sign_out(require_principal().family_id), cookies=cleared_cookies())


@app.post("/auth/forgot-password", responses=ok("Message"))
def forgot_password(body: ForgotPasswordIn):
    """Ask for a password-reset link.

    The same answer whether the address exists or not; at most 3 emails per hour per account; the
    link is valid 1 h."""
    return json_body(200, accounts.request_password_reset(body.email))


@app.post("/auth/reset-password", responses=ok("Message"))
def reset_password(body: ResetPasswordIn):
    """Set a new password with the emailed token.

    The token is single-use; unknown, used or expired: 401. Every session of the account is revoked."""
    return json_body(200, accounts.reset_password(body.token, body.newPassword))


@app.get("/auth/admin/check", responses=ok("AdminCheck"))
@admin_required
def admin_check() -> dict:
    """Check that the caller is a signed-in admin.

    200 for an admin session that passed 2FA; 401 or 403 otherwise."""
    return {"message": "Accès administrateur autorisé", "role": "admin"}


@app.get("/auth/profile", responses=ok("ProfileClaims"))
@jwt_required
def profile() -> dict:
    """Who is signed in.

    The frontend calls it on every page: a 401 simply means nobody is signed in."""
    return sessions.profile_claims(require_principal().user_id)


@app.get("/auth/user-info", responses=ok("User"))
@jwt_required
def user_info() -> dict:
    """The signed-in user's account.

    The user document without secrets."""
    return accounts.get_profile(require_principal().user_id)


lambda_handler = make_handler(app)
