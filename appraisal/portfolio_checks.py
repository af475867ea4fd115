"""Checks of a portfolio entry's fields, shared by the portfolio services.

check_entry() validates every field and raises ValidationError({field:
[message]}) with each message naming the value and the rule, before the
services write anything.
"""

import datetime
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from staff.models import StaffMember
from trust import clock

from .models import CpdBooking, CpdKind, DevelopmentNeed, Objective, PortfolioEntry, Standard

MAX_TITLE = 200
MAX_PROVIDER = 200
MAX_REFLECTION = 10_000
MAX_HOURS = Decimal("1000")
MAX_COST = Decimal("100000")
# Dates outside these years are typing mistakes (such as 2206 for 2026);
# planned CPD may lie up to five years ahead.
EARLIEST_YEAR = 1950
YEARS_AHEAD = 5

ENTRY_FIELDS = frozenset(
    {
        "kind",
        "title",
        "provider",
        "started_on",
        "ended_on",
        "hours",
        "cost",
        "reflection",
        "objectives",
        "standards",
        "development_need",
        "booking",
    }
)
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
# Digits with an optional sign and decimal point. Decimal() also parses
# exponent notation ("1e5"), "NaN" and "Infinity", which here are typing
# mistakes, and a message would echo them rewritten (1e5 as 1E+5).
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_ID_PATTERN = re.compile(r"[0-9]{1,12}")


