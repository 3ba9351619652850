"""The booking's .ics (lutea.ical), read back with a calendar library (icalendar)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from bson import ObjectId
from lutea import ical

PARIS = ZoneInfo("Europe/Paris")
STAMP = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def booking(**fields):
    doc = {
        "_id": ObjectId("65f000000000000000000001"),
        "retreatName": "Retraite Équinoxe, mer; et forêt",
        "retreatAddress": "12 chemin des Oliviers, 34700 Lodève",
        "retreatHeureArrivee": "10h00",
        "retreatHeureDepart": "17h30",
        "dateStart": datetime(2027, 3, 12, 9, 0, tzinfo=UTC),
        "dateEnd": datetime(2027, 3, 14, 16, 0, tzinfo=UTC),
        "nbPlaces": 2,
        "statut": "CONFIRMED",
        "statutPaiement": "PAID",
        "participants": [{"prenom": "Zoé", "nom": "Lefèvre", "email": "zoe@example.test"}],
    }
    doc.update(fields)
    return doc


def parse(text: str):
    calendar = icalendar.Calendar.from_ical(text)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def render(method=ical.REQUEST, **fields):
    return ical.booking_calendar(booking(**fields), method=method, stamp=STAMP, organizer_email="team@lutea.test")


def test_confirmation_event_reads_back_with_paris_times_from_the_arrival_and_departure_hours():
    calendar, event = parse(render())
    assert str(calendar["METHOD"]) == "REQUEST" and str(calendar["VERSION"]) == "2.0"
    assert str(event["UID"]) == "booking-65f000000000000000000001@lutea"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime(2027, 3, 12, 10, 0, tzinfo=PARIS) and start.tzinfo.key == "Europe/Paris"
    assert end == datetime(2027, 3, 14, 17, 30, tzinfo=PARIS)
    assert str(event["SUMMARY"]) == "Retraite Équinoxe, mer; et forêt"  # escaped, then unescaped
    assert str(event["LOCATION"]) == "12 chemin des Oliviers, 34700 Lodève"
    assert str(event["ORGANIZER"]) == "mailto:team@lutea.test" and event["ORGANIZER"].params["CN"] == "Lutea"
    assert str(event["ATTENDEE"]) == "mailto:zoe@example.test"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED" and event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTAMP") == STAMP
    assert "Arrivée : 10h00 — Départ : 17h30" in str(event["DESCRIPTION"])
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]


def test_summer_dates_keep_the_wall_clock_hours():
    _, event = parse(render(dateStart=datetime(2027, 7, 10, 8, 0, tzinfo=UTC), dateEnd=datetime(2027, 7, 12, 15, 0, tzinfo=UTC)))
    assert event.decoded("DTSTART") == datetime(2027, 7, 10, 10, 0, tzinfo=PARIS)
    assert event.decoded("DTSTART").utcoffset() == timedelta(hours=2)


def test_without_hours_the_block_instants_are_used_in_paris_time():
    _, event = parse(render(retreatHeureArrivee=None, retreatHeureDepart="vers midi"))
    assert event.decoded("DTSTART") == datetime(2027, 3, 12, 10, 0, tzinfo=PARIS)  # 09:00Z
    assert event.decoded("DTEND") == datetime(2027, 3, 14, 17, 0, tzinfo=PARIS)  # 16:00Z


def test_hours_that_contradict_the_block_fall_back_to_its_instants():
    _, event = parse(
        render(dateEnd=datetime(2027, 3, 12, 16, 0, tzinfo=UTC), retreatHeureArrivee="18h", retreatHeureDepart="09h")
    )
    assert event.decoded("DTSTART") < event.decoded("DTEND")


def test_cancel_has_the_same_uid_a_higher_sequence_and_no_acceptance():
    confirmed = parse(render())[1]
    calendar, cancelled = parse(render(ical.CANCEL, statut="CANCELLED"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(cancelled["UID"]) == str(confirmed["UID"])
    assert int(cancelled["SEQUENCE"]) > int(confirmed["SEQUENCE"])
    assert str(cancelled["STATUS"]) == "CANCELLED" and "PARTSTAT" not in cancelled["ATTENDEE"].params


def test_publish_for_download_has_no_attendee_and_a_pending_booking_is_tentative():
    calendar, event = parse(render(ical.PUBLISH, statut="PENDING"))
    assert str(calendar["METHOD"]) == "PUBLISH" and "ATTENDEE" not in event
    assert str(event["STATUS"]) == "TENTATIVE"


def test_lines_are_crlf_and_folded_at_75_octets_without_splitting_characters():
    text = render(retreatName="Retraite " + "é" * 80, retreatAddress="x" * 200)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    line.encode("utf-8").decode("utf-8")  # every physical line is valid UTF-8 on its own
    assert str(parse(text)[1]["SUMMARY"]) == "Retraite " + "é" * 80


def test_text_cannot_inject_properties():
    _, event = parse(render(retreatName="Yoga\r\nATTENDEE:mailto:evil@example.test", retreatAddress="a\\b"))
    assert str(event["SUMMARY"]) == "Yoga\nATTENDEE:mailto:evil@example.test"
    assert str(event["LOCATION"]) == "a\\b"
    assert [str(a) for a in [event["ATTENDEE"]]] == ["mailto:zoe@example.test"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("10h00", (10, 0)), ("9h", (9, 0)), ("17:30", (17, 30)), ("08.15", (8, 15)), (" 7H05 ", (7, 5))]
)
def test_hours_as_organisers_write_them(raw, expected):
    parsed = ical.parse_hour(raw)
    assert parsed is not None and (parsed.hour, parsed.minute) == expected


@pytest.mark.parametrize("raw", [None, "", "25h00", "10h75", "midi", "10h00-12h00"])
def test_unreadable_hours(raw):
    assert ical.parse_hour(raw) is None
