"""Accounts: registration with email validation, password checks with lockout, password reset,
profiles, and the admin's view of users. Sign-in sessions live in lutea.domain.sessions.

Nothing here says whether an address has an account: registration and forgot-password give
the same answer either way, and the owner of the address is the only one told by email. Those
emails go through ``messages.notify``: a failed delivery is kept for a retry and never changes
the answer (a 502 for known addresses only would tell them apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from bson import ObjectId

from lutea.auth import codes, passwords, timing
from lutea.clock import as_utc, now
from lutea.config import get_settings
from lutea.data.sessions import SessionFamilyRepository
from lutea.data.users import TemporaryUserRepository, UserFilter, UserRepository, normalize_email
from lutea.email import fresh_secrets
from lutea.email.recaptcha import verify_recaptcha
from lutea.errors import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound
from lutea.observability import logger
from lutea.wire import is_object_id, to_wire

if TYPE_CHECKING:
    from lutea.data.documents import UserDoc
    from lutea.listing import PageRequest, Period

CLIENT, ADMIN = "client", "admin"

REGISTRATION_TTL = timedelta(hours=24)
# Emails per address per hour: validation links (the first one included), and notices to the
# owner of an address that is already registered.
LINK_EMAILS_PER_HOUR = 3
NOTICES_PER_HOUR = 3
# security.config of the original: the 4th consecutive failure locks for 15 minutes.
LOCK_THRESHOLD = 4
LOCK_DURATION = timedelta(minutes=15)
RESET_TOKEN_TTL = timedelta(hours=1)
RESET_EMAILS_PER_HOUR = 3

MSG_REGISTERED = "Inscription préparée. Veuillez vérifier votre email pour activer votre compte."
MSG_FORGOT = "Si cet email existe dans notre base, un lien de réinitialisation a été envoyé."
MSG_RESET_DONE = "Mot de passe réinitialisé avec succès. Vous pouvez maintenant vous connecter."
MSG_BAD_RESET_TOKEN = "Token de réinitialisation invalide ou expiré"
MSG_USER_NOT_FOUND = "Utilisateur non trouvé"
MSG_ACCOUNT_DELETED = "Compte supprimé avec succès"
MSG_ADMIN_SELF_DELETE = "Un compte administrateur ne peut pas être supprimé depuis son profil"
MSG_PENDING_BOOKING = (
    "Une réservation est en attente de paiement : réessayez une fois qu'elle est payée ou expirée (16 minutes au plus)"
)

# The order and French labels of the original's "Champs manquants" check.
CONTACT_FIELDS = (
    ("phone", "téléphone"),
    ("address", "adresse"),
    ("city", "ville"),
    ("postalCode", "code postal"),
    ("country", "pays"),
)
PROFILE_FIELDS = ("firstName", "lastName", "phone", "address", "city", "postalCode", "country")

# What a user document may show on the wire: an allow-list, so that a field added later
# (a secret, bookkeeping) stays private until someone decides otherwise.
PUBLIC_USER_FIELDS = (
    "_id",
    "email",
    "firstName",
    "lastName",
    "role",
    "isEmailVerified",
    "phone",
    "address",
    "city",
    "postalCode",
    "country",
    "lastLogin",
    "createdAt",
    "updatedAt",
)


# --- Wire shapes ------------------------------------------------------------------------


def public_user(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The user as JSON, without password, code or token hashes, reset or lockout fields."""
    out: dict[str, Any] = to_wire({k: doc[k] for k in PUBLIC_USER_FIELDS if k in doc})
    return out


def session_user(doc: UserDoc) -> dict[str, Any]:
    """The original's session user (login, 2FA finalize, refresh, email validation)."""
    user_id = str(doc["_id"])
    return {
        "id": user_id,
        "_id": user_id,
        "email": doc["email"],
        "firstName": doc.get("firstName", ""),
        "lastName": doc.get("lastName", ""),
        "role": doc.get("role", CLIENT),
        "isEmailVerified": bool(doc.get("isEmailVerified", False)),
    }


def _frontend_link(path: str, token: str | None = None) -> str:
    base = get_settings().frontend_url
    return f"{base}{path}" + (f"?token={token}" if token else "")


def user_id_of(principal_user_id: str) -> ObjectId:
    """The id in a verified token; anything else means the session is not valid."""
    if not is_object_id(principal_user_id):
        raise NotAuthenticated()
    return ObjectId(principal_user_id)


