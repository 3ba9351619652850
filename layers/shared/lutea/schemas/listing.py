"""Response models of the admin lists' paginated form and of the CSV roster, for the OpenAPI
document (docs/admin-lists.md). Items are the documents each list already returns."""

from typing import Any

from pydantic import Field

from lutea.validation import OutModel


class PageOut(OutModel):
    items: list[dict[str, Any]] = Field(description="This page's documents, in the list's order")
    total: int = Field(description="How many documents match the filters, over all pages")
    page: int = Field(description="This page's number, from 1")
    limit: int = Field(description="Documents per page (at most 100)")
    pages: int = Field(description="Number of pages (0 when nothing matches)")


def list_or_page(description: str) -> dict[int, Any]:
    """The 200 of an admin list: the original array without ``page``/``limit``, else a page."""
    return {200: {"description": description, "content": {"application/json": {"model": list[dict[str, Any]] | PageOut}}}}


CSV = {
    200: {
        "description": "CSV for French spreadsheets: UTF-8 with BOM, ';' separated",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}

__all__ = ["CSV", "PageOut", "list_or_page"]
