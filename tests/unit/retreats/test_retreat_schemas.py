"""Request models of the retreats routes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from lutea.schemas.retreats import DateBlockIn, RetreatCreate, RetreatUpdate
from pydantic import ValidationError

BASE = {
    "titreCard": "T",
    "imageCard": "https://x.test/a.jpg",
    "altImageCard": "a",
    "imageModal": ["/a.jpg"],
    "altImageModal": ["a"],
    "texteModal": "t",
}
BLOCK = {"start": "2027-01-01T10:00:00+01:00", "end": "2027-01-02T00:00:00Z", "prix": 10, "places": 1, "adresseRdv": " Mas "}


def error_types(exc: ValidationError) -> list[tuple[tuple, str]]:
    return [(e["loc"], e["type"]) for e in exc.errors()]


def test_a_block_parses_instants_in_any_iso_form_as_utc():
    block = DateBlockIn.model_validate(BLOCK)
    assert block.start == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    assert block.start.utcoffset().total_seconds() == 0
    assert block.end == datetime(2027, 1, 2, tzinfo=UTC)
    assert block.adresseRdv == "Mas"
    assert block.id is None


@pytest.mark.parametrize(
    ("sent", "euros"),
    [(0, Decimal("0")), (19.99, Decimal("19.99")), (750, Decimal("750")), (0.1, Decimal("0.1")), (1000000, Decimal("1000000"))],
)
def test_prices_are_exact_euros(sent, euros):
    assert DateBlockIn.model_validate({**BLOCK, "prix": sent}).prix == euros


@pytest.mark.parametrize("sent", [-0.01, 0.001, 19.999, 1000000.01, "10", True, None, float("inf")])
def test_prices_refused(sent):
    with pytest.raises(ValidationError):
        DateBlockIn.model_validate({**BLOCK, "prix": sent})


@pytest.mark.parametrize("places", [0, -1, 1.5, "3", True, 10001])
def test_places_refused(places):
    with pytest.raises(ValidationError) as err:
        DateBlockIn.model_validate({**BLOCK, "places": places})
    assert err.value.errors()[0]["loc"] == ("places",)


@pytest.mark.parametrize(
    "link", ["https://cdn.test/a.jpg", "HTTP://cdn.test/a.jpg?w=2#x", "/images/a.jpg", "images/a.jpg", "assets/été.png"]
)
def test_image_links_accepted(link):
    assert RetreatCreate.model_validate({**BASE, "imageModal": [link]}).imageModal == [link]


@pytest.mark.parametrize(
    "link",
    [
        "",
        "   ",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "//evil.test/a.jpg",
        "\\\\evil\\a",
        "https://",
        "https://cdn.test/a b.jpg",
        "ftp://x.test/a",
        "/a\nb",
        "x" * 2049,
    ],
)
def test_image_links_refused(link):
    with pytest.raises(ValidationError) as err:
        RetreatCreate.model_validate({**BASE, "imageModal": [link]})
    assert err.value.errors()[0]["loc"][:2] == ("imageModal", 0)


def test_pdf_url_may_be_empty_but_not_another_scheme():
    assert RetreatCreate.model_validate({**BASE, "pdfUrl": ""}).pdfUrl == ""
    with pytest.raises(ValidationError):
        RetreatCreate.model_validate({**BASE, "pdfUrl": "javascript:x"})


def test_defaults():
    model = RetreatCreate.model_validate(BASE)
    assert model.dates == []
    assert model.aVenir is False
    assert model.isActive is True
    assert model.boutonPdfLabel is None and model.pdfUrl is None


def test_block_ids_must_be_unique_case_insensitively():
    a = "64b0000000000000000000aa"
    with pytest.raises(ValidationError, match="_id en double"):
        RetreatCreate.model_validate({**BASE, "dates": [{**BLOCK, "_id": a}, {**BLOCK, "_id": a.upper()}]})


def test_legacy_fields_are_unknown():
    with pytest.raises(ValidationError) as err:
        RetreatCreate.model_validate({**BASE, "prix": 1, "places": 2, "adresseRdv": "x"})
    assert sorted(error_types(err.value)) == [
        (("adresseRdv",), "extra_forbidden"),
        (("places",), "extra_forbidden"),
        (("prix",), "extra_forbidden"),
    ]


def test_update_reports_only_the_fields_sent():
    update = RetreatUpdate.model_validate({"titreCard": " Nouveau ", "boutonPdfLabel": None})
    assert update.changes() == {"titreCard": "Nouveau", "boutonPdfLabel": None}
    assert RetreatUpdate.model_validate({}).changes() == {}


@pytest.mark.parametrize(
    "name", ["titreCard", "imageCard", "altImageCard", "imageModal", "altImageModal", "texteModal", "dates", "aVenir", "isActive"]
)
def test_update_refuses_null_for_required_fields(name):
    with pytest.raises(ValidationError, match=f"{name} ne peut pas être null"):
        RetreatUpdate.model_validate({name: None})
