"""The fair peer of section 2: ``POST /bookings`` and ``GET /retreats/public`` as a competent
developer would write them with Powertools alone, without our framework, in the shape of the
Powertools cookbook: a resolver with ``enable_validation=True`` and Powertools' CORS, a pydantic
body (the same model as ours, so that validation costs the same), PyJWT for the access token,
pymongo called directly with the same operations, no caching, and the entry point decorated with
the Logger (correlation id) and Metrics (one metric per booking). What it leaves out that ours
does (security headers, body limits, CSRF check, the API.md error model, ETag) is listed in the
section's notes; it is the yardstick, not a second implementation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from http.cookies import SimpleCookie
from typing import Any

import jwt
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from bson import ObjectId
from lutea.schemas.bookings import BookingIn
from pymongo import ReturnDocument


def _wire(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _retreat_out(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _wire(doc)
    for block in out.get("dates", []):
        block["prix"] = block.pop("prixCents", 0) / 100
    return out


def _error(status: int, message: str) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"statusCode": status, "message": message}),
    )


def build(
    db: Any, access_secret: str, issuer: str, origin: str, *, bookings_per_minute: int = 10_000_000, max_holds: int = 10_000_000
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The peer's Lambda handler over ``db`` (a pymongo Database, or the stand-in's)."""
    logger = Logger(service="peer")
    metrics = Metrics(namespace="LuteaBench", service="peer")
    app = APIGatewayRestResolver(enable_validation=True, cors=CORSConfig(allow_origin=origin, allow_credentials=True))

    @app.get("/retreats/public")
    def public_retreats() -> Any:
        now = datetime.now(UTC)
        query = {"isActive": {"$ne": False}, "$or": [{"aVenir": True}, {"dates": {"$elemMatch": {"start": {"$gt": now}}}}]}
        return [_retreat_out(doc) for doc in db["retreats"].find(query).sort("_id", 1)]

    @app.post("/bookings")
    def create_booking(body: BookingIn) -> Any:
        event = app.current_event
        token = None
        auth = event.get_header_value("authorization", default_value="", case_sensitive=False) or ""
        if auth.lower().startswith("bearer "):
            token = auth[7:]
        else:
            cookies = SimpleCookie(event.get_header_value("cookie", default_value="", case_sensitive=False) or "")
            token = cookies["access_token"].value if "access_token" in cookies else None
        user_id = None
        if token:
            try:
                claims = jwt.decode(token, access_secret, algorithms=["HS256"], issuer=issuer)
            except jwt.PyJWTError:
                return _error(401, "Unauthorized")
            family = db["refreshfamilies"].find_one({"_id": claims["fam"]}, {"revoked": 1, "expiresAt": 1})
            expires = family and family["expiresAt"].replace(tzinfo=family["expiresAt"].tzinfo or UTC)
            if not family or family["revoked"] or expires <= datetime.now(UTC):
                return _error(401, "Unauthorized")
            user_id = ObjectId(claims["sub"])
        # The invariants a hand-written route needs too: a per-IP bookings limit, and a cap on the
        # unpaid seats one client (IP, contact email) may hold.
        ip = event.request_context.identity.source_ip
        now = datetime.now(UTC)
        minute = int(now.timestamp()) // 60
        counted = db["ratelimits"].find_one_and_update(
            {"_id": f"bookings:{ip}:{minute}"},
            {"$inc": {"count": 1}, "$setOnInsert": {"expiresAt": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if (counted or {}).get("count", 1) > bookings_per_minute:
            return _error(429, "Trop de requêtes")
        keys = [
            f"ip:{sha256(ip.encode()).hexdigest()[:32]}",
            f"email:{sha256(body.participants[0].email.lower().encode()).hexdigest()[:32]}",
        ]
        holds = list(
            db["bookings"].find(
                {"holdKeys": {"$in": keys}, "statut": "PENDING", "expiresAt": {"$gt": now}}, {"_id": 0, "nbPlaces": 1}
            )
        )
        if len(holds) >= max_holds:
            return _error(429, "Trop de réservations en attente de paiement")
        retreat = db["retreats"].find_one({"_id": ObjectId(body.retreatId)})
        if retreat is None or retreat.get("isActive") is False:
            return _error(404, "Retraite non trouvée")
        block = next((b for b in retreat["dates"] if b["start"].replace(tzinfo=UTC) == body.dateStart), None)
        if block is None:
            return _error(404, "Date non trouvée")
        taken = db["seatcounters"].find_one_and_update(
            {"_id": block["_id"], "$expr": {"$lte": [{"$add": ["$held", body.nbPlaces]}, "$places"]}},
            {"$inc": {"held": body.nbPlaces}},
            return_document=ReturnDocument.AFTER,
        )
        if taken is None:
            return _error(409, "Plus assez de places")
        doc = {
            "_id": ObjectId(),
            "holdKeys": keys,
            "userId": user_id,
            "isGuest": user_id is None,
            "retreatId": retreat["_id"],
            "dateId": block["_id"],
            "retreatName": retreat.get("titreCard", ""),
            "dateStart": block["start"],
            "dateEnd": block["end"],
            "nbPlaces": body.nbPlaces,
            "participants": [p.model_dump() for p in body.participants],
            "billingAddress": body.billingAddress.model_dump(),
            "prixTotalCents": block["prixCents"] * body.nbPlaces,
            "statut": "PENDING",
            "statutPaiement": "PENDING",
            "createdAt": now,
            "updatedAt": now,
            "expiresAt": now + timedelta(minutes=16),
        }
        db["bookings"].insert_one(doc)
        logger.info("booking created", extra={"bookingId": str(doc["_id"]), "nbPlaces": body.nbPlaces})
        metrics.add_metric(name="BookingsCreated", unit=MetricUnit.Count, value=1)
        out = _wire(doc)
        out["prixTotal"] = out.pop("prixTotalCents") / 100
        return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=out)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler
