"""The success bodies of the API, as pydantic models, for the OpenAPI document (and the
TypeScript client the frontend generates from it). Routes name them in their `responses`
(`lutea.http.docs.ok("Booking")`); `infra/openapi.py` turns these classes into the
document's components. Not imported by the functions at run time: cold starts stay small, and
the shapes are checked against real answers by the tests and the schemathesis run.

Field names are the wire's (French where API.md is). Models allow extra fields: a shape
documents what the frontend may rely on, not everything a stored document may carry. The
shapes of the newer routes (admin list pages, self-service cancellation, the waiting list) are
``OutModel``s, which don't say so: they list every field those routes answer. A docstring here
becomes the component's description; the functions that build a body are named in comments."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


Role = Literal["client", "admin"]


class Message(_Out):
    message: str


class SessionUser(_Out):
    """The signed-in user of login, 2FA finalize, refresh and email validation."""

    id: str
    field_id: str | None = Field(None, alias="_id")
    email: str
    firstName: str
    lastName: str
    role: Role
    isEmailVerified: bool


class SignedIn(_Out):
    user: SessionUser
    message: str


class LoginAnswer(_Out):
    """A client is signed in (`user` + cookies); an admin gets `requires2FA` and no cookies."""

    message: str
    user: SessionUser | None = None
    requires2FA: bool | None = None


class Registered(_Out):
    message: str
    email: str
    requiresEmailValidation: Literal[True]


class ProfileClaims(_Out):
    sub: str
    email: str
    role: Role
    firstName: str
    lastName: str


class AdminCheck(_Out):
    message: str
    role: Literal["admin"]


class User(_Out):
    """A user without secrets."""

    field_id: str = Field(alias="_id")
    email: str
    firstName: str | None = None
    lastName: str | None = None
    role: Role
    isEmailVerified: bool | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    postalCode: str | None = None
    country: str | None = None
    lastLogin: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None


class UserSearch(_Out):
    found: bool
    user: User | None = None


class TemporaryCheck(_Out):
    isTemporary: bool
    timeLeft: int | None = Field(None, description="ms until the pending registration expires")


class PasswordCheck(_Out):
    isValid: bool


class DateBlock(_Out):
    field_id: str = Field(alias="_id")
    start: str
    end: str
    heureArrivee: str | None = None
    heureDepart: str | None = None
    prix: float = Field(description="euros")
    places: int
    adresseRdv: str | None = None


class Retreat(_Out):
    field_id: str = Field(alias="_id")
    titreCard: str
    imageCard: str | None = None
    altImageCard: str | None = None
    imageModal: list[str] | None = None
    altImageModal: list[str] | None = None
    texteModal: str | None = None
    boutonPdfLabel: str | None = None
    pdfUrl: str | None = None
    dates: list[DateBlock] = []
    aVenir: bool | None = None
    isActive: bool | None = None
    createdAt: str | None = None
    updatedAt: str | None = None


class ReservedPlaces(_Out):
    placesReservees: int


class AvailablePlaces(_Out):
    placesDisponibles: int


class Availability(_Out):
    retreatId: str
    date: str
    placesDisponibles: int
    message: str


class Participant(_Out):
    field_id: str | None = Field(None, alias="_id")
    prenom: str
    nom: str
    email: str


class BillingAddress(_Out):
    address: str
    city: str
    postalCode: str
    country: str
    phone: str


BookingStatus = Literal["PENDING", "CONFIRMED", "CANCELLED"]
PaymentStatus = Literal["PENDING", "PAID", "FAILED", "REFUNDED"]


class Booking(_Out):
    """A booking. Admin views populate `retreatId` and `userId` with their documents."""

    field_id: str = Field(alias="_id")
    userId: str | dict[str, Any] | None = None
    isGuest: bool | None = None
    isStripeBooking: bool | None = None
    retreatId: str | dict[str, Any] | None = None
    retreatName: str | None = None
    retreatAddress: str | None = None
    retreatHeureArrivee: str | None = None
    retreatHeureDepart: str | None = None
    dateStart: str
    dateEnd: str
    nbPlaces: int
    prixTotal: float = Field(description="euros")
    participants: list[Participant] = []
    billingAddress: BillingAddress | None = None
    statut: BookingStatus
    statutPaiement: PaymentStatus
    stripePaymentIntentId: str | None = None
    notes: str | None = None
    annulationRaison: str | None = None
    annulationDate: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None


class GuestBooking(Booking):
    guestToken: str | None = Field(None, description="guest bookings only: send it as X-Booking-Token")


class BookingStats(_Out):
    total: int
    pending: int
    confirmed: int
    cancelled: int
    revenue: float = Field(description="euros")


class DiscrepancySummary(_Out):
    totalDiscrepancies: int
    orphanPaymentsCount: int
    orphanBookingsCount: int
    retreatsWithIssues: int
    sessionsWithIssues: int


class Discrepancies(_Out):
    summary: DiscrepancySummary
    sessionDiscrepancies: list[dict[str, Any]]
    bookingDiscrepancies: list[dict[str, Any]]


class PaymentAlert(_Out):
    message: str
    discrepancies: DiscrepancySummary | dict[str, Any]


class Cleanup(_Out):
    message: str
    cleanedCount: int


class PaymentIntentCreated(_Out):
    clientSecret: str
    id: str


class PaymentIntent(_Out):
    id: str
    status: str
    amount: int = Field(description="cents")
    currency: str
    client_secret: str | None = None


class Success(_Out):
    success: bool
    message: str


class WebhookReceived(_Out):
    received: Literal[True]


class AnalyticsSession(_Out):
    session_id: str
    started_at: str | None = None
    ended_at: str | None = None
    browser: str | None = None
    device_type: Literal["mobile", "desktop", "tablet"] | None = None
    is_login: bool | None = None


class AnalyticsEvent(_Out):
    event_id: int | None = None
    session_id: str | None = None
    event_type_code: str | None = None
    event_ts: str | None = None
    page_path: str | None = None
    event_data: dict[str, Any] | None = None


class EventType(_Out):
    code: str
    label: str
    category: str | None = None


class AnalyticsStats(_Out):
    """The original's AnalyticsService.getStats() result (sub-shapes as in its source)."""

    totalSessions: int
    totalEvents: int
    bounceRate: float
    conversionRate: float
    eventsByType: Any = None
    tunnelReservation: dict[str, Any] | None = None


