"""Sign-in sessions: password sign-in (with the admin's emailed code), refresh-token rotation
with reuse detection (RFC 9700 §4.14.2), sign-out.

A session is a refresh family (lutea.data.sessions): one per sign-in, holding the id of the
only refresh token still valid. Access tokens name their family, so ending the family ends
them too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from aws_lambda_powertools.metrics import MetricUnit
from bson import ObjectId

from lutea.auth import codes, tokens
from lutea.clock import now
from lutea.data.sessions import SessionFamilyRepository, is_live
from lutea.data.users import UserRepository
from lutea.domain import accounts
from lutea.errors import InvalidInput, NotAuthenticated
from lutea.observability import logger, metrics
from lutea.wire import is_object_id

if TYPE_CHECKING:
    from lutea.data.documents import UserDoc

MSG_BAD_CREDENTIALS = "Email ou mot de passe incorrect"
MSG_SIGNED_IN = "Connexion réussie. Tokens stockés en cookies sécurisés."
MSG_CODE_SENT = "Code 2FA envoyé par email. Veuillez le saisir pour finaliser la connexion."
MSG_SIGNED_IN_2FA = "Connexion admin réussie avec 2FA. Tokens stockés en cookies sécurisés."
MSG_BAD_CODE = "Code 2FA invalide ou expiré"
MSG_REFRESHED = "Token renouvelé avec succès."
MSG_BAD_REFRESH = "Token de refresh invalide"
MSG_VALIDATED = "Email validé avec succès. Votre compte a été créé et vous êtes maintenant connecté."
MSG_SIGNED_OUT = "Déconnexion réussie. Cookies supprimés."

TWO_FACTOR_TTL = timedelta(minutes=10)
TWO_FACTOR_MAX_ATTEMPTS = 5


class Session(NamedTuple):
    """A signed-in session: the tokens for the cookies and the answer's body."""

    access_token: str
    refresh_token: str
    body: dict[str, Any]


class CodeRequired(NamedTuple):
    """An admin's password was right: a code was emailed, no session yet."""

    body: dict[str, Any]


def start_session(user: UserDoc, *, mfa: bool, message: str) -> Session:
    family_id, jti = tokens.new_id(), tokens.new_id()
    user_id = str(user["_id"])
    started = now()
    SessionFamilyRepository().create(
        family_id=family_id,
        user_id=user_id,
        jti=jti,
        mfa=mfa,
        expires_at=started + tokens.REFRESH_TTL,
        ends_at=started + tokens.SESSION_MAX_AGE,
    )
    return Session(
        access_token=tokens.issue_access(user_id=user_id, email=user["email"], role=user["role"], family_id=family_id, mfa=mfa),
        refresh_token=tokens.issue_refresh(user_id=user_id, family_id=family_id, jti=jti),
        body={"user": accounts.session_user(user), "message": message},
    )


def sign_in(email: str, password: str) -> Session | CodeRequired:
    """Unknown address, wrong password and locked account get the same 401."""
    user = accounts.check_sign_in(email, password)
    if user is None:
        metrics.add_metric(name="LoginsFailed", unit=MetricUnit.Count, value=1)
        raise NotAuthenticated(MSG_BAD_CREDENTIALS)
    if user.get("role") == accounts.ADMIN:
        _send_two_factor_code(user)
        return CodeRequired({**accounts.public_user(user), "requires2FA": True, "message": MSG_CODE_SENT})
    return start_session(user, mfa=False, message=MSG_SIGNED_IN)


def _send_two_factor_code(user: UserDoc) -> None:
    from lutea.email import messages  # admins only: not at every sign-in's cold start

    code = codes.new_two_factor_code()
    UserRepository().set_two_factor_code(user["_id"], codes.hash_two_factor_code(code), now() + TWO_FACTOR_TTL)
    messages.send_two_factor_code(user["email"], user.get("firstName", ""), code)


def _use_two_factor_code(user: UserDoc, code: str) -> bool:
    """The code works once, for 10 minutes, and is compared at most 5 times: each comparison
    first reserves an attempt (one conditional update), so parallel guesses can't exceed it.
    After the 5th wrong code it is void."""
    users = UserRepository()
    stored = users.reserve_two_factor_attempt(user["_id"], max_attempts=TWO_FACTOR_MAX_ATTEMPTS)
    if stored is None:
        return False
    presented = codes.hash_two_factor_code(code)
    if codes.same_hash(stored, presented):
        return users.use_two_factor_code(user["_id"], presented)
    users.void_exhausted_two_factor_code(user["_id"], max_attempts=TWO_FACTOR_MAX_ATTEMPTS)
    return False


