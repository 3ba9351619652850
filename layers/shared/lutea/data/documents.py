"""The stored shapes of the documents: what a repository hands back and takes in.

Types for the type checker only (``TypedDict``: at runtime each document is the plain ``dict``
pymongo returns). Every key is optional (``total=False``): documents written by older versions
or by the import of the original lack some, and a projection (``find(..., {"nbPlaces": 1})``)
returns a few. Money is integer cents; instants are timezone-aware ``datetime``.
The domain reads them by these names (lutea.domain imports this module; this module imports
nothing of the domain).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from bson import ObjectId


class ParticipantDoc(TypedDict, total=False):
    _id: ObjectId
    prenom: str
    nom: str
    email: str


class OwedEntryDoc(TypedDict, total=False):
    """One side effect a document owes, under ``owed.<key>`` (lutea.data.owed)."""

    kind: str
    args: dict[str, Any]  # the effect's own arguments (lutea.domain.owed_effects)
    attempts: int
    nextAttemptAt: datetime
    createdAt: datetime
    lastError: str
    alertedAt: datetime


class BookingDoc(TypedDict, total=False):
    """A ``bookings`` document (lutea.data.bookings)."""

    _id: ObjectId
    userId: ObjectId | None  # None: a guest booking (or an erased account)
    isGuest: bool
    isStripeBooking: bool
    retreatId: ObjectId
    dateId: ObjectId
    retreatName: str
    retreatAddress: str
    retreatHeureArrivee: str
    retreatHeureDepart: str
    retreatPrestationsIncluses: str
    dateStart: datetime
    dateEnd: datetime
    nbPlaces: int
    prixTotalCents: int
    participants: list[ParticipantDoc]
    billingAddress: dict[str, Any]
    notes: str
    statut: str
    statutPaiement: str
    seatsHeld: bool
    politiqueAnnulation: dict[str, Any]
    guestTokenHash: str
    expiresAt: datetime
    holdKeys: list[str]
    waitingListEntryId: ObjectId
    stripePaymentIntentId: str
    annulationDate: datetime
    annulationRaison: str
    annulePar: str
    montantRembourseCents: int
    pourcentageRembourse: int
    refundedAt: datetime
    cancellationEmailAt: datetime
    anonymisedAt: datetime
    owed: dict[str, OwedEntryDoc]  # lutea.data.owed
    createdAt: datetime
    updatedAt: datetime


class DateBlockDoc(TypedDict, total=False):
    """One of a retreat's ``dates``: a stay with its own price, places and meeting point."""

    _id: ObjectId
    start: datetime
    end: datetime
    heureArrivee: str
    heureDepart: str
    prixCents: int
    prix: float  # blocks stored before prices moved to cents: euros
    places: int
    adresseRdv: str


class RetreatDoc(TypedDict, total=False):
    """A ``retreats`` document (lutea.data.retreats). Older documents may also carry the
    top-level ``prix`` (euros), ``places`` and ``adresseRdv`` of the original."""

    _id: ObjectId
    titreCard: str
    imageCard: str
    altImageCard: str
    imageModal: list[str]
    altImageModal: list[str]
    texteModal: str
    boutonPdfLabel: str
    pdfUrl: str
    politiqueAnnulation: dict[str, Any]
    prestationsIncluses: str  # what the price includes, printed on the booking's PDF
    dates: list[DateBlockDoc]
    aVenir: bool
    isActive: bool
    prix: float
    places: int
    adresseRdv: str
    createdAt: datetime
    updatedAt: datetime


class WaitingListEntryDoc(TypedDict, total=False):
    """A ``waitinglist`` document (lutea.data.waiting_list)."""

    _id: ObjectId
    retreatId: ObjectId
    dateId: ObjectId
    nbPlaces: int
    email: str
    prenom: str
    userId: ObjectId | None
    statut: str
    active: bool  # statut WAITING or OFFERED: one active entry per address and block (unique index)
    seatsHeld: bool
    tokenVersion: int
    joinEmails: list[datetime]
    offeredAt: datetime
    offerExpiresAt: datetime
    offerEmailOwed: bool
    bookingId: ObjectId
    createdAt: datetime
    updatedAt: datetime


