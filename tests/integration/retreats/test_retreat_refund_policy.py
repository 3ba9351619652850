"""A retreat's own refund tiers (``politiqueAnnulation``, docs/cancellation.md) on the admin
routes: checked, stored, shown, and removed with null (back to the global default)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.retreats.support import create, retreat_body, stored

TIERS = {"paliers": [{"joursAvant": 60, "pourcentage": 100}, {"joursAvant": 7, "pourcentage": 25}]}


def test_a_retreat_keeps_its_own_tiers_and_null_goes_back_to_the_default(admin: Any, make_client: Any) -> None:
    retreat = create(admin, politiqueAnnulation=TIERS)
    assert retreat["politiqueAnnulation"] == TIERS
    assert stored(retreat["_id"])["politiqueAnnulation"] == TIERS
    public = make_client().get(f"/retreats/public/{retreat['_id']}").json()
    assert public["politiqueAnnulation"] == TIERS  # shown to visitors before they book
    changed = admin.patch(
        f"/retreats/admin/{retreat['_id']}", json={"politiqueAnnulation": {"paliers": [{"joursAvant": 10, "pourcentage": 50}]}}
    )
    assert changed.status == 200 and changed.json()["politiqueAnnulation"]["paliers"] == [{"joursAvant": 10, "pourcentage": 50}]
    reset = admin.patch(f"/retreats/admin/{retreat['_id']}", json={"politiqueAnnulation": None})
    assert reset.status == 200 and "politiqueAnnulation" not in reset.json()
    assert "politiqueAnnulation" not in stored(retreat["_id"])


@pytest.mark.parametrize(
    "policy",
    [
        {"paliers": [{"joursAvant": 30, "pourcentage": 101}]},
        {"paliers": [{"joursAvant": -1, "pourcentage": 50}]},
        {"paliers": [{"joursAvant": 731, "pourcentage": 50}]},
        {"paliers": [{"joursAvant": 30, "pourcentage": "50"}]},
        {"paliers": [{"joursAvant": 30, "pourcentage": 50}, {"joursAvant": 30, "pourcentage": 20}]},
        {"paliers": [{"joursAvant": 30}]},
        {"paliers": [{"joursAvant": d, "pourcentage": 10} for d in range(11)]},
        {"tiers": []},
        "30:100",
    ],
)
def test_bad_tiers_are_400(admin: Any, policy: Any) -> None:
    response = admin.post("/retreats/admin", json=retreat_body(politiqueAnnulation=policy))
    assert response.status == 400, response.body
    assert response.json()["message"] == "Données invalides"
