"""Serializers of the incidents, sanctions and follow-ups API.

Read serializers blank (null) the content of a sensitive incident for a
user without the safeguarding permission, keeping the date and points.
Input serializers check only the shape of the data (types and required
fields). behaviour.services checks the values, so the pages and the API
reject the same input with the same messages.
"""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from trust import clock
from trust.access import scope_for

from .access import can_read_content
from .models import Action, FollowUp, Incident, IncidentPupil

# PostgreSQL smallint, the type of points and minutes.
SMALLINT_MIN = -32768
SMALLINT_MAX = 32767
MAX_ID = 2**63 - 1

# Incident fields that are null on a sensitive incident the user may not read.
INCIDENT_CONTENT_FIELDS = (
    "category",
    "category_name",
    "trust_category",
    "location",
    "lesson",
    "subject",
    "description",
    "reported_by",
    "reported_by_name",
    "sensitive_kind",
)
ACTION_CONTENT_FIELDS = ("outcome", "notes", "contact_method", "referred_to", "referred_to_name")
FOLLOW_UP_CONTENT_FIELDS = ("note", "resolution")


def _user(serializer: serializers.Serializer) -> Any:
    request = serializer.context.get("request")
    return request.user if request is not None else None


class NamesValueMixin:
    """Put the rejected value at the start of DRF's message for an invalid input."""

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as error:
            shown = repr(str(data)[:40])
            details = error.detail if isinstance(error.detail, list) else [error.detail]
            raise serializers.ValidationError(
                [f"{shown} is not valid: {message}" for message in details]
            ) from None


class IdInput(NamesValueMixin, serializers.IntegerField):
    """The id of a record: a whole number from 1."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class WholeNumberInput(NamesValueMixin, serializers.IntegerField):
    """A whole number that fits a smallint column."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", SMALLINT_MIN)
        super().__init__(max_value=SMALLINT_MAX, **kwargs)


class DateInput(NamesValueMixin, serializers.DateField):
    pass


class DateTimeInput(NamesValueMixin, serializers.DateTimeField):
    pass


class BooleanInput(NamesValueMixin, serializers.BooleanField):
    pass


def _text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, default="", **kwargs)


# Read ------------------------------------------------------------------------


class IncidentPupilSerializer(serializers.ModelSerializer):
    """One pupil's part in an incident, with their points."""

    pupil_name = serializers.CharField(source="pupil.display_name", read_only=True)

    class Meta:
        model = IncidentPupil
        fields = ["pupil", "pupil_name", "role", "points", "year_group", "tutor_group"]


class IncidentSerializer(serializers.ModelSerializer):
    """An incident with the pupils the caller can see.

    The content fields are null, and `restricted` is true, for a sensitive
    incident the caller may not read.
    """

    academy_name = serializers.CharField(source="academy.name", read_only=True)
    category = serializers.IntegerField(source="category_id", allow_null=True, read_only=True)
    category_name = serializers.CharField(source="category.name", allow_null=True, read_only=True)
    trust_category = serializers.IntegerField(
        source="trust_category_id", allow_null=True, read_only=True
    )
    location = serializers.CharField(allow_null=True, read_only=True)
    lesson = serializers.CharField(allow_null=True, read_only=True)
    subject = serializers.CharField(allow_null=True, read_only=True)
    description = serializers.CharField(allow_null=True, read_only=True)
    reported_by = serializers.IntegerField(source="reported_by_id", allow_null=True, read_only=True)
    reported_by_name = serializers.CharField(
        source="reported_by.full_name", allow_null=True, read_only=True
    )
    sensitive_kind = serializers.CharField(allow_null=True, read_only=True)
    restricted = serializers.SerializerMethodField(
        help_text="True when the incident is sensitive and you may not read its content."
    )
    pupils = serializers.SerializerMethodField(
        help_text="The incident's pupils that you can see, with their role and points."
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "academy",
            "academy_name",
            "academic_year",
            "occurred_at",
            "date",
            "polarity",
            "sensitive",
            "restricted",
            *INCIDENT_CONTENT_FIELDS,
            "pupils",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_restricted(self, incident: Incident) -> bool:
        return not can_read_content(_user(self), incident)

    @extend_schema_field(IncidentPupilSerializer(many=True))
    def get_pupils(self, incident: Incident) -> list[dict[str, Any]]:
        links = getattr(incident, "visible_pupil_links", None)
        if links is None:
            links = []
        return list(IncidentPupilSerializer(links, many=True).data)

    def to_representation(self, instance: Incident) -> dict[str, Any]:
        data = super().to_representation(instance)
        if data["restricted"]:
            for name in INCIDENT_CONTENT_FIELDS:
                data[name] = None
        return data


class ActionSerializer(serializers.ModelSerializer):
    """A sanction, contact with parents or referral for one pupil of an incident.

    Notes, outcome and referral details are null when the incident is
    sensitive and the caller may not read it.
    """

    pupil_name = serializers.CharField(source="pupil.display_name", read_only=True)
    # A string rather than a choice field: an enum named "kind" here would
    # collide in the OpenAPI schema with the suspension kinds.
    kind = serializers.CharField(
        read_only=True, help_text="detention, isolation, parent_contact or referral."
    )
    kind_name = serializers.CharField(source="get_kind_display", read_only=True)
    contact_method = serializers.CharField(allow_null=True, read_only=True)
    referred_to = serializers.IntegerField(source="referred_to_id", allow_null=True, read_only=True)
    referred_to_name = serializers.CharField(
        source="referred_to.full_name", allow_null=True, read_only=True
    )
    outcome = serializers.CharField(allow_null=True, read_only=True)
    notes = serializers.CharField(allow_null=True, read_only=True)

    class Meta:
        model = Action
        fields = [
            "id",
            "incident",
            "pupil",
            "pupil_name",
            "kind",
            "kind_name",
            "date",
            "duration_minutes",
            "attended",
            "contacted_at",
            *ACTION_CONTENT_FIELDS,
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Action) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not can_read_content(_user(self), instance.incident):
            for name in ACTION_CONTENT_FIELDS:
                data[name] = None
        return data


class FollowUpSerializer(serializers.ModelSerializer):
    """A task arising from an incident.

    The note and resolution are null for a caller who neither owns the
    follow-up nor may read the sensitive incident it belongs to.
    """

    owner_name = serializers.CharField(source="owner.full_name", read_only=True)
    overdue = serializers.SerializerMethodField(
        help_text="True when the follow-up is open and its due date has passed."
    )
    note = serializers.CharField(allow_null=True, read_only=True)
    resolution = serializers.CharField(allow_null=True, read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "incident",
            "owner",
            "owner_name",
            "due_on",
            "status",
            "overdue",
            *FOLLOW_UP_CONTENT_FIELDS,
            "resolved_at",
            "resolved_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_overdue(self, follow_up: FollowUp) -> bool:
        today = self.context.get("today") or clock.today()
        return follow_up.status == FollowUp.Status.OPEN and follow_up.due_on < today

    def to_representation(self, instance: FollowUp) -> dict[str, Any]:
        data = super().to_representation(instance)
        user = _user(self)
        owner = instance.owner_id == scope_for(user).staff_id
        if not owner and not can_read_content(user, instance.incident):
            for name in FOLLOW_UP_CONTENT_FIELDS:
                data[name] = None
        return data


# Input -----------------------------------------------------------------------


class PupilEntryInput(serializers.Serializer):
    pupil = IdInput(help_text="Pupil id.")
    role = serializers.CharField(
        required=False, default="involved", help_text="involved, instigator, target or witness."
    )
    points = WholeNumberInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="Points within the category's range; omit for the category's default "
        "(0 for a target or witness).",
    )


class ActionInputFields(serializers.Serializer):
    """The fields of an action; which apply depends on its kind."""

    kind = serializers.CharField(
        help_text="detention, isolation, parent_contact or referral.",
    )
    pupil = IdInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="One pupil of the incident; omit for every pupil except targets and witnesses.",
    )
    date = DateInput(required=False, allow_null=True, default=None)
    duration_minutes = WholeNumberInput(required=False, allow_null=True, default=None, min_value=0)
    attended = BooleanInput(required=False, allow_null=True, default=None)
    contact_method = _text(help_text="phone, email, letter, meeting or message.")
    contacted_at = DateTimeInput(required=False, allow_null=True, default=None)
    outcome = _text()
    referred_to = IdInput(
        required=False, allow_null=True, default=None, help_text="Staff member id."
    )
    notes = _text()


