"""Typed settings, read once per container.

The only module that knows environment variable names. Locally every value has an embedded
default; in AWS the secrets come from one Secrets Manager secret (``LUTEA_SECRET_ID``, a JSON
object whose keys are the variable names below) fetched through Powertools Parameters (boto3), or
through the Parameters and Secrets Lambda Extension on localhost with ``LUTEA_SECRETS_VIA=extension``
(no boto3 at cold start), or resolved at deploy time into the environment (then no
``LUTEA_SECRET_ID``); the defaults for secrets are refused in production.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# Secret values that may come from Secrets Manager. Everything else is plain environment.
SECRET_KEYS = (
    "JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET", "MONGODB_URI", "MYSQL_PASSWORD",
    "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "RESEND_API_KEY", "RECAPTCHA_SECRET_KEY",
)

# Local-only defaults for the signing keys (>= 32 bytes). Public (they are in this file): only
# the stages that never face the internet may run with them.
_DEV_ACCESS_SECRET = "local-dev-access-secret-change-me-0123456789"
_DEV_REFRESH_SECRET = "local-dev-refresh-secret-change-me-0123456789"
_DEV_WEBHOOK_SECRET = "whsec_local"
STAGES = ("local", "test", "dev", "prod")
STAGES_WITH_DEFAULT_SECRETS = ("local", "test")


def _split_origins(raw: str) -> tuple[str, ...]:
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    try:
        return int(raw) if raw.strip() else default
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    service_name: str = "lutea"
    frontend_urls: tuple[str, ...] = ("http://localhost:3000",)
    # MongoDB: None -> the in-process stand-in (mongomock)
    mongodb_uri: str | None = None
    mongodb_db: str = "lutea"
    # Analytics: MySQL when mysql_host is set, else SQLite at sqlite_path
    mysql_host: str | None = None
    mysql_port: int = 3306
    mysql_user: str = "root"
    mysql_password: str = ""
    mysql_database: str = "lutea_analytics"
    sqlite_path: str = ".local/analytics.sqlite3"
    # Tokens
    jwt_access_secret: str = _DEV_ACCESS_SECRET
    jwt_refresh_secret: str = _DEV_REFRESH_SECRET
    # Stripe
    stripe_secret_key: str = "sk_test_local"
    stripe_webhook_secret: str = _DEV_WEBHOOK_SECRET
    stripe_api_base: str | None = None
    # Email
    resend_api_key: str | None = None
    resend_api_base: str | None = None
    email_outbox_dir: str = ".local/outbox"
    email_from: str = "noreply@lutea.com"
    email_contact: str = "pierreschnell@hotmail.com"
    email_admin: str = "pierreschnell@hotmail.com"
    # Protection
    recaptcha_secret_key: str | None = None
    recaptcha_verify_url: str = "https://www.google.com/recaptcha/api/siteverify"
    rate_limit_per_minute: int = 100
    rate_limit_strict_per_minute: int = 10
    rate_limit_contact_per_minute: int = 5
    rate_limit_booking_per_minute: int = 5
    # What one client (an IP address, a contact email) may hold in unpaid PENDING bookings.
    pending_bookings_per_client: int = 3
    pending_seats_per_client: int = 20
    # The WAF holds the global per-IP limit (AWS): only the strict tiers are counted in the app.
    rate_limit_global_at_edge: bool = False
    max_body_bytes: int = 100 * 1024
    # Self-service cancellation and the waiting list
    cancellation_policy: str = "30:100,14:50"  # default refund tiers, days_before:percent
    waiting_list_offer_hours: int = 24  # how long seats offered to the waiting list stay held
    # Register and forgot-password answer no sooner than this, whatever the address (timing
    # must not tell an existing account from an unknown one; see lutea.auth.timing).
    uniform_answer_ms: int = 700
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.stage == "prod"

    @property
    def frontend_url(self) -> str:
        """The primary frontend origin, used in links sent by email."""
        return self.frontend_urls[0]


def _load_secret_values(secret_id: str, env: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if env is None else env)
    if (env.get("LUTEA_SECRETS_VIA") or "").strip().lower() == "extension":
        values: Any = _secret_via_extension(secret_id, env)
    else:
        # Imported here: only this path pays for Parameters (and boto3, ~110 ms cold).
        from aws_lambda_powertools.utilities import parameters

        values = parameters.get_secret(secret_id, transform="json", max_age=300)
    if not isinstance(values, dict):
        raise RuntimeError("LUTEA_SECRET_ID must hold a JSON object")
    return {k: str(v) for k, v in values.items() if k in SECRET_KEYS}


def _secret_via_extension(secret_id: str, env: dict[str, str]) -> Any:
    """The secret through the AWS Parameters and Secrets Lambda Extension: one HTTP GET on
    localhost (standard library only, no boto3 in the function). The extension authenticates
    the caller by the sandbox's session token and caches the value itself."""
    import http.client
    import json
    from urllib.parse import quote

    port = _int(env, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", 2773)
    connection = http.client.HTTPConnection("localhost", port, timeout=5)
    try:
        connection.request("GET", f"/secretsmanager/get?secretId={quote(secret_id, safe='')}",
                           headers={"X-Aws-Parameters-Secrets-Token": env.get("AWS_SESSION_TOKEN", "")})
        answer = connection.getresponse()
        payload = answer.read()
        if answer.status != 200:
            raise ValueError(f"HTTP {answer.status}")
        return json.loads(json.loads(payload)["SecretString"])
    except (OSError, ValueError, KeyError) as exc:
        raise RuntimeError(f"secret {secret_id!r} unavailable from the secrets extension ({exc})") from exc
    finally:
        connection.close()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    secret_id = env.get("LUTEA_SECRET_ID", "").strip()
    if secret_id:
        env.update(_load_secret_values(secret_id, env))
    get = lambda name, default=None: (env.get(name) or "").strip() or default  # noqa: E731
    settings = Settings(
        stage=get("STAGE", "local"),
        service_name=get("POWERTOOLS_SERVICE_NAME", "lutea"),
        frontend_urls=_split_origins(get("FRONTEND_URL", "http://localhost:3000")),
        mongodb_uri=get("MONGODB_URI"),
        mongodb_db=get("MONGODB_DB", "lutea"),
        mysql_host=get("MYSQL_HOST"),
        mysql_port=_int(env, "MYSQL_PORT", 3306),
        mysql_user=get("MYSQL_USER", "root"),
        mysql_password=env.get("MYSQL_PASSWORD", ""),
        mysql_database=get("MYSQL_DATABASE", "lutea_analytics"),
        sqlite_path=get("ANALYTICS_SQLITE_PATH", ".local/analytics.sqlite3"),
        jwt_access_secret=get("JWT_ACCESS_SECRET", _DEV_ACCESS_SECRET),
        jwt_refresh_secret=get("JWT_REFRESH_SECRET", _DEV_REFRESH_SECRET),
        stripe_secret_key=get("STRIPE_SECRET_KEY", "sk_test_local"),
        stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET", _DEV_WEBHOOK_SECRET),
        stripe_api_base=get("STRIPE_API_BASE"),
        resend_api_key=get("RESEND_API_KEY"),
        resend_api_base=get("RESEND_API_BASE"),
        email_outbox_dir=get("EMAIL_OUTBOX_DIR", ".local/outbox"),
        email_from=get("EMAIL_FROM", "noreply@lutea.com"),
        email_contact=get("EMAIL_CONTACT", "pierreschnell@hotmail.com"),
        email_admin=get("EMAIL_ADMIN", "pierreschnell@hotmail.com"),
        recaptcha_secret_key=get("RECAPTCHA_SECRET_KEY"),
        recaptcha_verify_url=get("RECAPTCHA_VERIFY_URL", "https://www.google.com/recaptcha/api/siteverify"),
        rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", 100),
        rate_limit_strict_per_minute=_int(env, "RATE_LIMIT_STRICT_PER_MINUTE", 10),
        rate_limit_contact_per_minute=_int(env, "RATE_LIMIT_CONTACT_PER_MINUTE", 5),
        rate_limit_booking_per_minute=_int(env, "RATE_LIMIT_BOOKING_PER_MINUTE", 5),
        pending_bookings_per_client=_int(env, "PENDING_BOOKINGS_PER_CLIENT", 3),
        pending_seats_per_client=_int(env, "PENDING_SEATS_PER_CLIENT", 20),
        rate_limit_global_at_edge=get("RATE_LIMIT_GLOBAL_AT_EDGE", "false").lower() in ("1", "true", "yes"),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 100 * 1024),
        cancellation_policy=get("CANCELLATION_POLICY", "30:100,14:50"),
        waiting_list_offer_hours=_int(env, "WAITING_LIST_OFFER_HOURS", 24),
        uniform_answer_ms=_int(env, "UNIFORM_ANSWER_MS", 700),
    )
    _check(settings, env)
    return settings


