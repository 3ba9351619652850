"""Every email the application sends, one function per kind (the triggers call these).

Each function raises ``EmailDeliveryError`` when the message can't be delivered. Business
operations call them through ``notify`` (see README.md: a failed email never undoes the
operation that triggered it; it is recorded for a retry)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from lutea.email.service import Attachment, EmailDeliveryError, EmailMessage, send
from lutea.email.templates import multiline_html, render


def notify(fn: Callable[..., str], *args: Any, **kwargs: Any) -> str | None:
    """Call message function ``fn``; never raise. Returns the provider's message id, or ``None``
    when the email could not be sent (then logged by kind, never by address, and kept in
    ``emailfailures`` for ``retry_failed_emails``)."""
    from lutea.observability import logger

    try:
        return fn(*args, **kwargs)
    except EmailDeliveryError as exc:
        kind = exc.email.kind if exc.email is not None else getattr(fn, "__name__", "unknown")
        reason = type(exc.__cause__ or exc).__name__
        logger.warning("email not delivered, kept for retry", extra={"kind": kind, "error": reason})
        _count_failure()
        if exc.email is not None:
            try:
                from lutea.email.failures import record_failure

                record_failure(exc.email, reason)
            except Exception:  # noqa: BLE001 - the business operation must go on
                logger.exception("could not record the failed email", extra={"kind": kind})
        return None
    except Exception:  # noqa: BLE001 - a bug in a template must not undo a booking either
        logger.exception("email not built", extra={"kind": getattr(fn, "__name__", "unknown")})
        _count_failure()
        return None


def deliver_owed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call message function ``fn`` for an owed effect (lutea.domain.owed_effects). A delivery
    the provider refuses is queued in ``emailfailures`` and retried there (the email failure
    policy), which settles the effect; anything else (a message that can't be built, the queue
    unreachable) raises, so the effect stays owed and is tried again."""
    from lutea.observability import logger

    try:
        fn(*args, **kwargs)
    except EmailDeliveryError as exc:
        if exc.email is None:
            raise
        from lutea.email.failures import record_failure

        reason = type(exc.__cause__ or exc).__name__
        logger.warning("email not delivered, kept for retry", extra={"kind": exc.email.kind, "error": reason})
        record_failure(exc.email, reason)
        _count_failure()


def _count_failure() -> None:
    from lutea.observability import count_metric

    count_metric("EmailFailures")


def _send(kind: str, to: str | list[str], **values: object) -> str:
    return _send_with_secret(kind, to, None, **values)


def _send_with_secret(kind: str, to: str | list[str], secret: str | None, /, **values: object) -> str:
    """``secret``: the one-time link or code among ``values`` (kept out of a stored failure).
    ``idempotency_key`` among ``values`` keys the message at the provider (an owed email sent
    again after a crash is delivered once)."""
    idempotency_key = values.pop("idempotency_key", None)
    subject, text, html = render(kind, **values)
    recipients = (to,) if isinstance(to, str) else tuple(to)
    message = EmailMessage(to=recipients, subject=subject, html=html, text=text, kind=kind, secret=secret)
    if isinstance(idempotency_key, str) and idempotency_key:
        message = replace(message, idempotency_key=idempotency_key)
    return send(message)


def _send_attached(
    kind: str,
    to: str | list[str],
    attachments: tuple[Attachment, ...],
    values: dict[str, object],
    *,
    idempotency_key: str | None = None,
) -> str:
    subject, text, html = render(kind, **values)
    recipients = (to,) if isinstance(to, str) else tuple(to)
    message = EmailMessage(to=recipients, subject=subject, html=html, text=text, kind=kind, attachments=attachments)
    if idempotency_key:
        message = replace(message, idempotency_key=idempotency_key)
    return send(message)


def send_validation_link(to: str, link: str, registered_at: str) -> str:
    """No name here: the registration may be a stranger's, and so would be what it says."""
    return _send_with_secret("validation_link", to, link, link=link, registeredAt=registered_at)


def send_already_registered(to: str, first_name: str, login_link: str) -> str:
    return _send("already_registered", to, firstName=first_name, loginLink=login_link)


def send_two_factor_code(to: str, first_name: str, code: str) -> str:
    return _send_with_secret("two_factor_code", to, code, firstName=first_name, code=code)


def send_password_reset(to: str, first_name: str, link: str) -> str:
    return _send_with_secret("password_reset", to, link, firstName=first_name, link=link)


# --- Bookings and payments -------------------------------------------------------------
# ``booking`` is the stored booking document (see lutea.data.bookings).


def _paris_day(value: object) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if isinstance(value, datetime):
        from lutea.clock import as_utc

        return as_utc(value).astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y")
    return str(value)


