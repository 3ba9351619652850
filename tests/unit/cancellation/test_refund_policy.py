"""The refund tiers, pure: which tier applies at a given instant, the amount, the text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lutea.refund_policy import make_policy, parse_policy_setting, policy_from_doc, policy_text, quote

START = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
DEFAULT = parse_policy_setting("30:100,14:50")


@pytest.mark.parametrize(
    ("before", "percent", "cents"),
    [
        (timedelta(days=90), 100, 33_333),
        (timedelta(days=30), 100, 33_333),  # exactly at the deadline
        (timedelta(days=30) - timedelta(seconds=1), 50, 16_666),  # rounded down to the cent
        (timedelta(days=14), 50, 16_666),
        (timedelta(days=13, hours=23), 0, 0),
        (timedelta(0), 0, 0),
    ],
)
def test_the_tier_with_the_most_days_that_still_applies_wins(before, percent, cents):
    result = quote(DEFAULT, start=START, at=START - before, paid_cents=33_333)
    assert (result.percent, result.refund_cents) == (percent, cents)


def test_next_change_is_the_deadline_of_the_applying_tier():
    assert quote(DEFAULT, start=START, at=START - timedelta(days=40), paid_cents=1).next_change == START - timedelta(days=30)
    assert quote(DEFAULT, start=START, at=START - timedelta(days=20), paid_cents=1).next_change == START - timedelta(days=14)
    assert quote(DEFAULT, start=START, at=START - timedelta(days=2), paid_cents=1).next_change is None


def test_tiers_are_sorted_and_checked():
    assert [t.days_before for t in make_policy([(7, 20), (60, 100)]).tiers] == [60, 7]
    for bad in ([(1, 101)], [(-1, 10)], [(800, 10)], [(3, 10), (3, 20)]):
        with pytest.raises(ValueError):
            make_policy(bad)
    with pytest.raises(ValueError):
        parse_policy_setting("30-100")
    assert policy_from_doc({"paliers": [{"joursAvant": "x"}]}) is None
    assert policy_from_doc(None) is None


def test_the_text_says_every_tier_and_what_follows():
    assert policy_text(DEFAULT) == (
        "Conditions d'annulation : annulation jusqu'à 30 jours avant le début du séjour : "
        "remboursement de 100 % ; annulation jusqu'à 14 jours avant le début du séjour : "
        "remboursement de 50 % ; au-delà : aucun remboursement."
    )
    assert "aucun remboursement en cas d'annulation" in policy_text(make_policy([]))
    assert "1 jour avant" in policy_text(make_policy([(1, 100)]))


@pytest.mark.parametrize("raw", ["30-100", "30:101", "800:10", "3:10,3:20", "x:y"])
def test_a_wrong_default_policy_stops_the_start(raw):
    from lutea.config import load_settings

    with pytest.raises(RuntimeError, match="CANCELLATION_POLICY"):
        load_settings({"CANCELLATION_POLICY": raw})
    assert load_settings({"CANCELLATION_POLICY": "60:100, 7:20"}).cancellation_policy == "60:100, 7:20"
