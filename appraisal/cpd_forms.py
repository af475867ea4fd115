"""Forms of the CPD offer pages. They read the typed values, and the services
in appraisal.cpd check them against the rules."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from academies.models import Academy
from progress.forms import DATE_FORMATS, DayField
from progress.models import Subject

from .cpd import MAX_COST_PER_PLACE, MAX_EVENT_HOURS, MAX_PLACES
from .models import CpdBooking, CpdKind
from .portfolio_checks import is_plain_number


class EchoesTypedMixin:
    """Show the text as typed in range and digit errors. Django shows the
    parsed number instead, which may differ from it (0100 as 100, +5 as 5)."""

    def clean(self, value: Any) -> Any:
        try:
            return super().clean(value)  # type: ignore[misc]
        except ValidationError as error:
            typed = str(value).strip()[:40]
            for problem in error.error_list:
                if problem.params and "value" in problem.params:
                    problem.params = {**problem.params, "value": typed}
            raise


class NamedDecimalField(EchoesTypedMixin, forms.DecimalField):
    """A decimal field whose "not a number" error repeats what was typed.

    Only digits with an optional sign and decimal point are accepted, because
    Decimal() would also take exponent notation such as 1e5.
    """

    def __init__(self, *, unit: str, **kwargs: Any) -> None:
        self.unit = unit
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        typed = str(value).strip() if value is not None else ""
        if typed and not is_plain_number(typed):
            raise ValidationError(self._not_a_number(typed), code="invalid")
        try:
            return super().to_python(value)
        except ValidationError as error:
            if getattr(error, "code", "") != "invalid":
                raise
            raise ValidationError(self._not_a_number(typed), code="invalid") from error

    def _not_a_number(self, typed: str) -> str:
        return (
            f"{self.unit} “{typed[:40]}” is not a number; enter digits with an optional "
            f"decimal point, from {self.min_value} to {self.max_value}."
        )


class NamedIntegerField(EchoesTypedMixin, forms.IntegerField):
    """A whole-number field whose "not a whole number" error repeats what was typed."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValidationError as error:
            if getattr(error, "code", "") != "invalid":
                raise
            raise ValidationError(
                f"“{str(value)[:40]}” is not a whole number. {self.help_text}", code="invalid"
            ) from error


def _range_messages(unit: str, low: Decimal | int, high: Decimal | int) -> dict[str, str]:
    """Return error messages for a missing, infinite or out-of-range number that
    name the value typed and the range from `low` to `high`."""
    allowed = f"enter a number from {low} to {high}"
    return {
        "required": f"{unit} is missing; {allowed}.",
        # Django raises this from validate() with the value for NaN and infinity.
        "invalid": f"{unit} “%(value)s” is not a finite number; {allowed}.",
        "min_value": f"{unit} %(value)s is too small; the minimum is %(limit_value)s.",
        "max_value": f"{unit} %(value)s is too large; the maximum is %(limit_value)s.",
        "max_digits": f"{unit} %(value)s has too many digits; {allowed}.",
        "max_decimal_places": f"{unit} %(value)s has too many decimal places; use at most %(max)s.",
        "max_whole_digits": f"{unit} %(value)s has too many digits before the decimal point; "
        f"{allowed}.",
    }


class EventForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        help_text="For example “Teaching reading in Key Stage 3”. At most 200 characters.",
        error_messages={"required": "The title is missing. Enter it."},
    )
    kind = forms.ChoiceField(choices=CpdKind.choices)
    subject = forms.ModelChoiceField(
        queryset=Subject.objects.none(),
        required=False,
        empty_label="Any subject",
        help_text="Staff who teach this subject find the event under it.",
        error_messages={"invalid_choice": "Choose a subject from the list, or any subject."},
    )
    host_academy = forms.ModelChoiceField(
        label="Host academy",
        queryset=Academy.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Choose a host academy from the list."},
    )
    provider = forms.CharField(
        max_length=200,
        required=False,
        help_text="Who runs it, for example a maths hub or a named leader.",
    )
    venue = forms.CharField(max_length=200, required=False, help_text="Where it takes place.")
    starts_on = DayField(
        label="Start date",
        input_formats=DATE_FORMATS,
        help_text="dd/mm/yyyy.",
        error_messages={"required": "The start date is missing. Enter it as dd/mm/yyyy."},
    )
    ends_on = DayField(
        label="End date",
        input_formats=DATE_FORMATS,
        required=False,
        help_text="dd/mm/yyyy, on or after the start date. Leave it empty for a one-day "
        "event, and the start date is used.",
    )
    hours = NamedDecimalField(
        min_value=Decimal("0.1"),
        max_value=MAX_EVENT_HOURS,
        max_digits=4,
        decimal_places=1,
        help_text=(
            "Hours of CPD each attendee gains, to one decimal place, such as 2.5, "
            f"up to {MAX_EVENT_HOURS}."
        ),
        unit="Hours",
        error_messages=_range_messages("Hours", Decimal("0.1"), MAX_EVENT_HOURS),
    )
    cost_per_place = NamedDecimalField(
        label="Cost per place (£)",
        min_value=Decimal("0"),
        max_value=MAX_COST_PER_PLACE,
        max_digits=8,
        decimal_places=2,
        initial=Decimal("0"),
        help_text="In pounds, such as 45.00. 0 for a free event.",
        unit="Cost per place",
        error_messages=_range_messages("Cost per place", Decimal("0"), MAX_COST_PER_PLACE),
    )
    places = NamedIntegerField(
        min_value=1,
        max_value=MAX_PLACES,
        help_text=f"Places offered, 1 to {MAX_PLACES}.",
        error_messages=_range_messages("Places", 1, MAX_PLACES),
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=4000,
        help_text="Who it is for and what it covers. At most 4000 characters.",
    )

    def __init__(
        self,
        *args: Any,
        subjects: QuerySet[Subject],
        academies: list[Academy],
        trust_wide: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        subject_field: Any = self.fields["subject"]
        subject_field.queryset = subjects
        host_field: Any = self.fields["host_academy"]
        host_field.queryset = Academy.objects.filter(pk__in=[a.pk for a in academies]).order_by(
            "name"
        )
        # Only those who run the whole offer may leave the host empty.
        host_field.required = not trust_wide
        host_field.empty_label = "None: a trust event" if trust_wide else None
        host_field.help_text = (
            "The academy that hosts and runs the event."
            if not trust_wide
            else "The academy that hosts it, or none for an event the trust runs."
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("ends_on") is None and cleaned.get("starts_on") is not None:
            cleaned["ends_on"] = cleaned["starts_on"]
        return cleaned


ATTENDANCE_CHOICES = [
    (CpdBooking.Attendance.ATTENDED, "Attended"),
    (CpdBooking.Attendance.ABSENT, "Did not attend"),
    (CpdBooking.Attendance.UNKNOWN, "Not marked"),
]