class AnalyticsCleared(_Out):
    deletedSessions: int
    deletedEvents: int


class WaitingListEntryHeld(_Out):
    _id: str | None = None
    retreatId: str
    dateId: str
    nbPlaces: int
    email: str
    prenom: str | None = None
    statut: Literal["WAITING", "OFFERED", "BOOKED", "LEFT", "EXPIRED"]
    createdAt: str


class ContactConsent(_Out):
    consentedAt: str = Field(description="When the contact form's privacy notice was accepted")
    expiresAt: str | None = Field(None, description="When this proof is deleted (three years later)")


class AnalyticsSessionHeld(AnalyticsSession):
    events: list[AnalyticsEvent]


class PersonalDataExport(_Out):
    """GET /users/profile/export: everything held about the signed-in user (docs/rgpd.md)."""

    exporteLe: str
    profil: User
    reservations: list[Booking]
    listeAttente: list[WaitingListEntryHeld]
    consentementsContact: list[ContactConsent]
    sessionsAnalytiques: list[AnalyticsSessionHeld]


# --- the newer routes' shapes: every field listed, none written as a null default ------------


def _no_null_default(schema: dict[str, Any]) -> None:
    """Powertools wrote these components while the routes handed it the classes, and it leaves
    a null ``default`` out; openapi-typescript types a property with a ``default`` as always
    present, so writing one would change the TypeScript client's types."""
    for field in schema.get("properties", {}).values():
        if "default" in field and field["default"] is None:
            del field["default"]


class OutModel(BaseModel):
    model_config = ConfigDict(defer_build=True, json_schema_extra=_no_null_default)