def current_user(principal_user_id: str) -> UserDoc:
    """The signed-in user's document; a deleted account gets 401."""
    user = UserRepository().get(user_id_of(principal_user_id))
    if user is None:
        raise NotAuthenticated()
    return user


# --- Registration -----------------------------------------------------------------------


class Registration(NamedTuple):
    email: str
    firstName: str
    lastName: str
    password: str
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    postalCode: str | None = None
    country: str | None = None
    token: str | None = None  # reCAPTCHA


def register(reg: Registration) -> dict[str, Any]:
    """Start a registration. The answer, and its duration, are the same whether the address is
    new, already registered or pending:

    - a registered address: its owner is emailed a notice (a few per hour), and for 24 h the
      pending-registration probe answers as it would for a new registration;
    - a pending address: the new registration replaces the pending one (its link dies), so a
      registration its owner did not make can't become an account whose password someone else
      knows; the new link says when this registration was made;
    - a new address: a pending registration and its link.
    """
    with timing.uniform_duration():
        if not verify_recaptcha(reg.token):
            raise InvalidInput("Échec de la vérification reCAPTCHA")
        missing = [label for name, label in CONTACT_FIELDS if not (getattr(reg, name) or "").strip()]
        if missing:
            raise InvalidInput(f"Champs manquants : {', '.join(missing)}")
        email = normalize_email(reg.email) or ""
        # Every branch pays for the hash: a registered address must not answer faster.
        password_hash = passwords.hash_password(reg.password)
        existing = UserRepository().find_by_email(email)
        if existing is not None:
            _registration_attempt_on(existing)
        else:
            _store_registration(reg, email, password_hash)
    return {"message": MSG_REGISTERED, "email": email, "requiresEmailValidation": True}


def _registration_attempt_on(user: UserDoc) -> None:
    from lutea.email import messages  # on the first email: not at every account route's cold start

    if UserRepository().record_registration_attempt(
        user["_id"], looks_pending_until=now() + REGISTRATION_TTL, window=timedelta(hours=1), limit=NOTICES_PER_HOUR
    ):
        messages.notify(messages.send_already_registered, user["email"], user.get("firstName", ""), _frontend_link("/login"))
    else:
        logger.info("already-registered notice not sent: hourly quota reached")


def _store_registration(reg: Registration, email: str, password_hash: str) -> None:
    from lutea.email import messages

    temporaries = TemporaryUserRepository()
    pending = temporaries.find_by_email(email)
    if pending is not None:
        temporaries.delete_if_expired(pending["_id"])  # an expired one starts a fresh quota
    token, registered_at = codes.new_link_token(), now()
    may_email = temporaries.register(
        email,
        {
            "password": password_hash,
            "firstName": reg.firstName,
            "lastName": reg.lastName,
            "role": CLIENT,
            "phone": (reg.phone or "").strip(),  # CONTACT_FIELDS
            "address": (reg.address or "").strip(),
            "city": (reg.city or "").strip(),
            "postalCode": (reg.postalCode or "").strip(),
            "country": (reg.country or "").strip(),
            "verificationToken": codes.hash_link_token(token),
            "expiresAt": registered_at + REGISTRATION_TTL,
            "registeredAt": registered_at,
        },
        window=timedelta(hours=1),
        limit=LINK_EMAILS_PER_HOUR,
    )
    if may_email:
        messages.notify(
            messages.send_validation_link, email, _frontend_link("/validate-email", token), _paris_time(registered_at)
        )
    else:
        logger.info("validation link not sent: hourly quota reached")


def _paris_time(at: datetime) -> str:
    from zoneinfo import ZoneInfo

    return as_utc(at).astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y à %H:%M:%S")


def _fresh_validation_link(email: str, failed_at: datetime) -> str | None:
    """A failed validation email is retried with a fresh link, unless the registration is gone,
    expired, or got a newer email since (lutea.email.failures)."""
    temporaries = TemporaryUserRepository()
    pending = temporaries.find_by_email(email)
    if pending is None or as_utc(pending["expiresAt"]) <= now():
        return None
    if pending.get("linkEmailLastSent") and as_utc(pending["linkEmailLastSent"]) > as_utc(failed_at):
        return None
    token = codes.new_link_token()
    if not temporaries.renew_token(pending["_id"], old_hash=pending["verificationToken"], new_hash=codes.hash_link_token(token)):
        return None
    return _frontend_link("/validate-email", token)


