"""The form that logs a contact with a pupil's parents or carers."""

import datetime
from typing import Any

from django import forms

from attendance.staff_forms import DATE_FORMATS, DayField
from behaviour.forms import TIME_FORMATS, LabelledErrorsMixin, TimeOfDayField
from pupils.models import Contact
from staff.models import StaffMember
from trust import clock

from .models import ParentContact
from .parents import MAX_SUMMARY

DATE_HELP = "As dd/mm/yyyy, for example 04/12/2026."
TIME_HELP = "24-hour clock, as hh:mm, for example 13:45."


def contact_label(contact: Contact) -> str:
    responsibility = "" if contact.parental_responsibility else ", no parental responsibility"
    return f"{contact.name} ({contact.relationship}{responsibility})"


class ParentContactForm(LabelledErrorsMixin, forms.Form):
    method = forms.ChoiceField(label="How", choices=ParentContact.Method.choices)
    occurred_date = DayField(label="Date", input_formats=DATE_FORMATS, help_text=DATE_HELP)
    occurred_time = TimeOfDayField(label="Time", input_formats=TIME_FORMATS, help_text=TIME_HELP)
    contact = forms.ChoiceField(
        label="Parent or carer",
        required=False,
        help_text="Leave as “Not named” for a meeting with both parents or a general letter.",
    )
    staff = forms.ChoiceField(label="Staff member")
    summary = forms.CharField(
        label="Summary",
        max_length=MAX_SUMMARY,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was discussed or sent, and any next step agreed.",
    )

    def __init__(
        self,
        *args: Any,
        contacts: list[Contact],
        staff: list[StaffMember],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.name_required_errors()
        methods = ", ".join(str(label).lower() for label in ParentContact.Method.labels)
        self.fields["method"].error_messages["invalid_choice"] = (
            f"How “%(value)s” is not a method of contact; choose {methods}."
        )
        self.fields["contact"].error_messages["invalid_choice"] = (
            "Parent or carer %(value)s is not one of this pupil's contacts; choose from the list."
        )
        self.fields["staff"].error_messages["invalid_choice"] = (
            "Staff member %(value)s is not in post at the pupil's academy; choose from the list."
        )
        self.fields["summary"].error_messages["max_length"] = (
            f"Summary is too long; use at most {MAX_SUMMARY} characters."
        )
        self.fields["contact"].choices = [  # type: ignore[attr-defined]
            ("", "Not named"),
            *((str(c.pk), contact_label(c)) for c in contacts),
        ]
        self.fields["staff"].choices = [  # type: ignore[attr-defined]
            ("", "Choose a staff member"),
            *((str(m.pk), f"{m.full_name}, {m.job_title}") for m in staff),
        ]
        for name in ("occurred_date", "occurred_time"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def occurred_at(self) -> datetime.datetime:
        return datetime.datetime.combine(
            self.cleaned_data["occurred_date"], self.cleaned_data["occurred_time"]
        ).replace(tzinfo=clock.LONDON)

    def contact_id(self) -> int | None:
        raw = self.cleaned_data.get("contact") or ""
        return int(raw) if raw else None

    def staff_id(self) -> int | None:
        raw = self.cleaned_data.get("staff") or ""
        return int(raw) if raw else None
