"""The one JSON encoder of every response body: UTF-8 as is (``é``, not ``\\u00e9``), no spaces
after separators, and ObjectIds or datetimes left in a payload in their wire form. The
resolver hands it to Powertools as its serializer, so bodies Powertools encodes itself (routes
with a return type) look exactly like ours."""

from __future__ import annotations

import json
from typing import Any

from lutea.wire import to_wire


def _wire_default(value: Any) -> Any:
    converted = to_wire(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return converted


def encode_json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_wire_default)