# A page of an admin list (docs/admin-lists.md).
class PageOut(OutModel):
    items: list[dict[str, Any]] = Field(description="This page's documents, in the list's order")
    total: int = Field(description="How many documents match the filters, over all pages")
    page: int = Field(description="This page's number, from 1")
    limit: int = Field(description="Documents per page (at most 100)")
    pages: int = Field(description="Number of pages (0 when nothing matches)")


class TierOut(OutModel):
    joursAvant: int
    pourcentage: int


class PolicyOut(OutModel):
    paliers: list[TierOut]
    texte: str = Field(description="the policy in words, as printed on the PDF and in the emails")


# Built by lutea.schemas.cancellation.quote_out.
class CancellationQuoteOut(OutModel):
    bookingId: str
    annulable: bool = Field(description="false when the booking can't be cancelled by its owner now")
    motif: str | None = Field(None, description="why it can't be cancelled, when annulable is false")
    montantPaye: float = Field(description="euros")
    pourcentageRembourse: int
    montantRembourse: float = Field(description="euros, what cancelling now would refund")
    changementLe: str | None = Field(None, description="ISO instant when the percentage drops next")
    politique: PolicyOut
    calculeLe: str = Field(description="the server's clock when the quote was made (ISO)")


class CancellationOut(OutModel):
    """The cancelled booking (as ``GET /bookings/:id``) with what was refunded."""

    id_: str = Field(alias="_id")
    statut: str
    statutPaiement: str
    montantRembourse: float
    pourcentageRembourse: int
    annulationRaison: str | None = None
    annulationDate: str | None = None


class WaitingListJoinOut(OutModel):
    message: str
    email: str
    nbPlaces: int


class MessageOut(OutModel):
    message: str


class OfferOut(OutModel):
    retreatId: str
    retreatName: str
    dateStart: str
    dateEnd: str
    nbPlaces: int
    prixTotal: float = Field(description="euros, at the server's price")
    offreExpireLe: str = Field(description="ISO instant until which the seats are held")
    politiqueAnnulation: str = Field(description="the refund policy in words")


# Built by lutea.schemas.waiting_list.entry_out.
class AdminEntryOut(OutModel):
    id_: str = Field(alias="_id")
    email: str
    prenom: str
    nbPlaces: int
    statut: str = Field(description="WAITING, OFFERED, BOOKED, LEFT or EXPIRED")
    position: int | None = Field(None, description="1 for the first in line; null once not waiting")
    userId: str | None
    createdAt: str
    offreEnvoyeeLe: str | None = None
    offreExpireLe: str | None = None
    bookingId: str | None = None


class AdminBlockOut(OutModel):
    id_: str = Field(alias="_id", description="the date block's _id (as in the retreat's dates[])")
    dateStart: str | None
    dateEnd: str | None
    places: int
    placesDisponibles: int
    placesOffertes: int = Field(description="seats held for offers not yet taken")
    inscriptions: list[AdminEntryOut]


MODELS: tuple[type[BaseModel], ...] = (
    Message,
    SessionUser,
    SignedIn,
    LoginAnswer,
    Registered,
    ProfileClaims,
    AdminCheck,
    User,
    UserSearch,
    TemporaryCheck,
    PasswordCheck,
    DateBlock,
    Retreat,
    ReservedPlaces,
    AvailablePlaces,
    Availability,
    Participant,
    BillingAddress,
    Booking,
    GuestBooking,
    BookingStats,
    DiscrepancySummary,
    Discrepancies,
    PaymentAlert,
    Cleanup,
    PaymentIntentCreated,
    PaymentIntent,
    Success,
    WebhookReceived,
    AnalyticsSession,
    AnalyticsEvent,
    EventType,
    AnalyticsStats,
    AnalyticsCleared,
    PageOut,
    WaitingListEntryHeld,
    ContactConsent,
    AnalyticsSessionHeld,
    PersonalDataExport,
    TierOut,
    PolicyOut,
    CancellationQuoteOut,
    CancellationOut,
    WaitingListJoinOut,
    MessageOut,
    OfferOut,
    AdminEntryOut,
    AdminBlockOut,
)
