"""Forms of cycle administration: opening a cycle, the trust's deadlines,
an academy's own deadlines and opening appraisals for all staff."""

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from academies.models import AcademicYear, Academy
from attendance.staff_forms import DATE_FORMATS, DATE_HELP, DayField

from .deadlines import STAGES, cycle_window
from .models import Stage, Track

DeadlineKey = tuple[str, str]


def deadline_field_name(track: str, stage: str) -> str:
    return f"{track}_{stage}"


def deadline_keys() -> list[DeadlineKey]:
    """Return every (track, stage) pair, track by track and stages in order."""
    return [(track.value, stage) for track in Track for stage in STAGES]


def _describe(form: forms.Form) -> None:
    """Point each input at its help text and error message for screen readers;
    the template builds those ids from the field's id."""
    for name, form_field in form.fields.items():
        field_id = form[name].id_for_label
        described = []
        if form_field.help_text:
            described.append(f"{field_id}-help")
        if form.is_bound and name in form.errors:
            described.append(f"{field_id}-error")
            form_field.widget.attrs["aria-invalid"] = "true"
        if described:
            form_field.widget.attrs["aria-describedby"] = " ".join(described)


class DescribedForm(forms.Form):
    def link_descriptions(self) -> None:
        _describe(self)

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's messages next to the fields they name, the rest above the form."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)


def pay_recommendation_field() -> forms.BooleanField:
    return forms.BooleanField(
        label="Final reviews record a pay recommendation",
        required=False,
        help_text="Untick when the trust's pay policy does not link pay to appraisal.",
    )


class CycleCreateForm(DescribedForm):
    academic_year = forms.ModelChoiceField(
        label="Academic year",
        queryset=AcademicYear.objects.none(),
        empty_label="Choose an academic year",
        help_text="Only academic years without an appraisal cycle are listed.",
    )

    uses_pay_recommendation = pay_recommendation_field()

    def __init__(self, *args: Any, years: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"uses_pay_recommendation": True})
        super().__init__(*args, **kwargs)
        field = self.fields["academic_year"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = years
        field.error_messages["required"] = "Choose the academic year the cycle is for."
        field.error_messages["invalid_choice"] = (
            "That academic year is not in the list: it has a cycle already or is not recorded."
        )


class CycleSettingsForm(DescribedForm):
    uses_pay_recommendation = pay_recommendation_field()


class DeadlinesForm(DescribedForm):
    """One dd/mm/yyyy date per track and stage.

    With `fallback` (the trust's dates) every field is optional, and a blank
    one means the trust's date. The form checks the date format only.
    appraisal.services.deadlines_set checks the cycle's window and the order
    of the stages, and its errors are shown next to these fields.
    """

    def __init__(
        self,
        *args: Any,
        academic_year: AcademicYear,
        fallback: dict[DeadlineKey, datetime.date] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fallback = fallback
        first, last = cycle_window(academic_year)
        for track, stage in deadline_keys():
            help_text = DATE_HELP
            if fallback is not None:
                trust_date = fallback.get((track, stage))
                shown = trust_date.strftime("%d/%m/%Y") if trust_date else "none set"
                help_text += f" Leave empty to use the trust's date ({shown})."
            label = Stage(stage).label
            field = DayField(
                label=f"{label} ({Track(track).label.lower()})",
                input_formats=DATE_FORMATS,
                required=fallback is None,
                help_text=help_text,
            )
            field.error_messages["required"] = (
                f"The date for “{label}” is missing; enter one from "
                f"{first:%d/%m/%Y} to {last:%d/%m/%Y}."
            )
            field.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
            self.fields[deadline_field_name(track, stage)] = field

    def track_fields(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Return the bound fields grouped by track, for one fieldset each."""
        return [
            (
                track.label,
                [self[deadline_field_name(track.value, stage)] for stage in STAGES],
            )
            for track in Track
        ]

    def dates(self) -> dict[DeadlineKey, datetime.date | None]:
        """Return the dates by (track, stage); a blank field gives None, which
        removes an academy's own date."""
        return {
            (track, stage): self.cleaned_data.get(deadline_field_name(track, stage))
            for track, stage in deadline_keys()
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Show deadlines_set's messages, keyed "track.stage", next to their fields."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for key, messages in error.message_dict.items():
            name = key.replace(".", "_")
            self.add_error(name if name in self.fields else None, messages)

    @staticmethod
    def initial_from(dates: dict[DeadlineKey, datetime.date]) -> dict[str, datetime.date]:
        return {deadline_field_name(track, stage): due for (track, stage), due in dates.items()}


class OpenAllForm(DescribedForm):
    academy = forms.ModelChoiceField(
        label="Academy",
        queryset=Academy.objects.none(),
        required=False,
        help_text="Appraisals are opened for the staff in post at this academy only.",
    )

    def __init__(self, *args: Any, academies: Any, whole_trust: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["academy"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = academies
        field.required = not whole_trust
        field.empty_label = "Every academy and the central team" if whole_trust else None
        if whole_trust:
            field.help_text = "Leave as every academy to open appraisals for all staff in post."
        field.error_messages["invalid_choice"] = (
            "That academy is not one you may open appraisals for; choose one from the list."
        )
        field.error_messages["required"] = "Choose the academy to open appraisals for."
