"""Request bodies of the /analytics routes (the original's DTOs, with bounded lengths)."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, StrictBool, StringConstraints

from lutea.validation import StrictModel
from lutea.wire import parse_instant

# The range both MySQL's DATETIME and the wire format can carry.
_EARLIEST = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
_LATEST = datetime.fromisoformat("9999-12-31T23:59:59+00:00")


def _instant(value: str) -> datetime:
    try:
        parsed = parse_instant(value)
    except (ValueError, OverflowError) as exc:
        raise ValueError("must be a valid ISO 8601 date string") from exc
    if not _EARLIEST <= parsed <= _LATEST:
        raise ValueError("must be a date between 1970 and 9999")
    return parsed


# An ISO-8601 string (the original's @IsDateString): numbers are refused, not read as timestamps.
# Validated as a string (the schema says so), it reaches the handler as the datetime `_instant`
# made of it: the type checker is told what the handler holds.
if TYPE_CHECKING:
    IsoInstant = datetime
else:
    IsoInstant = Annotated[str, StringConstraints(min_length=4, max_length=40), AfterValidator(_instant)]
SessionId = Annotated[str, StringConstraints(min_length=1, max_length=36)]
EventTypeCode = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Browser = Annotated[str, StringConstraints(max_length=50)]
PagePath = Annotated[str, StringConstraints(max_length=500)]
DeviceType = Literal["mobile", "desktop", "tablet"]


class CreateSessionIn(StrictModel):
    session_id: SessionId
    started_at: IsoInstant
    browser: Browser | None = None
    device_type: DeviceType | None = None
    is_login: StrictBool | None = None


class UpdateSessionIn(StrictModel):
    ended_at: IsoInstant | None = None
    is_login: StrictBool | None = None


class CreateEventIn(StrictModel):
    session_id: SessionId
    event_type_code: EventTypeCode
    event_ts: IsoInstant | None = None
    page_path: PagePath | None = None
    event_data: dict[str, Any] | None = None
