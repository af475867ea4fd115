"""Forms of the CPD portfolio: an entry, and an evidence upload.

The forms check only what the browser sends: a date, a number, a choice.
The portfolio services check ranges and ownership, and each of their
messages is shown next to the field it names.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .models import CpdKind, DevelopmentNeed, Objective, Standard
from .portfolio_checks import (
    MAX_COST,
    MAX_HOURS,
    MAX_PROVIDER,
    MAX_REFLECTION,
    MAX_TITLE,
    is_plain_number,
)

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DATE_HELP = "As dd/mm/yyyy, for example 07/12/2026."


class DayField(forms.DateField):
    """A date typed as dd/mm/yyyy, whose error repeats what was typed."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValidationError as error:
            if getattr(error, "code", "") != "invalid":
                raise
            raise ValidationError(
                f"“{str(value)[:40]}” is not a date; enter it as dd/mm/yyyy, "
                "for example 07/12/2026.",
                code="invalid",
            ) from error


class AmountField(forms.DecimalField):
    """A number whose error repeats what was typed; the range is the service's to check."""

    def __init__(self, *, unit: str, maximum: Decimal, **kwargs: Any) -> None:
        self.unit = unit
        self.maximum = maximum
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> Any:
        typed = value
        if isinstance(value, str):
            value = value.strip().replace(",", "").removeprefix("£")
            if value and not is_plain_number(value):
                raise ValidationError(self._not_a_number(typed), code="invalid")
        try:
            return super().to_python(value)
        except ValidationError as error:
            if getattr(error, "code", "") != "invalid":
                raise
            raise ValidationError(self._not_a_number(typed), code="invalid") from error

    def _not_a_number(self, typed: Any) -> str:
        return (
            f"“{str(typed).strip()[:40]}” is not a number; enter {self.unit}, "
            f"from 0 to {self.maximum:,}."
        )


class ObjectiveChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.appraisal.cycle.academic_year.name}: {obj.title}"


class StandardChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.title}"


class NeedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.appraisal.cycle.academic_year.name}: {obj.description}"


class EntryForm(forms.Form):
    kind = forms.ChoiceField(choices=CpdKind.choices)
    title = forms.CharField(max_length=MAX_TITLE, help_text="What the course or activity was.")
    provider = forms.CharField(
        max_length=MAX_PROVIDER,
        required=False,
        help_text="Who ran it, such as the trust, a teaching school hub or a university.",
    )
    started_on = DayField(label="Start date", input_formats=DATE_FORMATS, help_text=DATE_HELP)
    ended_on = DayField(
        label="End date",
        input_formats=DATE_FORMATS,
        required=False,
        help_text=DATE_HELP + " Leave empty for one day or for something still going on.",
    )
    hours = AmountField(
        unit="hours as a number such as 6 or 2.5",
        maximum=MAX_HOURS,
        help_text=f"Hours of CPD, from 0 to {MAX_HOURS:,}, to one decimal place.",
    )
    cost = AmountField(
        label="Cost in pounds",
        unit="pounds as a number such as 150 or 89.50",
        maximum=MAX_COST,
        help_text=f"In pounds, from 0 to {MAX_COST:,}, including fees and travel.",
    )
    reflection = forms.CharField(
        label="Reflection on impact",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=MAX_REFLECTION,
        help_text="What changed in your practice, and the effect on pupils or colleagues.",
    )
    objectives = ObjectiveChoiceField(
        queryset=Objective.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Appraisal objectives it supports",
    )
    standards = StandardChoiceField(
        queryset=Standard.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Standards it relates to",
    )
    development_need = NeedChoiceField(
        queryset=DevelopmentNeed.objects.none(),
        required=False,
        empty_label="None",
        label="Development need it addresses",
        help_text="A need from an appraisal review; linking one removes it from the suggestions.",
    )

    def __init__(
        self,
        *args: Any,
        objectives: Any,
        standards: Any,
        needs: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["objectives"].queryset = objectives  # type: ignore[attr-defined]
        self.fields["standards"].queryset = standards  # type: ignore[attr-defined]
        self.fields["development_need"].queryset = needs  # type: ignore[attr-defined]
        for name, form_field in self.fields.items():
            label = str(form_field.label or name.replace("_", " "))
            form_field.error_messages["required"] = f"The {label.lower()} is missing."
            form_field.error_messages["invalid_choice"] = (
                f"That {label.lower()} is not one you can choose here; pick one from the list."
            )
            form_field.error_messages["invalid_pk_value"] = (
                f"That {label.lower()} is not one you can choose here; pick one from the list."
            )
        for name in ("started_on", "ended_on"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
        for name in ("hours", "cost"):
            self.fields[name].widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def link_descriptions(self) -> None:
        """Point each input at its help text and error message, whose ids the
        template builds from the field's id, for screen readers."""
        for name, form_field in self.fields.items():
            if isinstance(form_field.widget, forms.CheckboxSelectMultiple):
                # The template's fieldset carries these, because the
                # checkboxes have no single id.
                continue
            field_id = self[name].id_for_label
            described = []
            if form_field.help_text:
                described.append(f"{field_id}-help")
            if self.is_bound and name in self.errors:
                described.append(f"{field_id}-error")
                form_field.widget.attrs["aria-invalid"] = "true"
            if described:
                form_field.widget.attrs["aria-describedby"] = " ".join(described)

    def entry_fields(self) -> dict[str, Any]:
        """Return the cleaned values as keyword arguments of portfolio.entry_save."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "title": data["title"],
            "provider": data["provider"],
            "started_on": data["started_on"],
            "ended_on": data["ended_on"],
            "hours": data["hours"] if data["hours"] is not None else Decimal("0"),
            "cost": data["cost"] if data["cost"] is not None else Decimal("0"),
            "reflection": data["reflection"],
            "objectives": list(data["objectives"]),
            "standards": list(data["standards"]),
            "development_need": data["development_need"],
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Show the service's messages next to the fields they name."""
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label="Evidence file",
        allow_empty_file=True,
        error_messages={
            "required": "No file was chosen; choose a file to upload.",
            "missing": "No file was chosen; choose a file to upload.",
        },
    )

    def add_service_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)
