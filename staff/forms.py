"""Forms of the staff import pages."""

from django import forms

from pupils.forms import ImportFileField


class StaffImportForm(forms.Form):
    file = ImportFileField(label="Staff file")
