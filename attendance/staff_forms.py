"""The form for recording or changing a spell of staff absence."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .models import StaffAbsence
from .staff_absence import MAX_NOTES, SpellInput

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
            shown = str(value)[:40]
            raise ValidationError(
                f"“{shown}” is not a date; enter it as dd/mm/yyyy, for example 07/12/2026.",
                code="invalid",
            ) from error


class StaffAbsenceForm(forms.Form):
    start_date = DayField(input_formats=DATE_FORMATS, help_text=DATE_HELP)
    start_part = forms.ChoiceField(
        label="First day",
        choices=StaffAbsence.Part.choices,
        initial=StaffAbsence.Part.FULL,
        help_text="Afternoon only if the person went home at lunchtime.",
    )
    end_date = DayField(
        input_formats=DATE_FORMATS, help_text=DATE_HELP + " The same as the start for one day."
    )
    end_part = forms.ChoiceField(
        label="Last day",
        choices=StaffAbsence.Part.choices,
        initial=StaffAbsence.Part.FULL,
        help_text="Morning only if the person came back after lunch.",
    )
    reason = forms.ChoiceField(choices=StaffAbsence.Reason.choices)
    sickness_category = forms.ChoiceField(
        choices=[("", "Not sickness"), *StaffAbsence.SicknessCategory.choices],
        required=False,
        help_text="Required when the reason is sickness.",
    )
    cover_needed = forms.BooleanField(required=False, label="Cover needed")
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=MAX_NOTES
    )

    def __init__(self, *args: Any, own_sickness_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.own_sickness_only = own_sickness_only
        for name, form_field in self.fields.items():
            label = form_field.label or name.replace("_", " ")
            form_field.error_messages["required"] = f"The {label.lower()} is missing."
        if own_sickness_only:
            reason = self.fields["reason"]
            assert isinstance(reason, forms.ChoiceField)
            reason.choices = [(StaffAbsence.Reason.SICKNESS, "Sickness")]
            reason.help_text = (
                "You record your own sickness; your line manager records other absence."
            )
        for name in ("start_date", "end_date"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def link_descriptions(self) -> None:
        """Point each input at its help text and error message, whose ids
        the template builds from the field's id, for screen readers."""
        for name, form_field in self.fields.items():
            field_id = self[name].id_for_label
            described = []
            if form_field.help_text:
                described.append(f"{field_id}-help")
            if self.is_bound and name in self.errors:
                described.append(f"{field_id}-error")
                form_field.widget.attrs["aria-invalid"] = "true"
            if described:
                form_field.widget.attrs["aria-describedby"] = " ".join(described)

    @classmethod
    def initial_from(cls, absence: StaffAbsence) -> dict[str, Any]:
        return {
            "start_date": absence.start_date,
            "start_part": absence.start_part,
            "end_date": absence.end_date,
            "end_part": absence.end_part,
            "reason": absence.reason,
            "sickness_category": absence.sickness_category,
            "cover_needed": absence.cover_needed,
            "notes": absence.notes,
        }

    def spell(self) -> SpellInput:
        data = self.cleaned_data
        return SpellInput(
            start_date=data["start_date"],
            start_part=data["start_part"],
            end_date=data["end_date"],
            end_part=data["end_part"],
            reason=data["reason"],
            sickness_category=data["sickness_category"],
            cover_needed=data["cover_needed"],
            notes=data["notes"].strip(),
        )

    def add_service_errors(self, error: ValidationError) -> None:
        """Show the service's messages next to the fields they name."""
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)
