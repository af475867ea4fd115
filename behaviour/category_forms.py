"""Forms for adding, changing and retiring behaviour categories."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from attendance.staff_forms import DATE_FORMATS, DATE_HELP, DayField

from .models import BehaviourCategory, Polarity
from .taxonomy import MAX_NAME, MAX_POINTS, MAX_POSITION, CategoryInput

SEVERITY_CHOICES = [
    ("", "None (positive categories)"),
    ("1", "1, low-level"),
    ("2", "2"),
    ("3", "3"),
    ("4", "4"),
    ("5", "5, most serious"),
]


def _points_field(label: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=-MAX_POINTS, max_value=MAX_POINTS, help_text=help_text
    )


class DescribedForm(forms.Form):
    """A form whose inputs name their help text and errors for screen readers."""

    def link_descriptions(self) -> None:
        """Set aria-describedby on each input to the ids of its help and error texts."""
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

    def add_service_errors(self, error: ValidationError) -> None:
        """Show the service's messages next to the fields they name."""
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)


class CategoryForm(DescribedForm):
    """A trust category, or with `parents` an academy's own category."""

    name = forms.CharField(max_length=MAX_NAME)
    polarity = forms.ChoiceField(
        choices=Polarity.choices,
        help_text="Fixed once the category is added, because incidents copy it.",
    )
    parent = forms.TypedChoiceField(
        label="Counts as trust category",
        coerce=int,
        required=False,
        help_text="Figures across the trust count this category as the trust category chosen.",
    )
    severity = forms.TypedChoiceField(
        choices=SEVERITY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Negative categories only: 1 for low-level up to 5 for the most serious.",
    )
    default_points = _points_field(
        "Default points", "Positive categories give 0 or more points, negative 0 or fewer."
    )
    min_points = _points_field("Fewest points", "The lowest number of points staff may give.")
    max_points = _points_field("Most points", "The highest number of points staff may give.")
    sensitive = forms.BooleanField(
        required=False,
        label="Sensitive",
        help_text="Incidents start flagged sensitive, so only safeguarding staff read them.",
    )
    position = forms.IntegerField(
        min_value=0,
        max_value=MAX_POSITION,
        initial=0,
        required=False,
        help_text="Lists show lower numbers first; leave empty for 0.",
    )

    def __init__(
        self,
        *args: Any,
        parents: list[BehaviourCategory] | None = None,
        polarity_fixed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, form_field in self.fields.items():
            label = form_field.label or name.replace("_", " ")
            form_field.error_messages["required"] = f"The {label.lower()} is missing."
        if parents is None:
            del self.fields["parent"]
        else:
            parent = self.fields["parent"]
            assert isinstance(parent, forms.TypedChoiceField)
            parent.required = True
            parent.error_messages["invalid_choice"] = (
                "Trust category %(value)s is not one to choose from; choose a trust "
                "category still in use."
            )
            groups: list[tuple[str, list[tuple[int, str]]]] = []
            for value, label in Polarity.choices:
                options = [(c.pk, c.name) for c in parents if c.polarity == value]
                if options:
                    groups.append((str(label), options))
            parent.choices = [("", "Choose a trust category"), *groups]
        if polarity_fixed:
            self.fields["polarity"].disabled = True

    @classmethod
    def initial_from(cls, category: BehaviourCategory) -> dict[str, Any]:
        return {
            "name": category.name,
            "polarity": category.polarity,
            "parent": category.parent_id,
            "severity": category.severity,
            "default_points": category.default_points,
            "min_points": category.min_points,
            "max_points": category.max_points,
            "sensitive": category.sensitive,
            "position": category.position,
        }

    def category_input(self) -> CategoryInput:
        data = self.cleaned_data
        return CategoryInput(
            name=data["name"].strip(),
            polarity=data["polarity"],
            severity=data["severity"],
            default_points=data["default_points"],
            min_points=data["min_points"],
            max_points=data["max_points"],
            sensitive=data["sensitive"],
            position=data["position"] or 0,
            parent_id=data.get("parent"),
        )


class RetireForm(DescribedForm):
    retired_on = DayField(
        label="Retire from",
        input_formats=DATE_FORMATS,
        help_text=DATE_HELP + " From this day the category cannot be chosen for new incidents.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        retired_on = self.fields["retired_on"]
        retired_on.error_messages["required"] = "The date to retire from is missing."
        retired_on.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
