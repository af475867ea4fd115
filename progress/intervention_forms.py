"""Forms of the intervention pages: opening or editing an intervention and
recording its review. The services check the values; these forms read them."""

import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from pupils.models import Pupil
from staff.models import StaffMember

from .forms import DATE_FORMATS, DayField
from .models import Intervention, Qualification

GRADE_FIELD = re.compile(r"grade_([0-9]{1,12})")
MAX_GRADE_TEXT = 20


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        job = f", {obj.job_title}" if obj.job_title else ""
        return f"{obj.full_name}{job}"


class QualificationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.subject.name}: {obj.name}"


class InterventionForm(forms.Form):
    """The details of an intervention. With `pupils`, also the pupils to open it for."""

    kind = forms.ChoiceField(choices=Intervention.Kind.choices)
    title = forms.CharField(
        max_length=120,
        help_text="For example “Year 10 maths small-group tutoring”. At most 120 characters.",
    )
    qualification = QualificationChoiceField(
        queryset=Qualification.objects.none(),
        required=False,
        empty_label="None: support across subjects",
        help_text="The grade and TMG in it at the start are recorded, to measure the impact.",
        error_messages={"invalid_choice": "Choose a qualification from the list, or none."},
    )
    owner = OwnerChoiceField(
        queryset=StaffMember.objects.none(),
        empty_label=None,
        help_text="The member of staff who leads it and reviews it.",
        error_messages={"invalid_choice": "Choose the owner from the staff listed."},
    )
    start_date = DayField(input_formats=DATE_FORMATS, help_text="As dd/mm/yyyy.")
    review_date = DayField(
        input_formats=DATE_FORMATS, help_text="As dd/mm/yyyy, on or after the start date."
    )
    status = forms.ChoiceField(choices=[])
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=4000,
        help_text="What will happen, how often and with whom. At most 4000 characters.",
    )

    def __init__(
        self,
        *args: Any,
        owners: QuerySet[StaffMember],
        qualifications: QuerySet[Qualification] | None = None,
        statuses: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]
        if qualifications is None:
            del self.fields["qualification"]
        else:
            self.fields["qualification"].queryset = qualifications  # type: ignore[attr-defined]
        self.fields["status"].choices = statuses  # type: ignore[attr-defined]


def opening_statuses() -> list[tuple[str, str]]:
    return [
        (Intervention.Status.ACTIVE, str(Intervention.Status.ACTIVE.label)),
        (Intervention.Status.PLANNED, str(Intervention.Status.PLANNED.label)),
    ]


def editing_statuses(intervention: Intervention) -> list[tuple[str, str]]:
    stopped = (Intervention.Status.STOPPED.value, str(Intervention.Status.STOPPED.label))
    choices = [*opening_statuses(), stopped]
    if intervention.status == Intervention.Status.REVIEWED:
        choices.append((Intervention.Status.REVIEWED, str(Intervention.Status.REVIEWED.label)))
    return choices


class ReviewForm(forms.Form):
    reviewed_on = DayField(
        label="Review date", input_formats=DATE_FORMATS, help_text="As dd/mm/yyyy, up to today."
    )
    outcome = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
        help_text="What happened, and what comes next. At most 4000 characters.",
    )


def read_typed_grades(data: QueryDict, pupils: list[Pupil]) -> tuple[dict[int, str], set[int]]:
    """Return the grade typed for each pupil of the review form, and the ids of
    fields naming a pupil who is not in the intervention."""
    in_intervention = {p.pk for p in pupils}
    typed: dict[int, str] = {}
    strangers: set[int] = set()
    for key in data:
        match = GRADE_FIELD.fullmatch(key)
        if not match:
            continue
        pupil_id = int(match.group(1))
        if pupil_id not in in_intervention:
            strangers.add(pupil_id)
            continue
        typed[pupil_id] = " ".join(data.get(key, "").split())[:MAX_GRADE_TEXT]
    return typed, strangers