def validate_registration(token: str) -> UserDoc:
    """Turn a pending registration into a user (email verified); the token works once."""
    temporaries = TemporaryUserRepository()
    pending = temporaries.find_by_token(codes.hash_link_token(token))
    if pending is None:
        raise InvalidInput("Token de validation invalide")
    if as_utc(pending["expiresAt"]) <= now():
        temporaries.delete(pending["_id"])
        raise InvalidInput("Token de validation expiré")
    user = UserRepository().create(
        {
            "email": pending["email"],
            "password": pending["password"],
            "firstName": pending["firstName"],
            "lastName": pending["lastName"],
            "role": CLIENT,
            "isEmailVerified": True,
            "failedLoginAttempts": 0,
            "phone": pending.get("phone", ""),  # CONTACT_FIELDS
            "address": pending.get("address", ""),
            "city": pending.get("city", ""),
            "postalCode": pending.get("postalCode", ""),
            "country": pending.get("country", ""),
        }
    )
    # Either way the registration is done with; a concurrent validation of the same token
    # (or an account created meanwhile for this address) finds the user already there.
    temporaries.delete(pending["_id"])
    if user is None:
        raise InvalidInput("Token de validation invalide")
    return user


def registration_status(email: str) -> dict[str, Any]:
    """For the page shown right after registering. A permanent account answers as an unknown
    address does, except right after someone registered it: then as a new pending registration
    would (so register + probe tells nothing either)."""
    normalized = normalize_email(email)
    if not normalized or len(normalized) > 254:
        return {"isTemporary": False}
    # Both lookups every time: an existing account must not answer one query sooner.
    user = UserRepository().find_by_email(normalized)
    pending = TemporaryUserRepository().find_by_email(normalized)
    if user is not None:
        return _pending_answer(user.get("registrationLooksPendingUntil"))
    return _pending_answer(None if pending is None else pending["expiresAt"])


def _pending_answer(expires_at: datetime | None) -> dict[str, Any]:
    """An expired registration (not yet cleaned up) is no longer pending."""
    left_ms = 0 if expires_at is None else int((as_utc(expires_at) - now()).total_seconds() * 1000)
    return {"isTemporary": True, "timeLeft": left_ms} if left_ms > 0 else {"isTemporary": False}


def cleanup_expired_registrations() -> int:
    """Delete pending registrations past their 24 h; returns how many (the scheduled job)."""
    return TemporaryUserRepository().delete_expired()


# --- Passwords and lockout --------------------------------------------------------------


def check_password(user: UserDoc | None, password: str) -> bool:
    """The one password check of a signed-in user (profile, password change, erasure): a locked
    account never matches, every attempt counts towards the lockout until a success resets it
    (and upgrades an old hash)."""
    attempt = (
        None
        if user is None
        else UserRepository().reserve_login_attempt(user["_id"], threshold=LOCK_THRESHOLD, lock_for=LOCK_DURATION)
    )
    return _checked(user, attempt, password, signing_in=False)


def check_sign_in(email: str, password: str) -> UserDoc | None:
    """The account of ``email`` if ``password`` is its password, else None (unknown address,
    wrong password and locked account alike). The account is found and its attempt counted in
    one command, whatever the address: an unknown one costs the same round trip and the same
    hashing time as a known one."""
    user, attempt = UserRepository().reserve_login_attempt_by_email(email, threshold=LOCK_THRESHOLD, lock_for=LOCK_DURATION)
    return user if _checked(user, attempt, password, signing_in=True) else None


def _checked(user: UserDoc | None, attempt: str | None, password: str, *, signing_in: bool) -> bool:
    """The password check after its attempt was reserved. The attempt is counted (and the lock
    taken at the threshold) before the password is checked: parallel guesses each need their
    own reservation, so at most LOCK_THRESHOLD of them are ever checked."""
    if user is None or attempt is None:  # unknown or locked: the same work, the same answer
        passwords.verify_password(passwords.dummy_hash(), password)
        return False
    stored = user.get("password") or ""
    if not passwords.verify_password(stored, password):
        if attempt == "locking":
            logger.info("account locked after repeated failures", extra={"userId": str(user["_id"])})
        return False
    users = UserRepository()
    users.record_login_success(user["_id"], signed_in=signing_in)
    if passwords.needs_rehash(stored):
        users.replace_password_hash(user["_id"], stored, passwords.hash_password(password))
    return True