def _booking_values(booking: Mapping[str, Any]) -> dict[str, object]:
    from lutea.clock import now
    from lutea.money import format_euros

    first = (booking.get("participants") or [{}])[0]
    return {
        "firstName": first.get("prenom", ""),
        "retreatName": booking.get("retreatName", ""),
        "dateStart": _paris_day(booking.get("dateStart")),
        "dateEnd": _paris_day(booking.get("dateEnd")),
        "address": booking.get("retreatAddress") or "",
        "nbPlaces": booking.get("nbPlaces", ""),
        "total": format_euros(int(booking.get("prixTotalCents", 0))),  # "541,50 €", as the PDF
        "reference": str(booking.get("_id", "")),
        # Sent when the payment is confirmed: today, in Paris (the original printed createdAt).
        "paymentDate": _paris_day(now()),
        "policyText": _policy_text(booking),
    }


def _policy_text(booking: Mapping[str, Any]) -> str:
    """The booking's cancellation terms, from the same tiers as the PDF and the quote route."""
    from lutea.refund_policy import booking_policy_text

    return booking_policy_text(booking)


def booking_contact(booking: Mapping[str, Any]) -> str:
    """The first participant's email is the booking's contact, as in the original."""
    return str((booking.get("participants") or [{}])[0].get("email", ""))


def calendar_attachments(booking: Mapping[str, Any], method: str) -> tuple[Attachment, ...]:
    """The booking's ``.ics`` (lutea.ical): the event on confirmation (REQUEST), its removal on
    cancellation (CANCEL, same UID). Empty when the booking has no stay dates to put in a
    calendar: the email itself must go out regardless."""
    from datetime import datetime

    from lutea import ical
    from lutea.clock import now
    from lutea.config import get_settings

    if not (isinstance(booking.get("dateStart"), datetime) and isinstance(booking.get("dateEnd"), datetime)):
        return ()
    text = ical.booking_calendar(booking, method=method, stamp=now(), organizer_email=get_settings().email_contact)
    return (Attachment(ical.calendar_filename(booking)[1], text.encode("utf-8"), ical.content_type(method)),)