def finalize_two_factor(email: str, code: str) -> Session:
    user = UserRepository().find_by_email(email)
    if user is None or user.get("role") != accounts.ADMIN or not _use_two_factor_code(user, code):
        metrics.add_metric(name="TwoFactorCodesRejected", unit=MetricUnit.Count, value=1)
        raise NotAuthenticated(MSG_BAD_CODE)
    return start_session(user, mfa=True, message=MSG_SIGNED_IN_2FA)


def verify_two_factor(principal_user_id: str, code: str) -> bool:
    """POST /auth/2fa/verify, as the original: true/false, the code is used up when right."""
    return _use_two_factor_code(accounts.current_user(principal_user_id), code)


def validate_email(token: str) -> Session:
    """Email validation creates the account and signs its owner in."""
    return start_session(accounts.validate_registration(token), mfa=False, message=MSG_VALIDATED)


def refresh(refresh_token: str | None) -> Session:
    """Rotate: the presented token dies and a new pair is issued. Presenting a token that
    was already rotated is a reuse (a copy was stolen, or the client raced itself): the whole
    family is revoked."""
    if not refresh_token:
        raise InvalidInput("Refresh token manquant")
    try:
        claims = tokens.decode_refresh(refresh_token)
    except NotAuthenticated as exc:
        raise NotAuthenticated(MSG_BAD_REFRESH) from exc
    families = SessionFamilyRepository()
    new_jti = tokens.new_id()
    # Sliding 7 days; the absolute end (30 days after the sign-in) is kept by the family.
    family = families.rotate(
        family_id=claims.family_id,
        user_id=claims.user_id,
        old_jti=claims.jti,
        new_jti=new_jti,
        expires_at=now() + tokens.REFRESH_TTL,
        ends_at=now() + tokens.SESSION_MAX_AGE,
    )
    if family is None:  # only now read why: the usual rotation costs one round trip
        current = families.get(claims.family_id)
        if is_live(current, user_id=claims.user_id):
            families.revoke(claims.family_id)
            logger.warning("refresh token reuse: session revoked", extra={"userId": claims.user_id})
        raise NotAuthenticated(MSG_BAD_REFRESH)
    user = UserRepository().get(ObjectId(claims.user_id)) if is_object_id(claims.user_id) else None
    if user is None:
        families.revoke(claims.family_id)
        raise NotAuthenticated(MSG_BAD_REFRESH)
    mfa = bool(family.get("mfa"))
    user_id = str(user["_id"])
    return Session(
        access_token=tokens.issue_access(
            user_id=user_id, email=user["email"], role=user["role"], family_id=claims.family_id, mfa=mfa
        ),
        refresh_token=tokens.issue_refresh(user_id=user_id, family_id=claims.family_id, jti=new_jti),
        body={"user": accounts.session_user(user), "message": MSG_REFRESHED},
    )


class ProfileUpdated(NamedTuple):
    """PUT /users/profile: the updated user, and a fresh session when the password changed."""

    body: dict[str, Any]
    session: Session | None


def update_profile(principal_user_id: str, *, mfa: bool, changes: dict[str, Any]) -> ProfileUpdated:
    """A password change ends every session of the account (a thief's stolen access and refresh
    tokens die with their families), then signs the person who made it in again, with the 2FA
    state they had, so that they stay signed in."""
    update = accounts.update_profile(principal_user_id, changes)
    body = accounts.public_user(update.user)
    if not update.password_changed:
        return ProfileUpdated(body, None)
    SessionFamilyRepository().revoke_all_for_user(str(update.user["_id"]))
    return ProfileUpdated(body, start_session(update.user, mfa=mfa, message=""))


def sign_out(family_id: str) -> dict[str, str]:
    SessionFamilyRepository().revoke(family_id)
    return {"message": MSG_SIGNED_OUT}


def profile_claims(principal_user_id: str) -> dict[str, Any]:
    """GET /auth/profile: the original JwtStrategy's view of the current user, looked up."""
    user = accounts.current_user(principal_user_id)
    return {
        "sub": str(user["_id"]),
        "email": user["email"],
        "role": user.get("role", accounts.CLIENT),
        "firstName": user.get("firstName", ""),
        "lastName": user.get("lastName", ""),
    }