def _check(s: Settings, env: dict[str, str]) -> None:
    for name, value in (("JWT_ACCESS_SECRET", s.jwt_access_secret), ("JWT_REFRESH_SECRET", s.jwt_refresh_secret)):
        # PyJWT only warns on short HMAC keys: enforce RFC 7518's 256 bits ourselves.
        if len(value.encode()) < 32:
            raise RuntimeError(f"{name} must be at least 32 bytes")
    if s.jwt_access_secret == s.jwt_refresh_secret:
        raise RuntimeError("JWT_ACCESS_SECRET and JWT_REFRESH_SECRET must differ")
    _check_refund_tiers(s.cancellation_policy)
    if not 1 <= s.waiting_list_offer_hours <= 24 * 14:
        raise RuntimeError("WAITING_LIST_OFFER_HOURS must be between 1 and 336")
    if s.stage not in STAGES:
        # A mistyped stage must not quietly run as a laxer one.
        raise RuntimeError(f"STAGE must be one of {', '.join(STAGES)}, got {s.stage!r}")
    if s.stage not in STAGES_WITH_DEFAULT_SECRETS:
        defaults = [name for name, value, default in (
            ("JWT_ACCESS_SECRET", s.jwt_access_secret, _DEV_ACCESS_SECRET),
            ("JWT_REFRESH_SECRET", s.jwt_refresh_secret, _DEV_REFRESH_SECRET),
            ("STRIPE_WEBHOOK_SECRET", s.stripe_webhook_secret, _DEV_WEBHOOK_SECRET),
        ) if value == default]
        if defaults:
            raise RuntimeError(f"STAGE={s.stage} is deployed: like production it needs real secrets, "
                               f"not the public defaults of {', '.join(defaults)}")
    if s.is_production and not s.mongodb_uri:
        raise RuntimeError("production needs MONGODB_URI")
    if env.get("AWS_LAMBDA_FUNCTION_NAME") and not s.mongodb_uri:
        # The in-process stand-in is for local runs and tests; it is not even in the layer.
        raise RuntimeError("MONGODB_URI is required in Lambda (put it in the LUTEA_SECRET_ID secret)")


def _check_refund_tiers(raw: str) -> None:
    """``days:percent`` pairs, comma-separated, distinct days (lutea.domain.refund_policy reads
    them; checked here so that a wrong value stops the start, not a cancellation)."""
    pairs = [p.strip().split(":") for p in raw.split(",") if p.strip()]
    try:
        tiers = [(int(days), int(percent)) for days, percent in pairs]
    except ValueError as exc:
        raise RuntimeError(f"CANCELLATION_POLICY must be days:percent pairs, got {raw!r}") from exc
    if any(not (0 <= d <= 730 and 0 <= p <= 100) for d, p in tiers) or len({d for d, _ in tiers}) != len(tiers):
        raise RuntimeError(f"CANCELLATION_POLICY: days 0-730 (distinct), percent 0-100, got {raw!r}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests, local runner after overrides)."""
    get_settings.cache_clear()