def request_password_reset(email: str) -> dict[str, str]:
    """Same answer, in the same time, for every address; at most a few emails per hour per
    account."""
    with timing.uniform_duration():
        user = UserRepository().find_by_email(email)
        if user is None:
            return {"message": MSG_FORGOT}
        token = codes.new_link_token()
        allowed = UserRepository().claim_reset_email(
            user["_id"],
            token_hash=codes.hash_link_token(token),
            expires_at=now() + RESET_TOKEN_TTL,
            window=timedelta(hours=1),
            limit=RESET_EMAILS_PER_HOUR,
        )
        if allowed:
            from lutea.email import messages

            messages.notify(
                messages.send_password_reset, user["email"], user.get("firstName", ""), _frontend_link("/reset-password", token)
            )
        else:
            logger.info("password reset email not sent: hourly quota reached", extra={"userId": str(user["_id"])})
        return {"message": MSG_FORGOT}


def _fresh_reset_link(email: str, failed_at: datetime) -> str | None:
    """A failed reset email is retried with a fresh link, unless the reset was used, expired or
    asked again since (lutea.email.failures)."""
    users = UserRepository()
    user = users.find_by_email(email)
    if user is None or not user.get("passwordResetToken"):
        return None
    last = user.get("passwordResetLastAttempt")
    if last is not None and as_utc(last) > as_utc(failed_at):
        return None
    token = codes.new_link_token()
    if not users.renew_reset_token(
        user["_id"],
        old_hash=user["passwordResetToken"],
        new_hash=codes.hash_link_token(token),
        expires_at=now() + RESET_TOKEN_TTL,
    ):
        return None
    return _frontend_link("/reset-password", token)


# A failed email that held a link is stored without it; its retry gets a fresh one from here.
fresh_secrets.register("validation_link", _fresh_validation_link)
fresh_secrets.register("password_reset", _fresh_reset_link)


def reset_password(token: str, new_password: str) -> dict[str, str]:
    """Single-use token; every session of the account ends."""
    users = UserRepository()
    token_hash = codes.hash_link_token(token)
    user = users.find_by_reset_token(token_hash)
    if user is None or not users.consume_reset_token(user["_id"], token_hash, passwords.hash_password(new_password)):
        raise NotAuthenticated(MSG_BAD_RESET_TOKEN)
    SessionFamilyRepository().revoke_all_for_user(str(user["_id"]))
    return {"message": MSG_RESET_DONE}


# --- Profile ----------------------------------------------------------------------------


def get_profile(principal_user_id: str) -> dict[str, Any]:
    return public_user(current_user(principal_user_id))


def validate_current_password(principal_user_id: str, password: str) -> dict[str, bool]:
    """A wrong password counts towards the lockout, as at sign-in: a stolen session can't
    be used to guess the password."""
    return {"isValid": check_password(current_user(principal_user_id), password)}


class ProfileUpdate(NamedTuple):
    user: UserDoc  # the stored document, updated
    password_changed: bool


def update_profile(principal_user_id: str, changes: dict[str, Any]) -> ProfileUpdate:
    """``changes``: the profile fields sent (validated), and optionally the password trio.
    A password change must end the account's sessions: see ``sessions.update_profile``."""
    user = current_user(principal_user_id)
    fields = {k: (v.strip() if isinstance(v, str) else v) for k, v in changes.items() if k in PROFILE_FIELDS and v is not None}
    current, new, confirm = (changes.get(k) for k in ("currentPassword", "newPassword", "confirmPassword"))
    if current or new or confirm:
        if not current:
            raise InvalidInput("Le mot de passe actuel est requis")
        if not new:
            raise InvalidInput("Le nouveau mot de passe est requis")
        if new != confirm:
            raise InvalidInput("Les mots de passe ne correspondent pas")
        if not check_password(user, current):
            raise InvalidInput("Mot de passe actuel incorrect")
        fields["password"] = passwords.hash_password(new)
    updated = UserRepository().update_fields(user["_id"], fields) if fields else user
    if updated is None:
        raise NotAuthenticated()
    return ProfileUpdate(updated, password_changed="password" in fields)


