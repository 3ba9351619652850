"""Typed settings, read once per container.

The only module that knows environment variable names. Locally every value has an embedded
default; in AWS the secrets come from Secrets Manager, one secret per need (``SECRET_SOURCES``:
a function is given, and allowed to read, only the secrets it uses), fetched through Powertools
Parameters (boto3, one after the other), or through the Parameters and Secrets Lambda Extension
on localhost with ``LUTEA_SECRETS_VIA=extension`` (no boto3 at cold start; all at once), or
resolved at deploy time into the environment (then no ``LUTEA_SECRET_*``); the defaults for
secrets are refused in production.

Settings that hold secrets are re-read after ``SECRETS_MAX_AGE_SECONDS`` (a rotated secret takes
effect without a redeploy), and at once (at most every ``SECRETS_REFRESH_MIN_INTERVAL_SECONDS``)
when a provider refuses our credentials (``refresh_secrets``).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

# Where each secret value may come from in AWS: the environment variable that names a Secrets
# Manager secret (a JSON object) -> the keys that secret may hold. template.yaml gives a function
# only the variables (and the read permission) of the secrets it uses.
SECRET_SOURCES: dict[str, tuple[str, ...]] = {
    "LUTEA_SECRET_JWT": ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET"),
    "LUTEA_SECRET_MONGODB": ("MONGODB_URI",),
    "LUTEA_SECRET_MYSQL": ("MYSQL_PASSWORD",),
    "LUTEA_SECRET_STRIPE": ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"),
    "LUTEA_SECRET_RESEND": ("RESEND_API_KEY",),
    "LUTEA_SECRET_RECAPTCHA": ("RECAPTCHA_SECRET_KEY",),
}
# Secret values that may come from Secrets Manager. Everything else is plain environment.
SECRET_KEYS = tuple(key for keys in SECRET_SOURCES.values() for key in keys)
# A rotated secret reaches every warm container within this time.
SECRETS_MAX_AGE_SECONDS = 300
# A refused credential forces a re-read, but never more often than this (a burst of failures
# must not become a burst of Secrets Manager calls).
SECRETS_REFRESH_MIN_INTERVAL_SECONDS = 30

# Obviously local addresses (RFC 6761 ``.localhost``): deployments must set real ones.
LOCAL_EMAIL_FROM = "Lutea <noreply@lutea.localhost>"
LOCAL_EMAIL_CONTACT = "contact@lutea.localhost"
LOCAL_EMAIL_ADMIN = "admin@lutea.localhost"
# The company printed on the booking PDF; deployments set the real one (template parameters).
LOCAL_COMPANY_NAME = "Lutea (local)"
LOCAL_COMPANY_ADDRESS = "Adresse non configurée"
LOCAL_COMPANY_SIRET = "SIRET non configuré"

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


def _mysql_tls(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("verify", "off", ""):
        raise RuntimeError(f"MYSQL_TLS must be 'verify' or 'off', got {raw!r}")
    return value == "verify"


class Settings(NamedTuple):
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
    # TLS to MySQL, required and verified (certificate and host name): on in AWS (the template
    # sets MYSQL_TLS=verify), where the password and the analytics cross the VPC to the RDS Proxy.
    mysql_tls: bool = False
    mysql_tls_ca: str | None = None  # a CA bundle; default: the system's
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
    email_from: str = LOCAL_EMAIL_FROM
    email_contact: str = LOCAL_EMAIL_CONTACT
    email_admin: str = LOCAL_EMAIL_ADMIN
    # The company on the booking PDF (name, address, SIRET; phone and email for contact)
    company_name: str = LOCAL_COMPANY_NAME
    company_address: str = LOCAL_COMPANY_ADDRESS
    company_siret: str = LOCAL_COMPANY_SIRET
    company_phone: str = ""
    company_email: str = LOCAL_EMAIL_CONTACT
    # The API's own domain (API Gateway custom domain), when it has one
    api_domain: str | None = None
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

    @property
    def is_production(self) -> bool:
        return self.stage == "prod"

    @property
    def frontend_url(self) -> str:
        """The primary frontend origin, used in links sent by email."""
        return self.frontend_urls[0]

    @property
    def is_deployed(self) -> bool:
        """Served by API Gateway over HTTPS (a SAM stage), not a local run or a test."""
        return self.stage in ("dev", "prod")

    @property
    def api_same_site_as_frontend(self) -> bool:
        """The API has its own domain on the same site as every frontend origin (api.lutea.fr
        for https://lutea.fr): its cookies are first-party to the frontend."""
        return bool(self.api_domain) and all(_same_site(self.api_domain or "", o) for o in self.frontend_urls)

    @property
    def cookie_same_site(self) -> str:
        """``Strict`` when the browser sees the API on the frontend's site (a custom domain, or
        localhost), ``None`` when it is another site (``*.execute-api.amazonaws.com``), where
        Safari and Firefox block or partition the cookie anyway. SECURITY.md says why Strict."""
        if self.is_deployed and not self.api_same_site_as_frontend:
            return "None"
        return "Strict"

    @property
    def cookie_secure(self) -> bool:
        return self.is_deployed or bool(self.api_domain)


def _host(origin: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(origin if "//" in origin else f"//{origin}").hostname or "").lower().rstrip(".")


def _same_site(api_domain: str, origin: str) -> bool:
    """Conservative same-site test without the Public Suffix List: one host is the other or a
    subdomain of it (at least two labels: never a bare TLD), or the API's parent domain (at least
    two labels) is the frontend's host or one of its parents (api.lutea.fr with www.lutea.fr)."""
    api, front = _host(api_domain), _host(origin)
    if not api or not front:
        return False
    if api == front:
        return True
    for child, parent_host in ((api, front), (front, api)):
        if parent_host.count(".") >= 1 and child.endswith(f".{parent_host}"):
            return True
    parent = api.partition(".")[2]
    return parent.count(".") >= 1 and (front == parent or front.endswith(f".{parent}"))


def _load_secret_values(env: dict[str, str], *, force: bool = False) -> dict[str, str]:
    """The values of every secret this function is given (``SECRET_SOURCES`` variables set)."""
    sources = {var: secret_id for var in SECRET_SOURCES if (secret_id := env.get(var, "").strip())}
    if not sources:
        return {}
    fetched: dict[str, Any]
    if (env.get("LUTEA_SECRETS_VIA") or "").strip().lower() == "extension":
        # All at once: each is a GET on localhost that waits on the network (the extension's
        # own call to Secrets Manager on a cold start), so n secrets cost about one wait, not n.
        # The extension caches for its own SECRETS_MANAGER_TTL (template: the same 300 s).
        fetched = _all_at_once({var: functools.partial(_secret_via_extension, sid, env) for var, sid in sources.items()})
    else:
        # One after the other: Powertools' get_secret creates its shared provider (a boto3
        # Session and client) on first use without a lock, and boto3 Sessions are not thread
        # safe. Imported here: only this path pays for Parameters (and boto3, ~110 ms cold).
        from aws_lambda_powertools.utilities import parameters

        fetched = {
            var: parameters.get_secret(sid, transform="json", max_age=SECRETS_MAX_AGE_SECONDS, force_fetch=force)
            for var, sid in sources.items()
        }
    values: dict[str, str] = {}
    for var, data in fetched.items():
        if not isinstance(data, dict):
            raise RuntimeError(f"{var} must name a secret holding a JSON object")
        # Only the keys this secret is for: a misplaced key is ignored, not trusted.
        values.update({k: str(v) for k, v in data.items() if k in SECRET_SOURCES[var]})
    return values


def _all_at_once(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Every call in its own thread, all waited for; results by key, in the calls' order. A
    failure is raised after all have ended, the first in that order (as if run one by one)."""
    if len(calls) == 1:
        return {key: call() for key, call in calls.items()}
    results: dict[str, Any] = {}
    errors: dict[str, Exception] = {}

    def run(key: str, call: Callable[[], Any]) -> None:
        try:
            results[key] = call()
        except Exception as exc:  # noqa: BLE001 - re-raised in the caller's thread below
            errors[key] = exc

    threads = [threading.Thread(target=run, args=item, name=f"lutea-secret-{item[0]}", daemon=True) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for key in calls:
        if key in errors:
            raise errors[key]
    return {key: results[key] for key in calls}


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
        connection.request(
            "GET",
            f"/secretsmanager/get?secretId={quote(secret_id, safe='')}",
            headers={"X-Aws-Parameters-Secrets-Token": env.get("AWS_SESSION_TOKEN", "")},
        )
        answer = connection.getresponse()
        payload = answer.read()
        if answer.status != 200:
            raise ValueError(f"HTTP {answer.status}")
        return json.loads(json.loads(payload)["SecretString"])
    except (OSError, ValueError, KeyError) as exc:
        raise RuntimeError(f"secret {secret_id!r} unavailable from the secrets extension ({exc})") from exc
    finally:
        connection.close()


def has_secret_sources(env: Mapping[str, str] | None = None) -> bool:
    source = os.environ if env is None else env
    return any(source.get(var, "").strip() for var in SECRET_SOURCES)


def load_settings(env: dict[str, str] | None = None, *, force_secrets: bool = False) -> Settings:
    env = dict(os.environ if env is None else env)
    env.update(_load_secret_values(env, force=force_secrets))
    get = lambda name, default=None: (env.get(name) or "").strip() or default  # noqa: E731
    access_default, refresh_default, webhook_default = _DEV_ACCESS_SECRET, _DEV_REFRESH_SECRET, _DEV_WEBHOOK_SECRET
    if get("STAGE", "local") not in STAGES_WITH_DEFAULT_SECRETS and has_secret_sources(env):
        # A deployed function reading its secrets from Secrets Manager but not given one of them
        # (least privilege: a job without the JWT or the Stripe secret; template.yaml and its
        # test decide who gets what) holds keys nobody else has: it can neither forge nor accept
        # a token or a webhook. Without any secret source, the defaults are refused (_check).
        import secrets

        if not (get("JWT_ACCESS_SECRET") or get("JWT_REFRESH_SECRET")):
            access_default, refresh_default = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
        webhook_default = f"whsec_unset_{secrets.token_urlsafe(32)}"
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
        mysql_tls=_mysql_tls(get("MYSQL_TLS", "off")),
        mysql_tls_ca=get("MYSQL_TLS_CA"),
        sqlite_path=get("ANALYTICS_SQLITE_PATH", ".local/analytics.sqlite3"),
        jwt_access_secret=get("JWT_ACCESS_SECRET", access_default),
        jwt_refresh_secret=get("JWT_REFRESH_SECRET", refresh_default),
        stripe_secret_key=get("STRIPE_SECRET_KEY", "sk_test_local"),
        stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET", webhook_default),
        stripe_api_base=get("STRIPE_API_BASE"),
        resend_api_key=get("RESEND_API_KEY"),
        resend_api_base=get("RESEND_API_BASE"),
        email_outbox_dir=get("EMAIL_OUTBOX_DIR", ".local/outbox"),
        email_from=get("EMAIL_FROM", LOCAL_EMAIL_FROM),
        email_contact=get("EMAIL_CONTACT", LOCAL_EMAIL_CONTACT),
        email_admin=get("EMAIL_ADMIN", LOCAL_EMAIL_ADMIN),
        company_name=get("COMPANY_NAME", LOCAL_COMPANY_NAME),
        company_address=get("COMPANY_ADDRESS", LOCAL_COMPANY_ADDRESS),
        company_siret=get("COMPANY_SIRET", LOCAL_COMPANY_SIRET),
        company_phone=get("COMPANY_PHONE", ""),
        company_email=get("COMPANY_EMAIL") or get("EMAIL_CONTACT", LOCAL_EMAIL_CONTACT),
        api_domain=(get("API_DOMAIN") or "").lower().rstrip(".") or None,
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
        defaults = [
            name
            for name, value, default in (
                ("JWT_ACCESS_SECRET", s.jwt_access_secret, _DEV_ACCESS_SECRET),
                ("JWT_REFRESH_SECRET", s.jwt_refresh_secret, _DEV_REFRESH_SECRET),
                ("STRIPE_WEBHOOK_SECRET", s.stripe_webhook_secret, _DEV_WEBHOOK_SECRET),
            )
            if value == default
        ]
        if defaults:
            raise RuntimeError(
                f"STAGE={s.stage} is deployed: like production it needs real secrets, "
                f"not the public defaults of {', '.join(defaults)}"
            )
    if s.is_production and not s.mongodb_uri:
        raise RuntimeError("production needs MONGODB_URI")
    if s.is_production and s.api_domain and not s.api_same_site_as_frontend:
        # Cookies would be third-party again: say so at start rather than fail sign-ins.
        raise RuntimeError("API_DOMAIN must be on the same site as every FRONTEND_URL origin")
    if env.get("AWS_LAMBDA_FUNCTION_NAME") and not s.mongodb_uri:
        # The in-process stand-in is for local runs and tests; it is not even in the layer.
        raise RuntimeError("MONGODB_URI is required in Lambda (put it in the LUTEA_SECRET_MONGODB secret)")


class _SettingsCache:
    """The container's settings; re-read when they hold secrets older than the maximum age, or
    after ``refresh_secrets``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settings: Settings | None = None
        self.loaded_at = 0.0
        self.expires = False
        self.force_next = False
        self.last_refresh = float("-inf")

    def get(self) -> Settings:
        current, clock = self.settings, time.monotonic()
        if current is not None and not (self.expires and clock - self.loaded_at >= SECRETS_MAX_AGE_SECONDS):
            return current
        with self.lock:
            if self.settings is None or self.settings is current:
                # A re-read goes to Secrets Manager: Powertools' own cache would serve the old value.
                self.settings = load_settings(force_secrets=self.force_next or current is not None)
                self.loaded_at, self.force_next = time.monotonic(), False
                self.expires = has_secret_sources()
            return self.settings

    def refresh(self) -> bool:
        with self.lock:
            clock = time.monotonic()
            if not self.expires or clock - self.last_refresh < SECRETS_REFRESH_MIN_INTERVAL_SECONDS:
                return False
            self.last_refresh = clock
            self.loaded_at, self.force_next = float("-inf"), True
            return True

    def reset(self) -> None:
        with self.lock:
            self.settings, self.loaded_at, self.expires, self.force_next = None, 0.0, False, False
            self.last_refresh = float("-inf")


_cache = _SettingsCache()


def _check_refund_tiers(raw: str) -> None:
    """``days:percent`` pairs, comma-separated, distinct days (lutea.refund_policy reads
    them; checked here so that a wrong value stops the start, not a cancellation)."""
    pairs = [p.strip().split(":") for p in raw.split(",") if p.strip()]
    try:
        tiers = [(int(days), int(percent)) for days, percent in pairs]
    except ValueError as exc:
        raise RuntimeError(f"CANCELLATION_POLICY must be days:percent pairs, got {raw!r}") from exc
    if any(not (0 <= d <= 730 and 0 <= p <= 100) for d, p in tiers) or len({d for d, _ in tiers}) != len(tiers):
        raise RuntimeError(f"CANCELLATION_POLICY: days 0-730 (distinct), percent 0-100, got {raw!r}")


def get_settings() -> Settings:
    return _cache.get()


def refresh_secrets() -> bool:
    """A provider refused our credentials (a rotated secret?): the next ``get_settings`` reads
    the secrets again from Secrets Manager. Rate-limited; returns whether a re-read is due."""
    return _cache.refresh()


def reset_settings() -> None:
    """Forget the cached settings (tests, local runner after overrides)."""
    _cache.reset()
