"""Forms of the TMG pages: estimate table upload, generation and a TMG set by hand."""

from typing import Any

from django import forms
from django.db.models import QuerySet

from pupils.forms import ImportFileField

from .models import EstimateTable, Qualification
from .targets import MAX_TABLE_YEAR, MIN_TABLE_YEAR


class EstimateUploadForm(forms.Form):
    name = forms.CharField(
        max_length=120,
        help_text="For example “DfE 2024 estimates” or “Trust aspirational table”.",
        error_messages={"required": "Name is missing; enter a name for the table."},
    )
    year = forms.IntegerField(
        min_value=MIN_TABLE_YEAR,
        max_value=MAX_TABLE_YEAR,
        help_text="The cohort year the estimates describe, such as 2024.",
        error_messages={
            "required": "Year is missing; enter the cohort year, such as 2024.",
            "invalid": "Year must be a whole number, such as 2024.",
        },
    )
    source = forms.CharField(
        max_length=300,
        help_text="Where the estimates come from, shown wherever the table is used.",
        error_messages={"required": "Source is missing; say where the estimates come from."},
    )
    file = ImportFileField(label="Estimates file")


class TableChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.year}), {obj.source}"


class GenerateForm(forms.Form):
    table = TableChoiceField(
        queryset=EstimateTable.objects.none(),
        empty_label=None,
        label="Estimate table",
        error_messages={
            "invalid_choice": "That estimate table is not one of this trust's; choose one "
            "from the list."
        },
    )
    qualifications = forms.ModelMultipleChoiceField(
        queryset=Qualification.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one qualification.",
            "invalid_choice": "Qualification %(value)s is not a GCSE of this trust; choose "
            "from the list.",
            "invalid_pk_value": "Qualification “%(pk)s” is not a number; choose from the list.",
        },
    )

    def __init__(
        self,
        *args: Any,
        tables: QuerySet[EstimateTable],
        qualifications: QuerySet[Qualification],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        table_field = self.fields["table"]
        assert isinstance(table_field, forms.ModelChoiceField)
        table_field.queryset = tables
        qualification_field = self.fields["qualifications"]
        assert isinstance(qualification_field, forms.ModelMultipleChoiceField)
        qualification_field.queryset = qualifications


class TmgSetForm(forms.Form):
    qualification = forms.ModelChoiceField(
        queryset=Qualification.objects.none(),
        error_messages={
            "invalid_choice": "That qualification is not one of this trust's; choose one "
            "from the list.",
            "required": "Qualification is missing; choose one.",
        },
    )
    grade = forms.CharField(
        max_length=20,
        label="TMG",
        help_text="A whole grade on the qualification's scale, such as 6.",
        error_messages={"required": "TMG is missing; enter a grade such as 6."},
    )
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this TMG is set by hand. It is kept in the pupil's history.",
        error_messages={"required": "Reason is missing; say why this TMG is set by hand."},
    )
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, qualifications: QuerySet[Qualification], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["qualification"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = qualifications
