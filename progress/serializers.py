"""Request and response shapes of the progress API.

progress/api_progress.py builds responses as plain dicts, and the response
serializers here describe them in the OpenAPI schema. Request serializers
validate input, with messages that name the field, the value and what is
allowed.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from trust.api import MAX_ID


@extend_schema_field(OpenApiTypes.INT)
class IdInput(serializers.Field):
    """The id of a record: a whole number from 1."""

    def __init__(self, *, noun: str, **kwargs: Any) -> None:
        self.noun = noun
        kwargs.setdefault(
            "error_messages",
            {
                "required": f"{noun.capitalize()} is missing; send the id of a {noun}.",
                "null": f"{noun.capitalize()} is null, which is not a valid {noun} id; "
                f"send the id of a {noun}.",
            },
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            data = str(data)
        text = str(data).strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
            raise serializers.ValidationError(
                f"{str(data)[:40]!r} is not a valid {self.noun} id. Allowed values: a whole "
                "number from 1."
            )
        return int(text)

    def to_representation(self, value: Any) -> int:
        return int(value)


def _grade_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=40,
        allow_blank=True,
        trim_whitespace=True,
        error_messages={
            "required": "Grade is missing; send a grade on the qualification's scale, such as 6.",
            "max_length": "Grade is longer than 40 characters; send a grade such as 6 or 6+.",
        },
        help_text="The grade as typed, such as 6, 6+ or U, or a score on a numeric scale.",
    )


def _version_field(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        error_messages={
            "invalid": "Version is not a whole number; send the version you read, or leave it out.",
            "min_value": "Version must be 0 or more; send the version you read, or leave it out.",
        },
        help_text=help_text,
    )


class GradeWriteSerializer(serializers.Serializer):
    pupil = IdInput(noun="pupil")
    qualification = IdInput(noun="qualification")
    assessment_point = IdInput(noun="assessment point")
    grade = _grade_field()
    version = _version_field(
        "The entry's version when it was read. A different current version is a conflict "
        "(409). Leave it out to replace whatever is saved."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=300,
        error_messages={"max_length": "Reason is longer than 300 characters; shorten it."},
        help_text="Why a saved grade is changed; kept in the audit trail.",
    )


class TargetWriteSerializer(serializers.Serializer):
    pupil = IdInput(noun="pupil")
    qualification = IdInput(noun="qualification")
    academic_year = IdInput(
        noun="academic year",
        required=False,
        help_text="Default: the academic year containing today.",
    )
    grade = _grade_field()
    reason = serializers.CharField(
        allow_blank=True,
        max_length=300,
        error_messages={
            "required": "Reason is missing; say why this TMG is set by hand.",
            "max_length": "Reason is longer than 300 characters; shorten it.",
        },
    )
    version = _version_field(
        "The TMG's version when it was read, 0 when there was none. A different current "
        "version is a conflict (409). Leave it out to skip the check."
    )


class TargetUpdateSerializer(serializers.Serializer):
    grade = _grade_field()
    reason = serializers.CharField(
        allow_blank=True,
        max_length=300,
        error_messages={
            "required": "Reason is missing; say why this TMG is changed.",
            "max_length": "Reason is longer than 300 characters; shorten it.",
        },
    )
    version = _version_field(
        "The TMG's version when it was read. A different current version is a conflict "
        "(409). Leave it out to skip the check."
    )


# Responses ----------------------------------------------------------------------------------


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PointSerializer(NamedSerializer):
    date = serializers.DateField()
    kind = serializers.CharField()


class QualificationSerializer(NamedSerializer):
    subject = serializers.CharField()
    scale = serializers.CharField()


class ProgressRowSerializer(serializers.Serializer):
    qualification = QualificationSerializer()
    latest_grade = serializers.CharField(allow_null=True)
    latest_points = serializers.FloatField(allow_null=True)
    assessment_point = PointSerializer(allow_null=True)
    tmg = serializers.CharField(allow_null=True)
    tmg_points = serializers.FloatField(allow_null=True)
    status = serializers.CharField(
        help_text="above, on, below, well_below, no_grade, no_tmg or not_comparable."
    )
    status_label = serializers.CharField()


class PupilProgressSerializer(serializers.Serializer):
    pupil = serializers.IntegerField()
    academic_year = NamedSerializer(allow_null=True)
    qualifications = ProgressRowSerializer(many=True)


class PupilRowsSerializer(serializers.Serializer):
    pupil = serializers.IntegerField()
    name = serializers.CharField()
    qualifications = ProgressRowSerializer(many=True)


class ClassProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    academic_year = NamedSerializer()
    qualification = QualificationSerializer()
    pupils = PupilRowsSerializer(many=True)


class YearGroupProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    academic_year = NamedSerializer(allow_null=True)
    pupils = PupilRowsSerializer(many=True)


class SlotSerializer(serializers.Serializer):
    element = serializers.CharField(help_text="english, maths, ebacc or open.")
    number = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    weight = serializers.IntegerField()
    qualification = NamedSerializer(allow_null=True)
    part = serializers.IntegerField(allow_null=True)
    grade = serializers.CharField(allow_null=True)
    points = serializers.FloatField(allow_null=True)
    slot_points = serializers.FloatField()


class ElementsSerializer(serializers.Serializer):
    english = serializers.FloatField()
    maths = serializers.FloatField()
    ebacc = serializers.FloatField()
    open = serializers.FloatField()


class EstimateTableSerializer(NamedSerializer):
    year = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]
    same_year = serializers.BooleanField(
        help_text="False when the table of the year's generated TMGs is used because the "
        "trust has no table for the results year."
    )


class Progress8Serializer(serializers.Serializer):
    progress8 = serializers.FloatField()
    ks2_average = serializers.FloatField()
    prior_attainment_group = serializers.IntegerField()
    estimate_attainment8 = serializers.FloatField()
    elements = ElementsSerializer()
    estimate_table = EstimateTableSerializer()


class NotCountedSerializer(serializers.Serializer):
    qualification = NamedSerializer()
    grade = serializers.CharField()


class Attainment8Serializer(serializers.Serializer):
    pupil = serializers.IntegerField()
    results_year = NamedSerializer(allow_null=True)
    attainment8 = serializers.FloatField(allow_null=True)
    english_double = serializers.BooleanField(allow_null=True)
    slots = SlotSerializer(many=True)
    elements = ElementsSerializer(allow_null=True)
    progress8 = Progress8Serializer(allow_null=True)
    not_counted = NotCountedSerializer(many=True)


class GradeEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pupil = serializers.IntegerField()
    qualification = serializers.IntegerField()
    assessment_point = serializers.IntegerField()
    grade = serializers.CharField()
    points = serializers.FloatField(allow_null=True)
    version = serializers.IntegerField()
    status = serializers.CharField()


class GradeConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_grade = serializers.CharField()
    current_version = serializers.IntegerField()
    changed_by = serializers.CharField()
    changed_at = serializers.DateTimeField()


class TargetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pupil = serializers.IntegerField()
    qualification = serializers.IntegerField()
    academic_year = serializers.IntegerField()
    grade = serializers.CharField()
    points = serializers.FloatField(allow_null=True)
    basis = serializers.CharField()
    reason = serializers.CharField()
    version = serializers.IntegerField()
    set_at = serializers.DateTimeField()
