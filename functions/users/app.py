"""The /users routes: the signed-in user's profile, the pending-registration probe, and the
admin's user list."""
from __future__ import annotations

from urllib.parse import unquote

from lutea import listing
from lutea.domain import accounts
from lutea.http import CREATED, admin_required, create_app, json_body, jwt_required, make_handler, require_principal
from lutea.http.cookies import cleared_cookies
from lutea.schemas.listing import list_or_page
from lutea.schemas.users import UpdateProfileIn, ValidatePasswordIn
from lutea.wire import parse_object_id

app = create_app()
ROLES = (accounts.CLIENT, accounts.ADMIN)


@app.get("/users/profile")
@jwt_required
def get_profile() -> dict:
    return accounts.get_profile(require_principal().user_id)


@app.put("/users/profile")
@jwt_required
def update_profile(body: UpdateProfileIn) -> dict:
    return accounts.update_profile(require_principal().user_id, body.model_dump(exclude_unset=True))


@app.delete("/users/profile")
@jwt_required
def delete_profile():
    # The account is gone: its cookies go too.
    return json_body(200, accounts.delete_own_account(require_principal().user_id), cookies=cleared_cookies())


@app.post("/users/validate-password", responses=CREATED)
@jwt_required
def validate_password(body: ValidatePasswordIn):
    return json_body(201, accounts.validate_current_password(require_principal().user_id, body.currentPassword))


@app.get("/users/check-temporary/<email>")
def check_temporary(email: str) -> dict:
    return accounts.registration_status(unquote(email)[:320])


@app.get("/users", responses=list_or_page("Users in registration order; paginated with page or limit"))
@admin_required
def list_users():
    query = app.current_event.get_query_string_value
    page = listing.page_request(query("page"), query("limit"))
    users, total = accounts.list_users(role=listing.choice(query("role"), "role", ROLES),
                                       period=listing.period(query("dateMin"), query("dateMax")), page=page)
    return users if page is None else listing.envelope(users, total, page)


@app.get("/users/admin/search-by-email")
@admin_required
def search_by_email() -> dict:
    return accounts.search_by_email(app.current_event.get_query_string_value("email"))


@app.get("/users/<id>")
@admin_required
def get_user(id: str) -> dict:
    return accounts.get_user(parse_object_id(id, "utilisateur"))


@app.delete("/users/<id>")
@admin_required
def delete_user(id: str) -> dict:
    return accounts.delete_user(parse_object_id(id, "utilisateur"))


lambda_handler = make_handler(app)
