"""The contact form and every other email input can't be used to relay text or add recipients
(issue 12, defect 6): the acknowledgement carries nothing a stranger typed, and an email field
is exactly one address, in every schema."""

from __future__ import annotations

import pytest
from lutea.email.addresses import is_single_address
from lutea.email.messages import send_contact_ack

from tests.integration.auth.flows import registration
from tests.security.support import assert_error
from tests.support.catalogue import booking_body
from tests.support.outbox import read_outbox

SPAM = "Gagnez 1000 euros sur http://arnaque.example"
FORM = {
    "nom": "Durand",
    "prenom": SPAM[:100],
    "email": "victime@example.test",
    "telephone": "0600000000",
    "message": SPAM,
    "rgpd": True,
}

# One typed value that a mail library or a provider could read as several recipients, a display
# name or a group.
NOT_ONE_ADDRESS = [
    "victime@example.test,spam@evil.example",
    "victime@example.test, spam@evil.example",
    "victime@example.test;spam@evil.example",
    "victime@example.test,evil.example",
    "Eve <victime@example.test>",
    "<victime@example.test>",
    '"a,b"@example.test',
    "a,b@example.test",
    "grp: victime@example.test;",
    "victime@example.test (commentaire)",
    "victime@exa_mple.test",
    "victime@example..test",
    ".victime@example.test",
    "vic..time@example.test",
    "victime@-example.test",
    "victime@example.test\r\nBcc: spam@evil.example",
    "victime@example.t",
]


def test_the_acknowledgement_repeats_nothing_the_visitor_typed(api, outbox_dir):
    assert api.post("/email/contact", json=FORM).status == 200
    ack = next(m for m in read_outbox(outbox_dir) if m.kind == "contact_ack")
    assert ack.to == ["victime@example.test"]
    for typed in ("arnaque", "Gagnez", "Durand", "0600000000"):
        assert typed not in ack.text and typed not in ack.html and typed not in ack.subject


@pytest.mark.parametrize("typed", NOT_ONE_ADDRESS)
def test_the_contact_form_refuses_anything_but_one_address(api, outbox_dir, typed):
    assert_error(api.post("/email/contact", json={**FORM, "email": typed}), 400)
    assert read_outbox(outbox_dir) == []


@pytest.mark.parametrize("typed", NOT_ONE_ADDRESS[:8])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/register", lambda e: registration(e)),
        ("/auth/forgot-password", lambda e: {"email": e}),
    ],
)
def test_every_auth_email_input_is_one_address(api, outbox_dir, typed, path, body):
    assert_error(api.post(path, json=body(typed)), 400)
    assert read_outbox(outbox_dir) == []


@pytest.mark.parametrize("typed", NOT_ONE_ADDRESS[:8])
def test_a_participant_email_is_one_address(api, retreat, typed):
    body = booking_body(retreat, nb=1)
    body["participants"][0]["email"] = typed
    assert_error(api.post("/bookings", json=body), 400)


@pytest.mark.parametrize("typed", NOT_ONE_ADDRESS)
def test_the_email_service_refuses_a_recipient_that_is_not_one_address(outbox_dir, typed):
    with pytest.raises(ValueError):
        send_contact_ack(typed)
    assert read_outbox(outbox_dir) == []


@pytest.mark.parametrize(
    "fine",
    [
        "anne@example.test",
        "zoé.lefèvre@example.test",
        "a.b+tag@sous.domaine.fr",
        "o'neil@example.co.uk",
        "x@xn--bcher-kva.example",
    ],
)
def test_ordinary_addresses_still_pass(fine):
    assert is_single_address(fine)
