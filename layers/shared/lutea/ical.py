"""A booking as an iCalendar event (RFC 5545), written by hand: one event, a fixed time zone
and a handful of properties do not need a library (and the layer stays small).

- UID ``booking-<id>@lutea`` is the same in every file of a booking, so a calendar that
  received the confirmation replaces or removes that event when the update arrives.
- Times are Europe/Paris wall-clock times (``DTSTART;TZID=Europe/Paris``, with the zone's
  VTIMEZONE): the start day at the arrival hour (``heureArrivee``), the end day at the
  departure hour (``heureDepart``); without an hour (or an unreadable one), the block's own
  start and end instants.
- The email carries ``METHOD:REQUEST`` (iTIP, RFC 5546) with the contact as attendee who has
  already accepted (no RSVP asked), so that the ``METHOD:CANCEL`` sent on cancellation, with
  the same UID and a higher SEQUENCE, removes the event. The download route serves
  ``METHOD:PUBLISH`` (a plain import).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from lutea.clock import as_utc
from lutea.filenames import PARIS, download_filename

PRODID = "-//Lutea//Reservations//FR"
PUBLISH, REQUEST, CANCEL = "PUBLISH", "REQUEST", "CANCEL"
CONTENT_TYPE = "text/calendar"

# Europe/Paris since 1996: last Sunday of March 02:00 -> CEST, last Sunday of October 03:00 -> CET.
VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Paris",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
)

_HOUR = re.compile(r"^\s*(\d{1,2})\s*(?:[hH:.]\s*(\d{2})?)?\s*$")


def uid(booking: Mapping[str, Any]) -> str:
    return f"booking-{booking['_id']}@lutea"


def escape_text(value: Any) -> str:
    """TEXT values (RFC 5545 §3.3.11): backslash, ``;``, ``,`` escaped, line breaks as ``\\n``."""
    text = str(value or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _param(value: Any) -> str:
    """A parameter value (``CN=``): quoted, without the characters a quoted value can't hold."""
    return '"' + re.sub(r'["\r\n\x00-\x1f]', "", str(value or "")) + '"'


def fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF + space, never inside a UTF-8 character."""
    out: list[str] = []
    current, size = "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def parse_hour(value: Any) -> time | None:
    """``10h00``, ``10h``, ``10:30``, ``9.15`` -> a time; anything else -> None."""
    match = _HOUR.match(str(value or ""))
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def local_times(booking: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """Naive Europe/Paris wall-clock start and end of the stay."""
    start = as_utc(booking["dateStart"]).astimezone(PARIS)
    end = as_utc(booking["dateEnd"]).astimezone(PARIS)
    arrival, departure = parse_hour(booking.get("retreatHeureArrivee")), parse_hour(booking.get("retreatHeureDepart"))
    local_start = datetime.combine(start.date(), arrival) if arrival else start.replace(tzinfo=None)
    local_end = datetime.combine(end.date(), departure) if departure else end.replace(tzinfo=None)
    if local_end <= local_start:  # hours that contradict the block: its own instants win
        local_start, local_end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    if local_end <= local_start:
        local_end = local_start + timedelta(hours=1)
    return local_start, local_end


def _utc(value: datetime) -> str:
    return as_utc(value).strftime("%Y%m%dT%H%M%SZ")


def _hours_line(booking: Mapping[str, Any]) -> str:
    arrival, departure = booking.get("retreatHeureArrivee"), booking.get("retreatHeureDepart")
    parts = [f"Arrivée : {arrival}" if arrival else "", f"Départ : {departure}" if departure else ""]
    return " — ".join(p for p in parts if p)


def booking_calendar(
    booking: Mapping[str, Any], *, method: str, stamp: datetime, organizer_email: str, organizer_name: str = "Lutea"
) -> str:
    """The ``.ics`` text of ``booking`` (CRLF lines). ``method``: PUBLISH (download), REQUEST
    (confirmation email) or CANCEL (cancellation email). ``stamp``: DTSTAMP, now."""
    cancelled = method == CANCEL or booking.get("statut") == "CANCELLED"
    status = "CANCELLED" if cancelled else ("TENTATIVE" if booking.get("statut") == "PENDING" else "CONFIRMED")
    start, end = local_times(booking)
    participants = booking.get("participants") or [{}]
    contact = participants[0] or {}
    description = "\n".join(
        line
        for line in (
            f"Réservation {booking['_id']} — {booking.get('nbPlaces', len(participants))} place(s)",
            _hours_line(booking),
            f"Lieu : {booking.get('retreatAddress')}" if booking.get("retreatAddress") else "",
        )
        if line
    )
    event = [
        "BEGIN:VEVENT",
        f"UID:{uid(booking)}",
        f"DTSTAMP:{_utc(stamp)}",
        f"SEQUENCE:{1 if cancelled else 0}",
        f"DTSTART;TZID=Europe/Paris:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID=Europe/Paris:{end:%Y%m%dT%H%M%S}",
        f"SUMMARY:{escape_text(booking.get('retreatName') or 'Retraite Lutea')}",
        f"DESCRIPTION:{escape_text(description)}",
    ]
    if booking.get("retreatAddress"):
        event.append(f"LOCATION:{escape_text(booking['retreatAddress'])}")
    event.append(f"ORGANIZER;CN={_param(organizer_name)}:mailto:{organizer_email}")
    if method in (REQUEST, CANCEL) and contact.get("email"):
        name = f"{contact.get('prenom', '')} {contact.get('nom', '')}".strip()
        accepted = ";PARTSTAT=ACCEPTED" if method == REQUEST else ""
        event.append(f"ATTENDEE;CN={_param(name)};ROLE=REQ-PARTICIPANT{accepted};RSVP=FALSE:mailto:{contact['email']}")
    event += [f"STATUS:{status}", "TRANSP:OPAQUE", "END:VEVENT"]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        *VTIMEZONE,
        *event,
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def calendar_filename(booking: Mapping[str, Any]) -> tuple[str, str]:
    """(ASCII, exact) ``reservation-<slug>-<dd-mm-yyyy>.ics``."""
    return download_filename("reservation", booking.get("retreatName"), booking.get("dateStart"), "ics")


def content_type(method: str) -> str:
    return f"{CONTENT_TYPE}; charset=utf-8; method={method}"


__all__ = ["CANCEL", "PUBLISH", "REQUEST", "booking_calendar", "calendar_filename", "content_type", "uid"]