def delete_account(user_id: ObjectId) -> bool:
    """Erase a user: idempotent steps first, the account last, so that a failure half-way (503)
    leaves an account whose deletion can simply be asked again. Her bookings stay for
    accounting, anonymised; her waiting-list entries, contact consents and analytics sessions
    go; her sessions end (lutea.domain.personal_data). False when there is no such user."""
    from lutea.domain import personal_data  # the erasure's modules: not on the sign-in path

    users = UserRepository()
    user = users.get(user_id)
    if user is None:
        return False
    counts = personal_data.erase(user_id, user.get("email") or "")
    SessionFamilyRepository().revoke_all_for_user(str(user_id))
    deleted = users.delete(user_id)
    logger.info("account erased", extra={"userId": str(user_id), **counts})
    return deleted


def delete_own_account(principal_user_id: str) -> dict[str, str]:
    if not delete_account(user_id_of(principal_user_id)):
        raise NotAuthenticated()
    return {"message": MSG_ACCOUNT_DELETED}


def delete_own_account_with_password(principal_user_id: str, password: str) -> dict[str, str]:
    """Self-service erasure (RGPD art. 17): the password proves it is her, not a borrowed
    session. Refused while one of her bookings awaits its payment (at most 16 minutes): a
    payment arriving for an anonymised booking could no longer be confirmed to her."""
    user = current_user(principal_user_id)
    if user.get("role") == ADMIN:
        raise NotAllowed(MSG_ADMIN_SELF_DELETE)
    if not check_password(user, password):
        raise InvalidInput("Mot de passe actuel incorrect")
    from lutea.data.bookings import BookingRepository

    if BookingRepository().has_pending_for_user(user["_id"]):
        raise Conflict(MSG_PENDING_BOOKING)
    if not delete_account(user["_id"]):
        raise NotAuthenticated()
    return {"message": MSG_ACCOUNT_DELETED}


def export_personal_data(principal_user_id: str) -> dict[str, Any]:
    """All that is held about the signed-in user (RGPD art. 15 and 20), as JSON."""
    from lutea.domain import personal_data
    from lutea.schemas.bookings import booking_out

    user = current_user(principal_user_id)
    held = personal_data.collect(user["_id"], user.get("email") or "")
    return {
        "exporteLe": to_wire(now()),
        "profil": public_user(user),
        "reservations": [booking_out(b) for b in held["bookings"]],
        "listeAttente": to_wire(held["waitingList"]),
        "consentementsContact": to_wire(held["contactConsents"]),
        "sessionsAnalytiques": to_wire(held["analyticsSessions"]),
    }


# --- Admin ------------------------------------------------------------------------------


def list_users(
    *, role: str | None = None, period: Period | None = None, page: PageRequest | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Users in registration order, optionally of one role and registered in ``period``; with
    ``page``, that page and the total matching."""
    from lutea.listing import Period

    users = UserRepository()
    period = period or Period()
    where = UserFilter(role=role, created_from=period.start, created_before=period.end)
    if page is None:
        found = users.list_filtered(where)
        return [public_user(u) for u in found], len(found)
    docs = users.list_filtered(where, skip=page.skip, limit=page.limit)
    return [public_user(u) for u in docs], users.count_filtered(where)


def get_user(user_id: ObjectId) -> dict[str, Any]:
    user = UserRepository().get(user_id)
    if user is None:
        raise NotFound(MSG_USER_NOT_FOUND)
    return public_user(user)


def delete_user(user_id: ObjectId) -> dict[str, str]:
    if not delete_account(user_id):
        raise NotFound(MSG_USER_NOT_FOUND)
    return {"message": "Utilisateur supprimé avec succès"}


def search_by_email(email: str | None) -> dict[str, Any]:
    """Exact, case-insensitive match on the whole address: never a pattern."""
    if not email or not email.strip():
        raise InvalidInput("Email requis")
    user = UserRepository().find_by_email(email)
    return {"found": True, "user": public_user(user)} if user else {"found": False, "user": None}


def ensure_admin(email: str, password: str, first_name: str, last_name: str) -> UserDoc:
    """Create the admin account, or make the existing account of this address an admin with
    this password and name (idempotent; for deployment and the local demo seed)."""
    normalized = normalize_email(email)
    if not normalized:
        raise InvalidInput("Email requis")
    return UserRepository().upsert_by_email(
        normalized,
        {
            "password": passwords.hash_password(password),
            "firstName": first_name,
            "lastName": last_name,
            "role": ADMIN,
            "isEmailVerified": True,
        },
        {"failedLoginAttempts": 0, **{name: "" for name, _ in CONTACT_FIELDS}},
    )
