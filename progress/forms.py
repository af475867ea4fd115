"""Forms of the progress pages: reading a submitted grade grid and creating
an assessment point."""

import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from academies.models import AcademicYear, YearGroup
from pupils.models import Pupil

from .models import AssessmentPoint
from .services import GradeInput

VERSION_PATTERN = re.compile(r"[0-9]{1,9}")
FIELD_PATTERN = re.compile(r"(?:grade|seen|remove)_([0-9]{1,12})")
MAX_GRADE_TEXT = 20
MAX_REASON = 300
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


@dataclass
class TypedGrade:
    """The text typed for one pupil, kept to refill the grid after an error."""

    text: str = ""
    seen: str = ""
    remove: bool = False


@dataclass
class GridSubmission:
    entries: list[GradeInput] = field(default_factory=list)
    typed: dict[int, TypedGrade] = field(default_factory=dict)
    reason: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    # Pupil ids named in the form that are not in the class.
    strangers: set[int] = field(default_factory=set)

    def add_error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def read_grid(data: QueryDict, pupils: list[Pupil], *, resolving: bool = False) -> GridSubmission:
    """Read a submitted grid into one GradeInput per pupil in the class.

    Fields naming a pupil who is not in the class are collected in
    `strangers` and never read. When `resolving` conflicts, only the pupils
    whose choice is "mine" are read.
    """
    submission = GridSubmission(reason=" ".join(data.get("reason", "").split()))
    if len(submission.reason) > MAX_REASON:
        submission.add_error(
            "reason", f"The reason has {len(submission.reason)} characters; at most {MAX_REASON}."
        )
    in_class = {p.pk for p in pupils}
    for key in data:
        match = FIELD_PATTERN.fullmatch(key)
        if match and int(match.group(1)) not in in_class:
            submission.strangers.add(int(match.group(1)))

    for pupil in pupils:
        typed = TypedGrade(
            text=data.get(f"grade_{pupil.pk}", "").strip(),
            seen=data.get(f"seen_{pupil.pk}", "").strip(),
            remove=data.get(f"remove_{pupil.pk}", "") == "1",
        )
        submission.typed[pupil.pk] = typed
        key = f"pupil_{pupil.pk}"
        if resolving and data.get(f"choice_{pupil.pk}", "") != "mine":
            continue
        if len(typed.text) > MAX_GRADE_TEXT:
            submission.add_error(
                key,
                f"The grade for {pupil.display_name} has {len(typed.text)} characters; "
                "type one grade of the scale.",
            )
            continue
        seen: int | None = None
        if typed.seen:
            if not VERSION_PATTERN.fullmatch(typed.seen):
                submission.add_error(key, "The grid form is damaged; reload the page.")
                continue
            seen = int(typed.seen)
        if not typed.text and not typed.remove:
            continue
        submission.entries.append(
            GradeInput(pupil_id=pupil.pk, text=typed.text, seen_version=seen, remove=typed.remove)
        )
    return submission


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
                f"Date “{shown}” is not a date; enter it as dd/mm/yyyy, for example 27/11/2026.",
                code="invalid",
            ) from error


class YearGroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}, {obj.academy.name}"


class AssessmentPointForm(forms.Form):
    year_group = YearGroupChoiceField(
        queryset=YearGroup.objects.none(),
        empty_label="Choose a year group",
        error_messages={
            "invalid_choice": "That year group is not one whose assessment points you manage; "
            "choose one from the list."
        },
    )
    academic_year = forms.ModelChoiceField(
        queryset=AcademicYear.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose an academic year from the list."},
    )
    name = forms.CharField(
        max_length=60, help_text="For example “Autumn 2” or “Year 11 mocks”. At most 60 characters."
    )
    date = DayField(
        input_formats=DATE_FORMATS,
        help_text="The day the grades describe, as dd/mm/yyyy, inside the academic year.",
    )
    kind = forms.ChoiceField(choices=AssessmentPoint.Kind.choices)

    def __init__(
        self,
        *args: Any,
        year_groups: QuerySet[YearGroup],
        academic_years: QuerySet[AcademicYear],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year_group"].queryset = year_groups  # type: ignore[attr-defined]
        self.fields["academic_year"].queryset = academic_years  # type: ignore[attr-defined]
