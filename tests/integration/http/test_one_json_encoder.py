"""Every response body is encoded the same way, whoever built it (a route's dict, a route with a
return type that Powertools encodes, an error, the local server's own 404): UTF-8 as is, no
spaces after separators."""

from __future__ import annotations

import json

from lutea.http.encoding import encode_json

from tests.support.accounts import client_session


def _canonical(body: str) -> None:
    assert body == encode_json(json.loads(body)), body  # not "\u00e9", not ", " or ": "


def test_success_bodies_of_every_kind_use_the_one_encoder(make_client):
    client, _ = client_session(make_client, firstName="Hélène", lastName="Bérénice")
    typed = client.get("/auth/profile")  # declares `-> dict`: Powertools encodes it
    assert typed.status == 200 and "Hélène" in typed.body
    _canonical(typed.body)
    plain = client.get("/users/profile")  # returns a dict: the resolver encodes it
    assert plain.status == 200 and "Bérénice" in plain.body
    _canonical(plain.body)


def test_error_bodies_use_the_one_encoder(make_client):
    client = make_client()
    refused = client.get("/auth/profile")
    assert refused.status == 401
    _canonical(refused.body)
    invalid = client.post("/auth/login", json={"email": "x"})
    assert invalid.status == 400 and "Données invalides" in invalid.body
    _canonical(invalid.body)
