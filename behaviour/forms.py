"""Forms of the behaviour pages: logging an incident with its actions,
correcting or deleting one, recording attendance at a detention and giving
points to a whole tutor group."""

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import QueryDict

from academies.models import Academy
from attendance.staff_forms import DATE_FORMATS, DayField
from staff.models import StaffMember
from trust import clock

from .models import Action, BehaviourCategory, Location, Polarity, PupilRole, SensitiveKind
from .services import ActionInput, FollowUpInput, PupilEntry

TIME_FORMATS = ["%H:%M"]
DATE_HELP = "As dd/mm/yyyy, for example 04/12/2026."
TIME_HELP = "24-hour clock, as hh:mm, for example 13:45."
POINTS_PATTERN = re.compile(r"[+-]?[0-9]{1,4}")
MAX_REASON = 300

# Log form field of each action error key from the service, by action kind.
ACTION_FIELDS: dict[str, dict[str, str]] = {
    Action.Kind.DETENTION: {
        "date": "detention_date",
        "duration_minutes": "detention_minutes",
        "attended": "detention_date",
    },
    Action.Kind.PARENT_CONTACT: {
        "contact_method": "contact_method",
        "contacted_at": "contacted_date",
        "outcome": "contact_outcome",
    },
    Action.Kind.REFERRAL: {"referred_to_id": "referred_to", "date": "referred_to"},
}
FIELD_OF_ERROR = {
    "occurred_at": "occurred_date",
    "category_id": "category",
    "reported_by_id": "reported_by",
    "location": "location",
    "lesson": "lesson",
    "subject": "subject",
    "description": "description",
    "sensitive_kind": "sensitive_kind",
    "follow_up.owner_id": "follow_up_owner",
    "follow_up.due_on": "follow_up_due",
    "follow_up.note": "follow_up_note",
    "reason": "reason",
    "seen_version": None,
}


class TimeOfDayField(forms.TimeField):
    """A time typed as hh:mm on the 24-hour clock, whose error repeats what was typed."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValidationError as error:
            if getattr(error, "code", "") != "invalid":
                raise
            shown = str(value)[:20]
            raise ValidationError(
                f"“{shown}” is not a time; enter it as hh:mm on the 24-hour clock, for "
                "example 13:45.",
                code="invalid",
            ) from error


class WholeNumberField(forms.IntegerField):
    """A whole number whose error repeats what was typed."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValidationError as error:
            if getattr(error, "code", "") != "invalid":
                raise
            raise ValidationError(
                f"“{str(value)[:20]}” is not a whole number; enter minutes such as 30.",
                code="invalid",
            ) from error


def staff_choices(trust_id: int, day: datetime.date) -> list[tuple[str, str]]:
    """Return the staff of the trust still in post on `day`, as select options."""
    staff = (
        StaffMember.objects.filter(Q(academy__trust_id=trust_id) | Q(academy__isnull=True))
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=day))
        .select_related("academy")
        .order_by("last_name", "first_name", "pk")
    )
    return [(str(member.pk), f"{member.full_name} ({member.workplace})") for member in staff]


def category_choices(academy: Academy, day: datetime.date, *, positive_only: bool = False) -> list:
    """Return the categories usable at `academy` on `day`, grouped positive then
    negative, each academy category listed under its trust category."""
    categories = list(
        BehaviourCategory.objects.filter(trust_id=academy.trust_id)
        .filter(Q(academy__isnull=True) | Q(academy=academy))
        .filter(Q(retired_on__isnull=True) | Q(retired_on__gt=day))
        .order_by("position", "name")
    )
    children: dict[int, list[BehaviourCategory]] = {}
    for category in categories:
        if category.parent_id:
            children.setdefault(category.parent_id, []).append(category)

    def signed(points: int) -> str:
        return f"{points:+d}" if points else "0"

    def label(category: BehaviourCategory) -> str:
        points = f"{signed(category.min_points)} to {signed(category.max_points)}"
        if category.min_points == category.max_points:
            points = signed(category.min_points)
        return f"{category.name} ({points} points)"

    groups = []
    for polarity, heading in ((Polarity.POSITIVE, "Positive"), (Polarity.NEGATIVE, "Negative")):
        if positive_only and polarity != Polarity.POSITIVE:
            continue
        options: list[tuple[str, str]] = []
        for category in categories:
            if category.parent_id or category.polarity != polarity:
                continue
            options.append((str(category.pk), label(category)))
            for own in children.get(category.pk, []):
                options.append(
                    (
                        str(own.pk),
                        f"– {label(own)}, {academy.name}'s own, counts as {category.name}",
                    )
                )
        if options:
            groups.append((heading, options))
    return groups


