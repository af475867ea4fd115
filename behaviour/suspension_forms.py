"""Forms of the suspension pages: recording, the details recorded
afterwards, the last day on roll of a permanent exclusion and withdrawal."""

from typing import Any

from django import forms

from attendance.staff_forms import DATE_FORMATS, DATE_HELP, DayField
from staff.models import StaffMember

from .codes import REASON_CHOICES
from .models import Suspension

SESSION_CHOICES = [("AM", "Morning (AM)"), ("PM", "Afternoon (PM)")]
REASON_BLANK = [("", "None")]


def _date_field(label: str, *, required: bool = False, help_text: str = DATE_HELP) -> DayField:
    field = DayField(
        label=label, input_formats=DATE_FORMATS, required=required, help_text=help_text
    )
    field.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
    return field


class SuspensionForm(forms.Form):
    """A new suspension, lunchtime suspension or permanent exclusion."""

    kind = forms.ChoiceField(choices=Suspension.Kind.choices, initial=Suspension.Kind.SUSPENSION)
    start_date = _date_field("First day", required=True)
    start_session = forms.ChoiceField(
        label="First session",
        choices=SESSION_CHOICES,
        initial="AM",
        help_text="Afternoon for a suspension that starts at lunchtime. Not used for lunchtimes.",
    )
    sessions = forms.IntegerField(
        label="Length in sessions or lunchtimes",
        required=False,
        min_value=1,
        max_value=90,
        help_text="A school day is 2 sessions; a lunchtime suspension counts lunchtimes. "
        "Give this or the last day, not both. Leave empty for a permanent exclusion.",
    )
    end_date = _date_field(
        "Last day",
        help_text=DATE_HELP + " For a permanent exclusion, the last day on roll if known.",
    )
    reason_1 = forms.ChoiceField(
        label="Reason 1", choices=[("", "Choose a reason"), *REASON_CHOICES]
    )
    reason_2 = forms.ChoiceField(
        label="Reason 2", choices=REASON_BLANK + REASON_CHOICES, required=False
    )
    reason_3 = forms.ChoiceField(
        label="Reason 3", choices=REASON_BLANK + REASON_CHOICES, required=False
    )
    decided_by = forms.ModelChoiceField(
        label="Decided by",
        queryset=StaffMember.objects.none(),
        empty_label="Choose the headteacher",
        help_text="Only the headteacher or acting headteacher may suspend or exclude.",
    )
    decided_on = _date_field(
        "Decided on", help_text=DATE_HELP + " Empty: today, or the first day if that is earlier."
    )
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    alternative_provision = forms.BooleanField(
        label="The pupil attends alternative provision (no E marks are written)",
        required=False,
    )
    alternative_provision_details = forms.CharField(
        label="Alternative provision", max_length=300, required=False
    )
    misses_public_exam = forms.BooleanField(
        label="The pupil misses a public exam or national curriculum test", required=False
    )
    parents_notified_on = _date_field("Parents told on")

    def __init__(self, *args: Any, headteachers: list[StaffMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["decided_by"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = StaffMember.objects.filter(pk__in=[h.pk for h in headteachers])
        if len(headteachers) == 1:
            field.initial = headteachers[0].pk

    def reasons(self) -> list[str]:
        data = self.cleaned_data
        return [data[name] for name in ("reason_1", "reason_2", "reason_3") if data.get(name)]


class SuspensionDetailsForm(forms.Form):
    """Notifications, reintegration and provision details, recorded after the decision."""

    parents_notified_on = _date_field("Parents told on")
    governors_notified_on = _date_field("Governing board told on")
    local_authority_notified_on = _date_field("Local authority told on")
    reintegration_meeting_on = _date_field("Reintegration meeting on")
    reintegration_notes = forms.CharField(
        label="Reintegration notes", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    alternative_provision_details = forms.CharField(
        label="Alternative provision", max_length=300, required=False
    )


class PermanentEndForm(forms.Form):
    end_date = _date_field("Last day on roll", required=True)


class WithdrawForm(forms.Form):
    withdrawn_reason = forms.CharField(
        label="Reason for withdrawal",
        max_length=300,
        help_text="For example 'Overturned by the governing board'.",
    )
