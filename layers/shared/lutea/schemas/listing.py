"""The documented response of the CSV roster (docs/admin-lists.md). The paginated form of the
admin lists is ``PageOut`` in lutea.schemas.responses, named by ``lutea.http.docs.ok(paged=True)``."""

CSV = {
    200: {
        "description": "CSV for French spreadsheets: UTF-8 with BOM, ';' separated",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}

__all__ = ["CSV"]