class Errors:
    """Validation messages collected by field and raised together."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.messages.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def shown(value: Any) -> str:
    """Return `value` as short text for a message, with control characters as "?"."""
    text = "".join("?" if unicodedata.category(c) == "Cc" else c for c in str(value))
    return text if len(text) <= 40 else text[:40] + "…"


def is_plain_number(text: str) -> bool:
    """Return whether `text` is a number written with digits and at most one
    decimal point, such as 6, 2.5 or -.5, and not in exponent notation."""
    return _PLAIN_NUMBER.fullmatch(text) is not None


def _day(value: datetime.date) -> str:
    return f"{value:%d/%m/%Y}"


def _has_control(text: str, *, allow_newlines: bool) -> bool:
    allowed = "\n\r\t" if allow_newlines else ""
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


# Field checks -------------------------------------------------------------------------------


def _check_kind(value: Any, errors: Errors) -> str:
    kind = str(value or "").strip()
    if kind not in CpdKind.values:
        allowed = ", ".join(CpdKind.values)
        if not kind:
            errors.add("kind", f"The kind is missing; choose one of: {allowed}.")
        else:
            errors.add("kind", f"Kind “{shown(kind)}” is not one of: {allowed}.")
    return kind


def _check_text(
    field: str, label: str, value: Any, errors: Errors, *, max_length: int, required: bool
) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.add(field, f"The {label} is missing; enter up to {max_length} characters.")
    elif len(text) > max_length:
        errors.add(
            field,
            f"The {label} has {len(text):,} characters; the maximum is {max_length:,}.",
        )
    elif _has_control(text, allow_newlines=field == "reflection"):
        errors.add(
            field,
            f"The {label} “{shown(text)}” contains control characters; remove them.",
        )
    return text


def _parse_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(str(value).strip(), pattern).date()
        except ValueError:
            continue
    return None


def _check_date(
    field: str, label: str, value: Any, errors: Errors, *, required: bool
) -> datetime.date | None:
    if value in (None, ""):
        if required:
            errors.add(field, f"The {label} is missing; enter it as dd/mm/yyyy.")
        return None
    day = _parse_date(value)
    if day is None:
        errors.add(
            field,
            f"The {label} “{shown(value)}” is not a date; enter it as dd/mm/yyyy, "
            "for example 07/12/2026.",
        )
        return None
    latest = clock.today().year + YEARS_AHEAD
    if not EARLIEST_YEAR <= day.year <= latest:
        errors.add(
            field,
            f"The {label} {_day(day)} is outside the years {EARLIEST_YEAR} to {latest}; "
            "check the year.",
        )
        return None
    return day


def _check_amount(
    field: str,
    label: str,
    value: Any,
    errors: Errors,
    *,
    maximum: Decimal,
    places: int,
    unit: str,
) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    if isinstance(value, Decimal) and value.is_finite():
        # str() would write a small or large Decimal in exponent notation.
        text = format(value, "f")
    else:
        text = str(value).strip().replace(",", "").removeprefix("£")
    try:
        amount = Decimal(text) if is_plain_number(text) else Decimal("NaN")
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        errors.add(
            field,
            f"{label} “{shown(value)}” is not a number; enter {unit}, from 0 to {maximum:,}.",
        )
        return Decimal("0")
    if not Decimal("0") <= amount <= maximum:
        errors.add(
            field, f"{label} must be from 0 to {maximum:,}; “{shown(value)}” is outside that range."
        )
    elif amount != amount.quantize(Decimal(1).scaleb(-places)):
        wording = "one decimal place" if places == 1 else f"{places} decimal places"
        errors.add(
            field, f"{label} may have at most {wording}; round “{shown(value)}” to {wording}."
        )
    return amount


def _ids(values: Iterable[Any], field: str, label: str, errors: Errors) -> list[int]:
    ids = []
    for value in values:
        if hasattr(value, "pk"):
            ids.append(value.pk)
            continue
        text = str(value).strip()
        if not _ID_PATTERN.fullmatch(text) or int(text) == 0:
            errors.add(field, f"The {label} “{shown(value)}” is not the number of a record.")
            continue
        ids.append(int(text))
    return list(dict.fromkeys(ids))


def _one_id(value: Any, field: str, label: str, errors: Errors) -> int | None:
    if value in (None, ""):
        return None
    found = _ids([value], field, label, errors)
    return found[0] if found else None


def _check_objectives(staff: StaffMember, values: Iterable[Any], errors: Errors) -> list[int]:
    ids = _ids(values, "objectives", "objective", errors)
    own = set(
        Objective.objects.filter(pk__in=ids, appraisal__appraisee=staff).values_list(
            "pk", flat=True
        )
    )
    for missing in [pk for pk in ids if pk not in own]:
        errors.add(
            "objectives",
            f"Objective {missing} is not one of {staff.full_name}'s appraisal objectives; "
            "link only objectives of their own appraisals.",
        )
    return ids


def _check_standards(values: Iterable[Any], errors: Errors) -> list[int]:
    ids = _ids(values, "standards", "standard", errors)
    known = set(
        Standard.objects.filter(pk__in=ids, standard_set__is_active=True).values_list(
            "pk", flat=True
        )
    )
    for missing in [pk for pk in ids if pk not in known]:
        errors.add(
            "standards",
            f"Standard {missing} is not a standard of an active standard set; "
            "choose one from the list.",
        )
    return ids


def _check_need(staff: StaffMember, value: Any, errors: Errors) -> int | None:
    need_id = _one_id(value, "development_need", "development need", errors)
    if need_id is None:
        return None
    if not DevelopmentNeed.objects.filter(pk=need_id, appraisal__appraisee=staff).exists():
        errors.add(
            "development_need",
            f"Development need {need_id} is not from one of {staff.full_name}'s appraisals.",
        )
        return None
    return need_id


def _check_booking(
    staff: StaffMember, value: Any, entry: PortfolioEntry | None, errors: Errors
) -> int | None:
    booking_id = _one_id(value, "booking", "booking", errors)
    if booking_id is None:
        return None
    if not CpdBooking.objects.filter(pk=booking_id, staff=staff).exists():
        errors.add("booking", f"Booking {booking_id} is not {staff.full_name}'s booking.")
        return None
    taken = PortfolioEntry.objects.filter(booking_id=booking_id)
    if entry is not None:
        taken = taken.exclude(pk=entry.pk)
    if taken.exists():
        errors.add(
            "booking", f"Booking {booking_id} already has a portfolio entry; edit that entry."
        )
    return booking_id


@dataclass
class EntryValues:
    kind: str
    title: str
    provider: str
    started_on: datetime.date | None
    ended_on: datetime.date | None
    hours: Decimal
    cost: Decimal
    reflection: str
    objective_ids: list[int]
    standard_ids: list[int]
    development_need_id: int | None
    booking_id: int | None


def current_fields(entry: PortfolioEntry | None) -> dict[str, Any]:
    if entry is None:
        return {}
    return {
        "kind": entry.kind,
        "title": entry.title,
        "provider": entry.provider,
        "started_on": entry.started_on,
        "ended_on": entry.ended_on,
        "hours": entry.hours,
        "cost": entry.cost,
        "reflection": entry.reflection,
        "objectives": list(entry.objectives.values_list("pk", flat=True)),
        "standards": list(entry.standards.values_list("pk", flat=True)),
        "development_need": entry.development_need_id,
        "booking": entry.booking_id,
    }


def check_entry(
    staff: StaffMember, entry: PortfolioEntry | None, fields: dict[str, Any]
) -> EntryValues:
    errors = Errors()
    values = EntryValues(
        kind=_check_kind(fields.get("kind"), errors),
        title=_check_text(
            "title", "title", fields.get("title"), errors, max_length=MAX_TITLE, required=True
        ),
        provider=_check_text(
            "provider",
            "provider",
            fields.get("provider"),
            errors,
            max_length=MAX_PROVIDER,
            required=False,
        ),
        started_on=_check_date(
            "started_on", "start date", fields.get("started_on"), errors, required=True
        ),
        ended_on=_check_date(
            "ended_on", "end date", fields.get("ended_on"), errors, required=False
        ),
        hours=_check_amount(
            "hours",
            "Hours",
            fields.get("hours"),
            errors,
            maximum=MAX_HOURS,
            places=1,
            unit="hours as a number such as 6 or 2.5",
        ),
        cost=_check_amount(
            "cost",
            "Cost",
            fields.get("cost"),
            errors,
            maximum=MAX_COST,
            places=2,
            unit="pounds as a number such as 150 or 89.50",
        ),
        reflection=_check_text(
            "reflection",
            "reflection",
            fields.get("reflection"),
            errors,
            max_length=MAX_REFLECTION,
            required=False,
        ),
        objective_ids=_check_objectives(staff, fields.get("objectives") or (), errors),
        standard_ids=_check_standards(fields.get("standards") or (), errors),
        development_need_id=_check_need(staff, fields.get("development_need"), errors),
        booking_id=_check_booking(staff, fields.get("booking"), entry, errors),
    )
    if values.started_on and values.ended_on and values.ended_on < values.started_on:
        errors.add(
            "ended_on",
            f"The end date {_day(values.ended_on)} is before the start date "
            f"{_day(values.started_on)}; it must be on or after it.",
        )
    errors.raise_if_any()
    return values
