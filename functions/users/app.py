"""The /users routes: the signed-in user's profile, the pending-registration probe, and the
admin's user list."""

from __future__ import annotations

from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from lutea import listing
from lutea.auth.tokens import ACCESS_TTL, REFRESH_TTL
from lutea.domain import accounts, sessions
from lutea.http import admin_required, create_app, json_body, jwt_required, make_handler, require_principal
from lutea.http.cookies import cleared_cookies, session_cookies
from lutea.http.docs import ok
from lutea.schemas.users import DeleteAccountIn, UpdateProfileIn, ValidatePasswordIn
from lutea.wire import parse_object_id

app = create_app()
ROLES = (accounts.CLIENT, accounts.ADMIN)


@app.get("/users/profile", responses=ok("User"))
@jwt_required
def get_profile() -> dict:
    """The signed-in user's profile.

    The user without secrets."""
    return accounts.get_profile(require_principal().user_id)


@app.put("/users/profile", responses=ok("User"))
@jwt_required
def update_profile(body: UpdateProfileIn) -> Response[dict]:
    """Update one's profile or password.

    Only firstName, lastName, phone, address, city, postalCode and country; a password change needs
    currentPassword, newPassword and confirmPassword. Any other field: 400. A password change ends
    every other session of the account; this one gets fresh cookies."""
    principal = require_principal()
    outcome = sessions.update_profile(principal.user_id, mfa=principal.mfa, changes=body.model_dump(exclude_unset=True))
    cookies = (
        []
        if outcome.session is None
        else session_cookies(outcome.session.access_token, outcome.session.refresh_token, ACCESS_TTL, REFRESH_TTL)
    )
    return Response(200, content_types.APPLICATION_JSON, outcome.body, cookies=cookies)


@app.delete("/users/profile", responses=ok("Message"))
@jwt_required
def delete_profile():
    """Delete one's account.

    Bookings keep their history; the session cookies are cleared."""
    # The account is gone: its cookies go too.
    return json_body(200, accounts.delete_own_account(require_principal().user_id), cookies=cleared_cookies())


@app.get("/users/profile/export", responses=ok("PersonalDataExport"))
@jwt_required
def export_personal_data():
    """Download all data held about oneself (RGPD), as JSON.

    Profile, bookings, waiting-list entries, contact-form consents and analytics sessions.
    docs/rgpd.md."""
    data = accounts.export_personal_data(require_principal().user_id)
    return json_body(200, data, headers={"Content-Disposition": 'attachment; filename="mes-donnees-lutea.json"'})


@app.post("/users/profile/delete", responses=ok("Message", errors=(409,)))
@jwt_required
def delete_own_account(body: DeleteAccountIn):
    """Delete one's account, with one's password (RGPD).

    Wrong password: 400 (counts towards the lockout); an admin account: 403; a booking awaiting
    payment: 409. Bookings are kept anonymised; the session cookies are cleared. docs/rgpd.md."""
    answer = accounts.delete_own_account_with_password(require_principal().user_id, body.currentPassword)
    return json_body(200, answer, cookies=cleared_cookies())


@app.post("/users/validate-password", responses=ok("PasswordCheck", 201))
@jwt_required
def validate_password(body: ValidatePasswordIn):
    """Check the current password.

    Answers 201 with `isValid`, as the original; rate-limited."""
    return json_body(201, accounts.validate_current_password(require_principal().user_id, body.currentPassword))


@app.get("/users/check-temporary/<email>", responses=ok("TemporaryCheck"))
def check_temporary(email: str) -> dict:
    """Is a registration pending for this address?

    Public, used right after registering; says nothing about permanent accounts."""
    return accounts.registration_status(unquote(email)[:320])


@app.get("/users", responses=ok(["User"], paged=True))
@admin_required
def list_users():
    """List users (admin), in registration order.

    Without secrets. Filters and pages (`page`, `limit`): see docs/admin-lists.md; without
    `page` or `limit`, the whole array."""
    query = app.current_event.get_query_string_value
    page = listing.page_request(query("page"), query("limit"))
    users, total = accounts.list_users(
        role=listing.choice(query("role"), "role", ROLES), period=listing.period(query("dateMin"), query("dateMax")), page=page
    )
    return users if page is None else listing.envelope(users, total, page)


@app.get("/users/admin/search-by-email", responses=ok("UserSearch"))
@admin_required
def search_by_email() -> dict:
    """Find a user by email (admin).

    Exact, case-insensitive match of `?email=`; missing: 400."""
    return accounts.search_by_email(app.current_event.get_query_string_value("email"))


@app.get("/users/<id>", responses=ok("User", errors=(404,)))
@admin_required
def get_user(id: str) -> dict:
    """One user (admin).

    Unknown id: 404; malformed id: 400."""
    return accounts.get_user(parse_object_id(id, "utilisateur"))


@app.delete("/users/<id>", responses=ok("Message", errors=(404,)))
@admin_required
def delete_user(id: str) -> dict:
    """Delete a user (admin).

    Unknown id: 404; the user's bookings keep their history."""
    return accounts.delete_user(parse_object_id(id, "utilisateur"))


lambda_handler = make_handler(app)
