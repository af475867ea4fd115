"""The targets grid: one input per measure for the trust and for each academy.

Each input is named `target-<measure>-<column>`, where the column is
"trust" or an academy's id, and carries a hidden `was-...` twin holding the
value shown when the page was opened. Only inputs whose value differs from
their twin are saved, and a target someone else changed in the meantime is
reported instead of being overwritten.
"""

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from academies.models import Academy

from .models import Measure
from .targets import TargetBook, TargetKey, measure_error, parse_value

TRUST_COLUMN = "trust"
# Any submitted key that looks like a grid input, so unknown measures and
# academies are reported rather than ignored.
INPUT_NAME = re.compile(r"^target-(?P<measure>[^-]*)-(?P<column>.*)$")


def input_name(measure: str, academy_id: int | None) -> str:
    column = TRUST_COLUMN if academy_id is None else str(academy_id)
    return f"target-{measure}-{column}"


def was_name(measure: str, academy_id: int | None) -> str:
    return "was-" + input_name(measure, academy_id)


def format_target(value: Decimal | None) -> str:
    return "" if value is None else str(value)


class TargetGridForm(forms.Form):
    """The targets of one academic year for the trust and its academies."""

    def __init__(
        self,
        data: Any = None,
        *,
        academies: Sequence[Academy],
        book: TargetBook,
    ) -> None:
        super().__init__(data)
        self.academies = list(academies)
        self.book = book
        self.columns: list[tuple[int | None, str]] = [(None, "Trust-wide")] + [
            (a.pk, a.name) for a in self.academies
        ]
        for measure in Measure:
            for academy_id, column_label in self.columns:
                name = input_name(measure.value, academy_id)
                current = book.values.get((measure.value, academy_id))
                self.fields[name] = forms.CharField(
                    label=f"{measure.label}, {column_label}",
                    required=False,
                    max_length=20,
                    initial=format_target(current),
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "size": "6"}),
                )
                self.fields[name].measure = measure.value  # type: ignore[attr-defined]
                self.fields[name].academy_id = academy_id  # type: ignore[attr-defined]
                self.fields[was_name(measure.value, academy_id)] = forms.CharField(
                    required=False, initial=format_target(current), widget=forms.HiddenInput
                )

    def rows(self) -> list[tuple[Measure, list[forms.BoundField]]]:
        """Return each measure with its inputs, trust-wide first."""
        return [
            (
                measure,
                [self[input_name(measure.value, academy_id)] for academy_id, _ in self.columns],
            )
            for measure in Measure
        ]

    def mark_invalid(self) -> None:
        """Point each rejected input at its message, for screen readers. The
        template gives the message the id `<input id>-error`."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].id_for_label}-error"

    def hidden_previous(self) -> list[forms.BoundField]:
        return [field for field in self if field.name.startswith("was-")]

    def _unknown_inputs(self) -> None:
        """Report submitted grid inputs for a measure or academy not on the page."""
        academy_ids = {str(a.pk) for a in self.academies}
        for key in self.data:
            if key in self.fields:
                continue
            match = INPUT_NAME.match(key)
            if match is None:
                continue
            measure, column = match["measure"], match["column"]
            error = measure_error(measure)
            if error:
                self.add_error(None, f"Input '{key[:60]}': {error}")
            elif column != TRUST_COLUMN and column not in academy_ids:
                allowed = ", ".join(sorted(academy_ids, key=int)) or "none"
                self.add_error(
                    None,
                    f"Input '{key[:60]}': academy id '{column[:20]}' is not an academy "
                    f"of this trust; use 'trust' or one of: {allowed}.",
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._unknown_inputs()
        self.changes: dict[TargetKey, Decimal | None] = {}
        self.previous: dict[TargetKey, Decimal | None] = {}
        for name, form_field in self.fields.items():
            if name.startswith("was-") or name not in cleaned:
                continue
            measure = form_field.measure  # type: ignore[attr-defined]
            academy_id = form_field.academy_id  # type: ignore[attr-defined]
            text = cleaned[name].strip()
            before = (cleaned.get(was_name(measure, academy_id)) or "").strip()
            try:
                value = parse_value(measure, text, name) if text else None
            except ValidationError as error:
                for message in error.message_dict[name]:
                    self.add_error(name, message)
                continue
            if text == before:
                continue
            try:
                previous = parse_value(measure, before, name) if before else None
            except ValidationError:
                # The hidden twin was altered; fall back to the stored value.
                previous = self.book.values.get((measure, academy_id))
            if value == previous:
                continue
            self.changes[(measure, academy_id)] = value
            self.previous[(measure, academy_id)] = previous
        return cleaned


class YearForm(forms.Form):
    """The academic year chosen at the top of the page (?year=<id>)."""

    year = forms.TypedChoiceField(label="Academic year", coerce=int, choices=())

    def __init__(self, data: Any, *, years: Sequence[Any]) -> None:
        super().__init__(data)
        field = self.fields["year"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(y.pk, y.name) for y in years]
        allowed = ", ".join(f"{y.pk} ({y.name})" for y in years) or "none"
        field.error_messages["invalid_choice"] = (
            f"Academic year '%(value)s' is not valid; use one of: {allowed}."
        )