class UserDoc(TypedDict, total=False):
    """A ``users`` document (lutea.data.users). Secrets (``password`` and the code and token
    hashes) and bookkeeping never reach the wire: lutea.domain.accounts.PUBLIC_USER_FIELDS."""

    _id: ObjectId
    email: str  # lower-cased, trimmed (lutea.data.users.normalize_email)
    password: str  # bcrypt hash
    firstName: str
    lastName: str
    role: str  # client or admin
    isEmailVerified: bool
    phone: str
    address: str
    city: str
    postalCode: str
    country: str
    lastLogin: datetime
    failedLoginAttempts: int
    lockUntil: datetime
    verificationCode: str  # the admin's sign-in code, hashed
    verificationCodeExpires: datetime
    verificationCodeAttempts: int
    passwordResetToken: str  # hashed
    passwordResetExpires: datetime
    passwordResetAttempts: int
    passwordResetLastAttempt: datetime
    registrationLooksPendingUntil: datetime
    registrationNoticesSent: int
    registrationNoticeLastSent: datetime
    createdAt: datetime
    updatedAt: datetime


class TemporaryUserDoc(TypedDict, total=False):
    """A ``temporaryusers`` document: a registration awaiting its email validation."""

    _id: ObjectId
    email: str
    password: str  # bcrypt hash
    firstName: str
    lastName: str
    role: str
    phone: str
    address: str
    city: str
    postalCode: str
    country: str
    verificationToken: str  # hashed
    expiresAt: datetime
    registeredAt: datetime
    linkEmailsSent: int
    linkEmailLastSent: datetime
    createdAt: datetime
    updatedAt: datetime


class SessionFamilyDoc(TypedDict, total=False):
    """A ``refreshfamilies`` document: one sign-in's refresh tokens (lutea.data.sessions)."""

    _id: str  # the family id the tokens name
    userId: str
    currentJti: str
    mfa: bool
    revoked: bool
    createdAt: datetime
    expiresAt: datetime  # sliding
    endsAt: datetime  # absolute; families from before it have none
    rotatedAt: datetime
    revokedAt: datetime


class StripeEventDoc(TypedDict, total=False):
    """A ``stripeevents`` document: a webhook event claimed once (lutea.data.payments)."""

    _id: ObjectId
    eventId: str
    type: str
    status: str  # processing, done or failed
    attempts: int
    claimedAt: datetime
    processedAt: datetime
    failedAt: datetime
    error: str
    createdAt: datetime
    expiresAt: datetime


class SeatHolderDoc(TypedDict, total=False):
    """Who holds seats on a counter: a booking (or a waiting-list offer) and how many."""

    bookingId: ObjectId
    n: int
    at: datetime


class SeatCounterDoc(TypedDict, total=False):
    """A ``seatcounters`` document, one per date block (lutea.data.seats). Counters from before
    holders existed have no ``holders``."""

    _id: ObjectId  # the date block's id
    retreatId: ObjectId
    places: int
    held: int
    holders: list[SeatHolderDoc]
    createdAt: datetime
    updatedAt: datetime


class EmailAttachmentDoc(TypedDict, total=False):
    """One of a stored message's ``attachments``."""

    filename: str
    content: bytes
    contentType: str


class EmailFailureDoc(TypedDict, total=False):
    """An ``emailfailures`` document (lutea.data.email_failures): the rendered message, as
    lutea.email.failures.message_to_document wrote it, and its retries."""

    _id: ObjectId
    kind: str
    to: list[str]
    subject: str
    html: str
    text: str
    replyTo: str | None
    idempotencyKey: str
    needsFreshSecret: bool  # a one-time secret was taken out: a retry asks for a fresh one
    attachments: list[EmailAttachmentDoc]
    status: str  # pending or abandoned (a sent message is deleted)
    attempts: int
    lastError: str
    nextAttemptAt: datetime
    createdAt: datetime
    updatedAt: datetime
    expiresAt: datetime


class ContactConsentDoc(TypedDict, total=False):
    """A ``contactconsents`` document (lutea.data.contact_consents)."""

    _id: ObjectId
    email: str
    consentedAt: datetime
    expiresAt: datetime


class RateLimitCounterDoc(TypedDict, total=False):
    """A ``ratelimits`` document: one bucket's requests from one client in one minute
    (lutea.data.rate_limits)."""

    _id: str  # the bucket, the client and the window (lutea.http.ratelimit)
    count: int
    expiresAt: datetime
