"""The public catalogue is cacheable: ETag, Cache-Control, 304 on If-None-Match; any change to
what is served changes the ETag (docs/catalogue-cache.md)."""

from __future__ import annotations

import pytest

from tests.integration.retreats.support import create, date_body

ROUTES = ("/retreats/public", "/retreats/public/{id}")


def _path(route: str, retreat: dict) -> str:
    return route.format(id=retreat["_id"])


@pytest.mark.parametrize("route", ROUTES)
def test_answer_carries_etag_and_short_cache_control(api, admin, route):
    retreat = create(admin)

    response = api.get(_path(route, retreat))

    assert response.status == 200
    assert response.headers["ETag"].startswith('"') and response.headers["ETag"].endswith('"')
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=60" in cache and "stale-while-revalidate=" in cache
    assert "no-store" not in cache
    assert "Origin" in response.headers["Vary"]  # CORS headers differ per origin: shared caches key on it


@pytest.mark.parametrize("route", ROUTES)
def test_if_none_match_with_the_current_etag_answers_304_without_a_body(api, admin, route):
    retreat = create(admin)
    etag = api.get(_path(route, retreat)).headers["ETag"]

    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = api.get(_path(route, retreat), headers={"If-None-Match": sent})
        assert response.status == 304, sent
        assert response.body == ""
        assert response.headers["ETag"] == etag
        assert "max-age=60" in response.headers["Cache-Control"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_stale_or_garbled_etag_gets_the_full_answer(api, admin, route):
    retreat = create(admin)
    for sent in ('"stale"', "garbage", ""):
        response = api.get(_path(route, retreat), headers={"If-None-Match": sent})
        assert response.status == 200 and response.json()


@pytest.mark.parametrize("route", ROUTES)
def test_editing_a_retreat_or_its_places_changes_the_etag(api, admin, frozen_clock, route):
    retreat = create(admin)
    path = _path(route, retreat)
    first = api.get(path).headers["ETag"]

    frozen_clock.advance(seconds=1)
    block = dict(retreat["dates"][0], places=11)
    assert admin.patch(f"/retreats/admin/{retreat['_id']}", json={"dates": [block]}).status == 200
    after_places = api.get(path)
    frozen_clock.advance(seconds=1)
    assert admin.patch(f"/retreats/admin/{retreat['_id']}", json={"titreCard": "Nouveau titre"}).status == 200
    after_title = api.get(path).headers["ETag"]

    assert len({first, after_places.headers["ETag"], after_title}) == 3
    assert api.get(path, headers={"If-None-Match": first}).status == 200


def test_a_new_or_hidden_retreat_changes_the_list_etag(api, admin, frozen_clock):
    first_retreat = create(admin)
    first = api.get("/retreats/public").headers["ETag"]
    frozen_clock.advance(seconds=1)
    create(admin, titreCard="Autre", dates=[date_body("2027-05-01T09:00:00Z", "2027-05-03T09:00:00Z")])
    second = api.get("/retreats/public").headers["ETag"]
    frozen_clock.advance(seconds=1)
    assert admin.patch(f"/retreats/admin/{first_retreat['_id']}/toggle-active").status == 200
    third = api.get("/retreats/public").headers["ETag"]

    assert len({first, second, third}) == 3
    hidden = api.get(f"/retreats/public/{first_retreat['_id']}", headers={"If-None-Match": "*"})
    assert hidden.status == 404  # a hidden retreat is gone, whatever the client holds


def test_admin_routes_stay_uncacheable(admin):
    retreat = create(admin)
    response = admin.get(f"/retreats/admin/{retreat['_id']}")
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def test_lower_case_if_none_match_as_http2_clients_send_it(api, admin):
    """API Gateway passes header names as the client wrote them; HTTP/2 ones are lower case."""
    create(admin)
    etag = api.get("/retreats/public").headers["ETag"]
    assert api.get("/retreats/public", headers={"if-none-match": etag}).status == 304
