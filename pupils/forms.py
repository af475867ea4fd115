"""Forms of the pupil import pages."""

from typing import Any

from django import forms
from django.db.models import QuerySet

from academies.models import Academy

ACCEPTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
# Large enough for a 50,000-pupil MIS export (about 10 MB as CSV).
MAX_UPLOAD_BYTES = 30 * 1024 * 1024


class ImportFileField(forms.FileField):
    """A CSV or XLSX upload of at most MAX_UPLOAD_BYTES."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages",
            {"required": "Choose a CSV or Excel file (.csv or .xlsx) to upload."},
        )
        kwargs.setdefault("help_text", "CSV (comma-separated, any encoding) or Excel .xlsx.")
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload is None:
            return upload
        name = upload.name or ""
        if not name.lower().endswith(ACCEPTED_SUFFIXES):
            raise forms.ValidationError(
                f"{name!r} is not a CSV or Excel file; upload a .csv or .xlsx file."
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"{name!r} is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB."
            )
        return upload


class PupilImportForm(forms.Form):
    academy = forms.ModelChoiceField(
        queryset=Academy.objects.none(),
        empty_label=None,
        error_messages={
            "invalid_choice": "That academy is not one you may import pupils into; "
            "choose one from the list."
        },
    )
    file = ImportFileField(label="Pupil file")

    def __init__(self, *args: Any, academies: QuerySet[Academy], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["academy"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = academies


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("same", "Same pupil: apply the imported row"),
            ("different", "Different pupil: reject the row"),
        ],
        error_messages={
            "invalid_choice": "%(value)r is not a decision; choose same or different.",
            "required": "Choose same pupil or different pupil.",
        },
    )