class FollowUpInputFields(serializers.Serializer):
    owner = IdInput(help_text="Staff member id of whoever does the follow-up.")
    due_on = DateInput()
    note = _text()


class IncidentCreateSerializer(serializers.Serializer):
    """A new incident; behaviour.services.incident_log checks and writes it."""

    academy = IdInput()
    occurred_at = DateTimeInput(help_text="ISO 8601; a time without an offset is London time.")
    category = IdInput(help_text="Behaviour category id.")
    pupils = PupilEntryInput(many=True, allow_empty=True)
    reported_by = IdInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="Staff member who saw it; defaults to you.",
    )
    location = _text()
    lesson = _text()
    subject = _text()
    description = _text()
    sensitive = BooleanInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="Omit to follow the category's setting.",
    )
    sensitive_kind = _text(help_text="safeguarding, prejudice or other.")
    actions = ActionInputFields(many=True, required=False, default=list)
    follow_up = FollowUpInputFields(required=False, allow_null=True, default=None)


class IncidentUpdateSerializer(serializers.Serializer):
    """A correction: the version you read, the reason and the fields to change."""

    version = WholeNumberInput(min_value=1, help_text="The version you read the incident at.")
    reason = serializers.CharField(allow_blank=True, help_text="Why the incident is corrected.")
    occurred_at = DateTimeInput(required=False)
    category = IdInput(required=False)
    pupils = PupilEntryInput(many=True, required=False, allow_empty=True)
    reported_by = IdInput(required=False)
    location = serializers.CharField(required=False, allow_blank=True)
    lesson = serializers.CharField(required=False, allow_blank=True)
    subject = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    sensitive = BooleanInput(required=False)
    sensitive_kind = serializers.CharField(required=False, allow_blank=True)


class IncidentDeleteSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why the incident is deleted.")


class ActionCreateSerializer(ActionInputFields):
    """A new action on an incident; the response lists one row per pupil it applies to."""

    incident = IdInput()


class ActionUpdateSerializer(serializers.Serializer):
    """Fields of an action to fill in or correct, for example `attended`."""

    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Needed when changing a value already recorded.",
    )
    date = DateInput(required=False, allow_null=True)
    duration_minutes = WholeNumberInput(required=False, allow_null=True, min_value=0)
    attended = BooleanInput(required=False, allow_null=True)
    contact_method = serializers.CharField(required=False, allow_blank=True)
    contacted_at = DateTimeInput(required=False, allow_null=True)
    outcome = serializers.CharField(required=False, allow_blank=True)
    referred_to = IdInput(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class FollowUpCreateSerializer(FollowUpInputFields):
    incident = IdInput()


class FollowUpResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(allow_blank=True, help_text="What was done.")