def _attach_error_ids(form: forms.Form) -> None:
    """Point each input at its help text and error message for screen readers."""
    for name in form.fields:
        bound = form[name]
        described = []
        if form.fields[name].help_text:
            described.append(f"{bound.id_for_label}-help")
        if form.is_bound and bound.errors:
            described.append(f"{bound.id_for_label}-error")
            form.fields[name].widget.attrs["aria-invalid"] = "true"
        if described:
            form.fields[name].widget.attrs["aria-describedby"] = " ".join(described)


class LabelledErrorsMixin:
    """Required-field messages that name the field, and described-by ids."""

    fields: dict[str, forms.Field]

    def name_required_errors(self) -> None:
        for name, form_field in self.fields.items():
            label = str(form_field.label or name.replace("_", " ").capitalize())
            form_field.error_messages["required"] = f"{label} is missing."

    def link_descriptions(self) -> None:
        _attach_error_ids(self)  # type: ignore[arg-type]


class IncidentLogForm(LabelledErrorsMixin, forms.Form):
    """The incident's own fields and its optional actions; the pupils are read
    separately by read_pupil_rows."""

    occurred_date = DayField(label="Date", input_formats=DATE_FORMATS, help_text=DATE_HELP)
    occurred_time = TimeOfDayField(label="Time", input_formats=TIME_FORMATS, help_text=TIME_HELP)
    category = forms.ChoiceField(label="Category")
    location = forms.ChoiceField(
        label="Location", choices=[("", "Not recorded"), *Location.choices], required=False
    )
    lesson = forms.CharField(
        label="Lesson", max_length=40, required=False, help_text="For example Period 3."
    )
    subject = forms.CharField(label="Subject", max_length=80, required=False)
    description = forms.CharField(
        label="What happened", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    reported_by = forms.ChoiceField(label="Reported by")
    sensitive = forms.BooleanField(
        label="Sensitive",
        required=False,
        help_text="Only staff with the safeguarding permission read a sensitive incident. "
        "An incident in a sensitive category is marked sensitive even if this is not ticked.",
    )
    sensitive_kind = forms.ChoiceField(
        label="Kind of sensitive matter",
        choices=[("", "Not sensitive"), *SensitiveKind.choices],
        required=False,
    )
    detention_date = DayField(
        label="Detention date", input_formats=DATE_FORMATS, required=False, help_text=DATE_HELP
    )
    detention_minutes = WholeNumberField(
        label="Detention minutes", required=False, help_text="From 1 to 240."
    )
    contact_method = forms.ChoiceField(
        label="How parents were contacted",
        choices=[("", "Not contacted"), *Action.ContactMethod.choices],
        required=False,
    )
    contacted_date = DayField(
        label="Date contacted", input_formats=DATE_FORMATS, required=False, help_text=DATE_HELP
    )
    contacted_time = TimeOfDayField(
        label="Time contacted", input_formats=TIME_FORMATS, required=False, help_text=TIME_HELP
    )
    contact_outcome = forms.CharField(
        label="Outcome of the contact", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    referred_to = forms.ChoiceField(label="Refer to", required=False)
    follow_up_owner = forms.ChoiceField(label="Follow-up owner", required=False)
    follow_up_due = DayField(
        label="Follow-up due", input_formats=DATE_FORMATS, required=False, help_text=DATE_HELP
    )
    follow_up_note = forms.CharField(label="Follow-up note", max_length=500, required=False)

    def __init__(
        self,
        *args: Any,
        categories: list,
        staff: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.name_required_errors()
        self.fields["category"].choices = [("", "Choose a category"), *categories]  # type: ignore[attr-defined]
        self.fields["reported_by"].choices = [("", "Choose who saw it"), *staff]  # type: ignore[attr-defined]
        self.fields["referred_to"].choices = [("", "No referral"), *staff]  # type: ignore[attr-defined]
        self.fields["follow_up_owner"].choices = [("", "No follow-up"), *staff]  # type: ignore[attr-defined]
        for name in ("occurred_date", "detention_date", "contacted_date", "follow_up_due"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
        for name in ("occurred_time", "contacted_time"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("contacted_date")
            and not data.get("contacted_time")
            and "contacted_time" not in self.errors
        ):
            self.add_error("contacted_time", "Time contacted is missing; enter it as hh:mm.")
        if (
            data.get("follow_up_owner")
            and not data.get("follow_up_due")
            and "follow_up_due" not in self.errors
        ):
            self.add_error(
                "follow_up_due", "Follow-up due date is missing; enter it as dd/mm/yyyy."
            )
        if data.get("follow_up_due") and not data.get("follow_up_owner"):
            self.add_error("follow_up_owner", "Follow-up owner is missing; choose who follows up.")
        return data

    def occurred_at(self) -> datetime.datetime:
        return datetime.datetime.combine(
            self.cleaned_data["occurred_date"], self.cleaned_data["occurred_time"]
        ).replace(tzinfo=clock.LONDON)

    def actions(self) -> list[ActionInput]:
        """Return the actions filled in, in a fixed order: detention, parent contact, referral."""
        data = self.cleaned_data
        actions: list[ActionInput] = []
        if data.get("detention_date") or data.get("detention_minutes") is not None:
            actions.append(
                ActionInput(
                    kind=Action.Kind.DETENTION,
                    date=data.get("detention_date"),
                    duration_minutes=data.get("detention_minutes"),
                )
            )
        contacted_at = None
        if data.get("contacted_date") and data.get("contacted_time"):
            contacted_at = datetime.datetime.combine(
                data["contacted_date"], data["contacted_time"]
            ).replace(tzinfo=clock.LONDON)
        if data.get("contact_method") or contacted_at or data.get("contact_outcome"):
            actions.append(
                ActionInput(
                    kind=Action.Kind.PARENT_CONTACT,
                    contact_method=data.get("contact_method", ""),
                    contacted_at=contacted_at,
                    outcome=data.get("contact_outcome", ""),
                )
            )
        if data.get("referred_to"):
            actions.append(
                ActionInput(kind=Action.Kind.REFERRAL, referred_to_id=int(data["referred_to"]))
            )
        return actions

    def follow_up(self) -> FollowUpInput | None:
        data = self.cleaned_data
        if not data.get("follow_up_owner"):
            return None
        return FollowUpInput(
            owner_id=int(data["follow_up_owner"]),
            due_on=data["follow_up_due"],
            note=data.get("follow_up_note", ""),
        )


@dataclass
class PupilRow:
    """One pupil in the picker: who, whether ticked, and the role and points typed."""

    pupil_id: int
    name: str
    group: str
    selected: bool = False
    role: str = PupilRole.INVOLVED
    points: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class PupilSelection:
    entries: list[PupilEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_pupil_rows(data: QueryDict, rows: Sequence[PupilRow]) -> PupilSelection:
    """Read the ticked pupils with their roles and points into `rows` and PupilEntry values.

    Ids of pupils not in the picker are returned as entries too, so the
    service rejects them with 404 rather than dropping them silently.
    """
    selection = PupilSelection()
    by_id = {row.pupil_id: row for row in rows}
    ticked = []
    for raw in data.getlist("pupil"):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
            selection.errors.append(f"Pupil “{raw[:20]}” is not a pupil number; reload the page.")
            continue
        ticked.append(int(raw))
    for row in rows:
        row.role = data.get(f"role_{row.pupil_id}", PupilRole.INVOLVED)
        row.points = data.get(f"points_{row.pupil_id}", "").strip()
        row.selected = row.pupil_id in ticked
    for pupil_id in ticked:
        found = by_id.get(pupil_id)
        if found is None:
            selection.entries.append(PupilEntry(pupil_id=pupil_id))
            continue
        row = found
        points: int | None = None
        if row.points:
            if not POINTS_PATTERN.fullmatch(row.points):
                row.errors.append(
                    f"Points “{row.points[:20]}” for {row.name} are not a whole number; enter "
                    "a number such as -2, or leave it empty for the category's default."
                )
                continue
            points = int(row.points)
        selection.entries.append(PupilEntry(pupil_id=pupil_id, role=row.role, points=points))
    return selection


def place_service_errors(
    form: forms.Form,
    error: ValidationError,
    *,
    actions: Sequence[ActionInput] = (),
    entries: Sequence[PupilEntry] = (),
    rows: Iterable[PupilRow] = (),
) -> list[str]:
    """Put each service error next to its field; return those that belong to the pupils."""
    pupil_errors: list[str] = []
    by_id = {row.pupil_id: row for row in rows}
    for key, messages in error.message_dict.items():
        parts = key.split(".")
        target: str | None = FIELD_OF_ERROR.get(key, "")
        if parts[0] == "pupils" or key == "academy_id":
            row = None
            pupil_field = ""
            if len(parts) == 3 and int(parts[1]) < len(entries):
                pupil_id = entries[int(parts[1])].pupil_id
                row = by_id.get(pupil_id)
                pupil_field = f"{parts[2].removesuffix('_id')}_{pupil_id}"
            if row is not None:
                row.errors.extend(messages)
            elif pupil_field in form.fields:
                for message in messages:
                    form.add_error(pupil_field, message)
            else:
                pupil_errors.extend(messages)
            continue
        if parts[0] == "actions" and len(parts) == 3 and int(parts[1]) < len(actions):
            fields_of_kind = ACTION_FIELDS.get(Action.Kind(actions[int(parts[1])].kind), {})
            target = fields_of_kind.get(parts[2])
            if target is None:
                target = next(iter(fields_of_kind.values()), None)
        if target and target in form.fields:
            for message in messages:
                form.add_error(target, message)
        else:
            for message in messages:
                form.add_error(None, message)
    return pupil_errors


class CorrectionForm(LabelledErrorsMixin, forms.Form):
    """A correction of an incident's own fields, with the reason and the version seen."""

    occurred_date = DayField(label="Date", input_formats=DATE_FORMATS, help_text=DATE_HELP)
    occurred_time = TimeOfDayField(label="Time", input_formats=TIME_FORMATS, help_text=TIME_HELP)
    category = forms.ChoiceField(label="Category")
    location = forms.ChoiceField(
        label="Location", choices=[("", "Not recorded"), *Location.choices], required=False
    )
    lesson = forms.CharField(label="Lesson", max_length=40, required=False)
    subject = forms.CharField(label="Subject", max_length=80, required=False)
    description = forms.CharField(
        label="What happened", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    sensitive = forms.BooleanField(label="Sensitive", required=False)
    sensitive_kind = forms.ChoiceField(
        label="Kind of sensitive matter",
        choices=[("", "Not sensitive"), *SensitiveKind.choices],
        required=False,
    )
    reason = forms.CharField(
        label="Reason for the correction",
        max_length=MAX_REASON,
        help_text="Kept in the audit trail with the values before and after.",
    )
    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(
        self,
        *args: Any,
        categories: list,
        pupils: Sequence[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        """Build the form, with a role and points field for each of `pupils`
        (pupil id and name), the pupils whose part the user may correct."""
        super().__init__(*args, **kwargs)
        self.pupil_ids = [pupil_id for pupil_id, _ in pupils]
        for pupil_id, name in pupils:
            self.fields[f"role_{pupil_id}"] = forms.ChoiceField(
                label=f"Role of {name}", choices=PupilRole.choices
            )
            self.fields[f"points_{pupil_id}"] = forms.IntegerField(
                label=f"Points for {name}",
                error_messages={
                    "invalid": f"Points for {name} must be a whole number such as -2.",
                },
            )
        self.name_required_errors()
        self.fields["category"].choices = [("", "Choose a category"), *categories]  # type: ignore[attr-defined]
        self.fields["seen_version"].error_messages["required"] = (
            "The correction form is damaged; reload the incident."
        )
        # Keep the reason last, after the pupils' fields.
        self.fields["reason"] = self.fields.pop("reason")

    def changes(self) -> dict[str, Any]:
        """Return the fields for services.incident_update, the pupils' parts included."""
        data = self.cleaned_data
        changes: dict[str, Any] = {
            "occurred_at": datetime.datetime.combine(
                data["occurred_date"], data["occurred_time"]
            ).replace(tzinfo=clock.LONDON),
            "category_id": int(data["category"]),
            "location": data["location"],
            "lesson": data["lesson"],
            "subject": data["subject"],
            "description": data["description"],
            "sensitive": data["sensitive"],
            "sensitive_kind": data["sensitive_kind"],
        }
        if self.pupil_ids:
            changes["pupils"] = [
                PupilEntry(
                    pupil_id=pupil_id,
                    role=data[f"role_{pupil_id}"],
                    points=data[f"points_{pupil_id}"],
                )
                for pupil_id in self.pupil_ids
            ]
        return changes


class DeleteForm(LabelledErrorsMixin, forms.Form):
    reason = forms.CharField(label="Reason for deleting", max_length=MAX_REASON)
    confirm = forms.BooleanField(
        label="I understand the incident, its pupils' points and its actions will be deleted",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name_required_errors()
        self.fields["confirm"].error_messages["required"] = (
            "Confirmation is missing; tick the box to delete the incident."
        )


class AttendedForm(forms.Form):
    """Whether a pupil attended a detention or isolation, and why it changed if it was set."""

    attended = forms.TypedChoiceField(
        label="Attended",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Reason for the change", max_length=MAX_REASON, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attended"].error_messages["required"] = (
            "Attended is missing; choose yes or no."
        )


class GroupPointsForm(LabelledErrorsMixin, forms.Form):
    category = forms.ChoiceField(label="Category")
    points = forms.IntegerField(
        label="Points each",
        required=False,
        help_text="Leave empty for the category's default.",
    )
    description = forms.CharField(
        label="What for", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, categories: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name_required_errors()
        self.fields["category"].choices = [("", "Choose a category"), *categories]  # type: ignore[attr-defined]
        self.fields["points"].error_messages["invalid"] = (
            "Points each must be a whole number such as 1."
        )