def calendar_removal(booking: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """For a cancellation email: a booking that was paid had its event put in the customer's
    calendar by the confirmation, and this METHOD:CANCEL (same UID) removes it. Never paid:
    nothing to remove."""
    from lutea import ical

    if booking.get("statutPaiement") not in ("PAID", "REFUNDED"):
        return ()
    return calendar_attachments(booking, ical.CANCEL)


def _admin_copy(message: EmailMessage) -> str:
    """The admin's copy of a customer's message, as a message of its own: the customer never
    sees the admin's address, nor the admin the customer's among co-recipients."""
    from dataclasses import replace

    from lutea.config import get_settings

    return send(
        replace(
            message,
            to=(get_settings().email_admin,),
            subject=f"[Copie] {message.subject}",
            kind=f"{message.kind}_copy",
            reply_to=message.to[0] if message.to else None,
            idempotency_key=f"{message.idempotency_key}-copy",
        )
    )


def _send_with_admin_copy(message: EmailMessage) -> str:
    """The customer's message, then the admin's copy on its own (its failure is kept for a retry
    by ``notify`` and never reported as the customer's)."""
    try:
        return send(message)
    finally:
        notify(_admin_copy, message)


def send_booking_confirmation(
    booking: Mapping[str, Any], pdf: bytes, filename: str, *, idempotency_key: str | None = None
) -> str:
    from lutea import ical

    subject, text, html = render("booking_confirmation", **_booking_values(booking))
    message = EmailMessage(
        to=(booking_contact(booking),),
        subject=subject,
        html=html,
        text=text,
        kind="booking_confirmation",
        attachments=(Attachment(filename, pdf), *calendar_attachments(booking, ical.REQUEST)),
    )
    if idempotency_key:
        message = replace(message, idempotency_key=idempotency_key)
    return _send_with_admin_copy(message)


def send_booking_cancelled(booking: Mapping[str, Any], *, refunded: bool, idempotency_key: str | None = None) -> str:
    if refunded:
        line = "Le montant payé vous a été remboursé intégralement ; il apparaîtra sous quelques jours."
    elif booking.get("statutPaiement") == "PAID":
        # Paid outside Stripe (a manual booking): nothing was refunded automatically.
        line = "L'équipe Lutea reviendra vers vous pour le remboursement du montant déjà réglé."
    else:
        line = "Aucun montant n'a été débité."
    return _send_attached(
        "booking_cancelled",
        booking_contact(booking),
        calendar_removal(booking),
        {"refundLine": line, **_booking_values(booking)},
        idempotency_key=idempotency_key,
    )


def _refund_line(booking: Mapping[str, Any]) -> str:
    from lutea.money import format_euros

    cents = int(booking.get("montantRembourseCents") or 0)
    percent = int(booking.get("pourcentageRembourse") or 0)
    if cents <= 0:
        return "Selon les conditions d'annulation, aucun remboursement n'est dû à cette date."
    amount = format_euros(cents)
    if not booking.get("isStripeBooking"):
        return f"Un remboursement de {amount} ({percent} %) vous est dû : l'équipe Lutea revient vers vous pour le régler."
    return (
        f"Un remboursement de {amount} ({percent} %) est effectué sur votre moyen de paiement ; "
        "il apparaîtra sous quelques jours."
    )


def send_customer_cancellation(booking: Mapping[str, Any], *, policy_text: str, idempotency_key: str | None = None) -> str:
    """The owner cancelled her booking herself: what was refunded, and why (the policy)."""
    values = {**_booking_values(booking), "policyText": policy_text}
    return _send_attached(
        "booking_cancelled_by_customer",
        booking_contact(booking),
        calendar_removal(booking),
        {"refundLine": _refund_line(booking), "cancelDate": _paris_day(booking.get("annulationDate")), **values},
        idempotency_key=idempotency_key,
    )


def send_cancellation_to_admin(booking: Mapping[str, Any], *, policy_text: str, idempotency_key: str | None = None) -> str:
    from lutea.config import get_settings
    from lutea.money import format_euros

    cents = int(booking.get("montantRembourseCents") or 0)
    mode = "aucun" if cents <= 0 else "remboursé par Stripe" if booking.get("isStripeBooking") else "à rembourser manuellement"
    values = {**_booking_values(booking), "policyText": policy_text}
    return _send(
        "booking_cancelled_admin",
        get_settings().email_admin,
        refundPercent=booking.get("pourcentageRembourse", 0),
        refund=format_euros(cents),
        refundMode=mode,
        cancelDate=_paris_day(booking.get("annulationDate")),
        idempotency_key=idempotency_key,
        **values,
    )


def send_waiting_list_joined(
    to: str,
    *,
    retreat_name: str,
    date_start: object,
    date_end: object,
    seats: int,
    offer_hours: int,
    leave_link: str,
    token: str,
) -> str:
    """``token``: the entry's link token, inside ``leave_link``: an undelivered copy is stored
    without it (and not sent again: the offer email carries the links anew)."""
    # No greeting by name: anyone may type any address and any prenom (nothing typed is relayed).
    return _send_with_secret(
        "waiting_list_joined",
        to,
        token,
        retreatName=retreat_name,
        dateStart=_paris_day(date_start),
        dateEnd=_paris_day(date_end),
        nbPlaces=seats,
        offerHours=offer_hours,
        leaveLink=leave_link,
    )


def send_waiting_list_offer(
    to: str,
    *,
    retreat_name: str,
    date_start: object,
    date_end: object,
    seats: int,
    total_cents: int,
    offer_until: object,
    book_link: str,
    leave_link: str,
    policy_text: str,
    token: str,
) -> str:
    """``token``: the entry's link token, inside both links: an undelivered copy is stored
    without it; the offer stays owed and the waiting-list job sends it again."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from lutea.clock import as_utc
    from lutea.money import format_euros

    until = (
        as_utc(offer_until).astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y à %H:%M")
        if isinstance(offer_until, datetime)
        else str(offer_until)
    )
    return _send_with_secret(
        "waiting_list_offer",
        to,
        token,
        retreatName=retreat_name,
        dateStart=_paris_day(date_start),
        dateEnd=_paris_day(date_end),
        nbPlaces=seats,
        total=format_euros(total_cents),
        offerUntil=until,
        bookLink=book_link,
        leaveLink=leave_link,
        policyText=policy_text,
    )


def send_late_payment_refunded(booking: Mapping[str, Any], *, idempotency_key: str | None = None) -> str:
    """A payment we refunded because it could not be kept: a second payment of a booking already
    paid, or one that arrived when the booking was no longer valid and its places were gone."""
    if booking.get("statutPaiement") == "PAID":
        reason = "était un second paiement pour une réservation déjà réglée, qui reste confirmée."
    else:
        reason = (
            "est arrivé alors que votre réservation n'était plus valable (expirée ou annulée), "
            "et les places ne sont plus disponibles."
        )
    subject, text, html = render("late_payment_refunded", reason=reason, **_booking_values(booking))
    message = EmailMessage(to=(booking_contact(booking),), subject=subject, html=html, text=text, kind="late_payment_refunded")
    if idempotency_key:
        message = replace(message, idempotency_key=idempotency_key)
    return _send_with_admin_copy(message)


def send_admin_alert(title: str, details: str) -> str:
    from lutea.config import get_settings

    return _send("admin_alert", get_settings().email_admin, title=title, details=details)


# --- Contact form ------------------------------------------------------------------------


def send_contact_to_team(*, last_name: str, first_name: str, email: str, phone: str, message: str) -> str:
    from lutea.config import get_settings

    subject, text, html = render(
        "contact_team",
        nom=last_name,
        prenom=first_name,
        email=email,
        telephone=phone,
        message=message,
        messageHtml=multiline_html(message),
    )
    return send(
        EmailMessage(
            to=(get_settings().email_contact,), subject=subject, html=html, text=text, kind="contact_team", reply_to=email
        )
    )


def send_contact_ack(to: str) -> str:
    # A fixed text: nothing the visitor typed (message, name) reaches the address they typed,
    # so the form can't relay content to a stranger.
    return _send("contact_ack", to)
