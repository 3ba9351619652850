"""Money as people read it in French, the same in the PDF and in every email: ``541,50 €``,
``1 250 €``. Inside the code money is integer cents; on the wire, euros (``lutea.wire``)."""

from __future__ import annotations


def format_euros(cents: int) -> str:
    """French money: ``1 250 €``, ``19,99 €`` (never the wire's ``541.5``)."""
    euros, rest = divmod(abs(int(cents)), 100)
    whole = f"{euros:,}".replace(",", " ")
    sign = "-" if int(cents) < 0 else ""
    return f"{sign}{whole} €" if rest == 0 else f"{sign}{whole},{rest:02d} €"
