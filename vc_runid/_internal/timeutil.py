"""XML Schema dateTime handling, as VC and Data Integrity use it. The clock is always passed in."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from ..errors import DataModelError, ErrorCode

# XMLSchema dateTimeStamp as VC 2.0 §4.9 requires: a time zone is mandatory.
_DATETIME_RE = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_datetime(moment: datetime) -> str:
    """UTC with a ``Z`` suffix; a fraction, when present, as 3 or 6 digits — the shortest exact form."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC)")
    moment = moment.astimezone(UTC)
    # didkit re-serializes fractions with 3, 6 or 9 digits (dropping trailing zero groups) before
    # checking a signature, so ".123000" must be written ".123" for its signature to verify there.
    if moment.microsecond % 1000 == 0 and moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: object, field: str) -> tuple[datetime, Decimal]:
    """An XML Schema dateTime as a totally ordered key that keeps every fractional digit.

    ``datetime`` keeps microseconds only, so ``…00.0000001Z`` and ``…00.0000000Z`` would compare
    equal; ordering rules (completedAt ≥ startedAt) must not pass on a truncation. The key is the
    instant to the whole second (time zone applied) and the exact fraction of that second.
    """
    moment = parse_datetime(value, field)
    match = _DATETIME_RE.match(str(value))
    fraction = match.group(1) if match is not None else None
    return moment.replace(microsecond=0), Decimal("0" + fraction) if fraction else Decimal(0)


def parse_datetime(value: object, field: str) -> datetime:
    if not isinstance(value, str) or not _DATETIME_RE.match(value):
        raise DataModelError(
            f"{field} must be an XML Schema dateTime with a time zone, got {value!r}",
            code=ErrorCode.NOT_A_CREDENTIAL,
        )
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DataModelError(f"{field} is not a valid date-time: {value!r}") from exc
