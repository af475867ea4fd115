"""Serializers of the appraisal API.

Read serializers shape cycles, appraisals, objectives, reviews and
portfolio entries. Input serializers check only types and required fields.
appraisal.services and appraisal.portfolio check the values, so the pages
and the API reject the same input with the same messages.

Choice values are plain strings in the schema rather than enums, because
enums named "status", "kind" or "stage" would collide with other apps' enums
of the same name in the OpenAPI components.
"""

import datetime
import re
from decimal import Decimal
from typing import Any

from django.core.validators import MaxLengthValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from trust.api import MAX_ID, describe_choices

from .deadlines import DeadlineTable, deadline_table, next_due
from .models import (
    Annotation,
    Appraisal,
    AppraisalCycle,
    CpdKind,
    Deadline,
    DevelopmentNeed,
    EvidenceFile,
    Measure,
    MeasureScope,
    Objective,
    ObjectiveReview,
    Outcome,
    PortfolioEntry,
    Signature,
    Stage,
    Standard,
    Track,
)
from .portfolio_checks import is_plain_number


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# Input fields ------------------------------------------------------------------------


class NamesValueMixin:
    """Put the rejected value at the start of DRF's message for an invalid input."""

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as error:
            quoted = repr(str(data)[:40])
            details = error.detail if isinstance(error.detail, list) else [error.detail]
            raise serializers.ValidationError(
                [f"{quoted} is not valid: {message}" for message in details]
            ) from None


class IdInput(NamesValueMixin, serializers.IntegerField):
    """The id of a record: a whole number from 1."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class WholeNumberInput(NamesValueMixin, serializers.IntegerField):
    pass


class DecimalInput(NamesValueMixin, serializers.DecimalField):
    """A number sent as a JSON number or as text with digits and at most one
    decimal point. Text in exponent notation such as "1e5" is rejected,
    because messages would echo it rewritten as 1E+5."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and data.strip() and not is_plain_number(data.strip()):
            raise serializers.ValidationError(
                f"{self.field_name} {data[:40]!r} is not a number; send digits with an "
                "optional decimal point, such as 2.5."
            )
        return super().to_internal_value(data)


# YYYY-MM-DD by its shape, so a date that does not exist (2026-02-31) gets
# its own message rather than "wrong format".
_ISO_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class DateInput(NamesValueMixin, serializers.DateField):
    """A date as YYYY-MM-DD. A day that is not in the calendar, such as
    2026-02-31, is named as such."""

    def to_internal_value(self, data: Any) -> Any:
        text = data.strip() if isinstance(data, str) else ""
        if _ISO_DATE_SHAPE.fullmatch(text):
            try:
                return datetime.date.fromisoformat(text)
            except ValueError:
                raise serializers.ValidationError(
                    f"{self.field_name} {text} is not a real date; use YYYY-MM-DD."
                ) from None
        return super().to_internal_value(data)


class BooleanInput(NamesValueMixin, serializers.BooleanField):
    pass


class ChoiceInput(serializers.CharField):
    """A choice sent as its value. The error names the value and lists the allowed ones.

    The schema shows a string with the allowed values in its description, so
    no enum component is generated (see the module docstring).
    """

    def __init__(self, *, choices: list[tuple[str, str]], noun: str, **kwargs: Any) -> None:
        self.choices = choices
        self.noun = noun
        kwargs.setdefault("help_text", f"One of: {describe_choices(choices)}.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        allowed = {value for value, _ in self.choices}
        if text == "" and self.allow_blank:
            return text
        if text not in allowed:
            raise serializers.ValidationError(
                f"{text[:40]!r} is not a valid {self.noun}. Allowed values: "
                f"{describe_choices(self.choices)}."
            )
        return text


def _text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, default="", **kwargs)


def _optional_text(**kwargs: Any) -> serializers.CharField:
    """Build a text field whose omitted value (None) means "leave unchanged"."""
    return serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None, **kwargs
    )


def _id_list(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=IdInput(), required=False, default=list, **kwargs)


# Shared read pieces ------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    """A member of staff named in an appraisal."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)


class StandardBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Standard
        fields = ["id", "code", "title"]
        read_only_fields = fields


class DeadlineSerializer(serializers.ModelSerializer):
    """A stage's due date: the trust's (academy null) or one academy's own."""

    track = serializers.CharField(read_only=True, help_text="staff or headteacher.")
    stage = serializers.CharField(
        read_only=True, help_text="objectives, mid_year, final_review or sign_off."
    )
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)

    class Meta:
        model = Deadline
        fields = ["id", "academy", "track", "stage", "stage_label", "due"]
        read_only_fields = fields


class CycleSerializer(serializers.ModelSerializer):
    """An appraisal cycle with every deadline set for it."""

    academic_year_name = serializers.CharField(source="academic_year.name", read_only=True)
    starts_on = serializers.DateField(source="academic_year.start_date", read_only=True)
    ends_on = serializers.DateField(source="academic_year.end_date", read_only=True)
    deadlines = DeadlineSerializer(many=True, read_only=True)

    class Meta:
        model = AppraisalCycle
        fields = [
            "id",
            "academic_year",
            "academic_year_name",
            "starts_on",
            "ends_on",
            "uses_pay_recommendation",
            "deadlines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class NextDeadlineSerializer(serializers.Serializer):
    stage = serializers.CharField(help_text="The first stage not yet done.")
    label = serializers.CharField()  # type: ignore[assignment]
    due = serializers.DateField(allow_null=True, help_text="Null when no deadline is set.")
    overdue = serializers.BooleanField()


def _deadline_table(context: Any, cycle: AppraisalCycle) -> DeadlineTable:
    """Return the cycle's deadlines, read once per cycle for a whole response."""
    tables: dict[int, DeadlineTable] = context.setdefault("deadline_tables", {})
    if cycle.pk not in tables:
        tables[cycle.pk] = deadline_table(cycle)
    return tables[cycle.pk]


# Objectives and reviews --------------------------------------------------------------


class ReviewSerializer(serializers.ModelSerializer):
    """The mid-year or final review of one objective."""

    kind = serializers.CharField(read_only=True, help_text="mid_year or final.")
    outcome = serializers.CharField(
        read_only=True,
        help_text="met, partly_met, not_met, not_applicable, or empty before the outcome is set.",
    )
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    appraisal = serializers.IntegerField(source="objective.appraisal_id", read_only=True)

    class Meta:
        model = ObjectiveReview
        fields = [
            "id",
            "objective",
            "appraisal",
            "kind",
            "evidence",
            "self_review",
            "appraiser_comment",
            "outcome",
            "outcome_label",
            "updated_at",
        ]
        read_only_fields = fields


class ObjectiveSerializer(serializers.ModelSerializer):
    """An objective. One linked to a live measure carries the measure's current
    value beside its target, computed by appraisal.measures.measure_values."""

    standards = StandardBriefSerializer(many=True, read_only=True)
    measure = serializers.CharField(
        read_only=True,
        help_text="tmg_latest, tmg_final, attendance, persistent_absence, or empty when the "
        "objective is not linked to a measure.",
    )
    measure_label = serializers.CharField(source="get_measure_display", read_only=True)
    measure_scope = serializers.CharField(
        read_only=True,
        help_text="own_classes, subject, tutor_group, year_group, academy, or empty.",
    )
    target_value = serializers.SerializerMethodField(
        help_text="The target as a percentage, or null."
    )
    current_value = serializers.SerializerMethodField(
        help_text="The measure's value today as a percentage; null when the objective has no "
        "measure or there is no data yet."
    )
    current_display = serializers.SerializerMethodField(
        help_text="The current value as the pages show it, or null without a measure."
    )
    measure_basis = serializers.SerializerMethodField(
        help_text="What the current value is computed from, or null without a measure."
    )
    meets_target = serializers.SerializerMethodField(
        help_text="Whether the current value meets the target; null when either is missing."
    )

    class Meta:
        model = Objective
        fields = [
            "id",
            "appraisal",
            "position",
            "title",
            "success_criteria",
            "standards",
            "weighting",
            "support",
            "measure",
            "measure_label",
            "measure_scope",
            "measure_academy",
            "measure_subject",
            "measure_year_group",
            "measure_tutor_group",
            "target_value",
            "current_value",
            "current_display",
            "measure_basis",
            "meets_target",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _value(self, objective: Objective) -> Any:
        if not objective.measure:
            return None
        return self.context.get("measure_values", {}).get(objective.pk)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_target_value(self, objective: Objective) -> float | None:
        return _number(objective.target_value)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_current_value(self, objective: Objective) -> float | None:
        value = self._value(objective)
        return None if value is None or value.value is None else float(value.value)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_current_display(self, objective: Objective) -> str | None:
        value = self._value(objective)
        return None if value is None else value.display

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_measure_basis(self, objective: Objective) -> str | None:
        value = self._value(objective)
        return None if value is None else value.basis

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_meets_target(self, objective: Objective) -> bool | None:
        value = self._value(objective)
        return None if value is None else value.meets_target


class ObjectiveWithReviewsSerializer(ObjectiveSerializer):
    reviews = ReviewSerializer(many=True, read_only=True)

    class Meta(ObjectiveSerializer.Meta):
        fields = [*ObjectiveSerializer.Meta.fields, "reviews"]
        read_only_fields = fields


# Appraisals --------------------------------------------------------------------------


class SignatureSerializer(serializers.ModelSerializer):
    document = serializers.CharField(read_only=True, help_text="objectives or final_review.")
    party = serializers.CharField(read_only=True, help_text="appraisee or appraiser.")
    staff_name = serializers.CharField(source="staff.full_name", read_only=True)

    class Meta:
        model = Signature
        fields = [
            "id",
            "document",
            "party",
            "staff",
            "staff_name",
            "signed_at",
            "agrees",
            "comment",
        ]
        read_only_fields = fields


class AnnotationSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True)

    class Meta:
        model = Annotation
        fields = ["id", "appraisal", "author", "author_name", "text", "created_at"]
        read_only_fields = fields


class DevelopmentNeedSerializer(serializers.ModelSerializer):
    class Meta:
        model = DevelopmentNeed
        fields = ["id", "description", "suggested_kind", "dismissed", "created_at"]
        read_only_fields = fields


class OutcomeSummarySerializer(serializers.Serializer):
    met = serializers.IntegerField()
    partly_met = serializers.IntegerField()
    not_met = serializers.IntegerField()
    counted = serializers.IntegerField(
        help_text="Objectives with a final outcome other than not applicable."
    )
    reviewed = serializers.BooleanField()
    label = serializers.CharField(  # type: ignore[assignment]
        help_text='For example "2 of 3 met" or "not yet reviewed".'
    )


class AppraisalSerializer(serializers.ModelSerializer):
    """An appraisal as listed: who, where, its status and the next deadline."""

    academic_year_name = serializers.CharField(source="cycle.academic_year.name", read_only=True)
    appraisee = PersonSerializer(read_only=True)
    appraiser = PersonSerializer(read_only=True, allow_null=True)
    academy_name = serializers.CharField(source="academy.name", read_only=True, allow_null=True)
    track = serializers.CharField(read_only=True, help_text="staff or headteacher.")
    status = serializers.CharField(
        read_only=True,
        help_text="draft, objectives_agreed, mid_year_reviewed, final_reviewed or signed_off.",
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    next_deadline = serializers.SerializerMethodField(
        help_text="The next stage with its due date; null once signed off."
    )

    class Meta:
        model = Appraisal
        fields = [
            "id",
            "cycle",
            "academic_year_name",
            "appraisee",
            "appraiser",
            "academy",
            "academy_name",
            "track",
            "status",
            "status_label",
            "next_deadline",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(NextDeadlineSerializer(allow_null=True))
    def get_next_deadline(self, appraisal: Appraisal) -> dict[str, Any] | None:
        today: datetime.date = self.context["today"]
        table = _deadline_table(self.context, appraisal.cycle)
        step = next_due(appraisal, table, today)
        if step is None:
            return None
        return {"stage": step.stage, "label": step.label, "due": step.due, "overdue": step.overdue}


class AppraisalDetailSerializer(AppraisalSerializer):
    """An appraisal with its objectives and their reviews, signatures, notes,
    development needs and the summary of final outcomes."""

    objectives = ObjectiveWithReviewsSerializer(many=True, read_only=True)
    signatures = SignatureSerializer(many=True, read_only=True)
    annotations = AnnotationSerializer(many=True, read_only=True)
    development_needs = DevelopmentNeedSerializer(many=True, read_only=True)
    outcome_summary = serializers.SerializerMethodField()
    weighting_total = serializers.SerializerMethodField(
        help_text="The sum of the objectives' weightings; 100 before objectives can be agreed."
    )

    class Meta(AppraisalSerializer.Meta):
        fields = [
            *AppraisalSerializer.Meta.fields,
            "standard_set",
            "external_adviser",
            "objectives_agreed_at",
            "objectives_agreed_by",
            "mid_year_reviewed_at",
            "mid_year_reviewed_by",
            "final_reviewed_at",
            "final_reviewed_by",
            "signed_off_at",
            "signed_off_by",
            "mid_year_comment",
            "summary",
            "pay_recommendation",
            "weighting_total",
            "outcome_summary",
            "objectives",
            "signatures",
            "annotations",
            "development_needs",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OutcomeSummarySerializer)
    def get_outcome_summary(self, appraisal: Appraisal) -> dict[str, Any]:
        from .selectors import outcome_summary

        summary = outcome_summary(list(appraisal.objectives.all()))
        return {
            "met": summary.met,
            "partly_met": summary.partly_met,
            "not_met": summary.not_met,
            "counted": summary.counted,
            "reviewed": summary.reviewed,
            "label": summary.label,
        }

    def get_weighting_total(self, appraisal: Appraisal) -> int:
        return sum(objective.weighting for objective in appraisal.objectives.all())


# Portfolio ---------------------------------------------------------------------------


class EvidenceSerializer(serializers.ModelSerializer):
    """An evidence file; `download_url` serves it to those allowed to read the entry."""

    download_url = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceFile
        fields = [
            "id",
            "entry",
            "original_name",
            "content_type",
            "size",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, evidence: EvidenceFile) -> str:
        path = reverse("appraisal:evidence-download", args=[evidence.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class PortfolioEntrySerializer(serializers.ModelSerializer):
    staff_name = serializers.CharField(source="staff.full_name", read_only=True)
    kind = serializers.CharField(read_only=True, help_text=describe_choices(CpdKind.choices))
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    hours = serializers.SerializerMethodField()
    cost = serializers.SerializerMethodField(help_text="Pounds.")
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = PortfolioEntry
        fields = [
            "id",
            "staff",
            "staff_name",
            "kind",
            "kind_label",
            "title",
            "provider",
            "started_on",
            "ended_on",
            "hours",
            "cost",
            "reflection",
            "objectives",
            "standards",
            "development_need",
            "booking",
            "evidence",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_hours(self, entry: PortfolioEntry) -> float:
        return float(entry.hours)

    def get_cost(self, entry: PortfolioEntry) -> float:
        return float(entry.cost)


# Input -------------------------------------------------------------------------------


def _name_field_messages(name: str, field: serializers.Field) -> None:
    """Replace DRF's messages for a missing, null, empty or too long value,
    such as "This field is required.", with ones that name the field."""
    field.error_messages["required"] = f"{name} is missing; send it in the request body."
    field.error_messages["null"] = f"{name} is null; send a value."
    if isinstance(field, serializers.ListField):
        _name_field_messages(f"Each item of {name}", field.child)
        return
    if not isinstance(field, serializers.CharField):
        return
    field.error_messages["blank"] = f"{name} is empty; send some text."
    if field.max_length is not None:
        # DRF builds the length validator's message in __init__, so the
        # validator is replaced rather than its entry in error_messages.
        limit = field.max_length
        field.validators = [
            validator
            for validator in field.validators
            if not isinstance(validator, MaxLengthValidator)
        ] + [
            MaxLengthValidator(
                limit,
                message=f"{name} is longer than {limit} characters; shorten it to {limit} "
                "characters or fewer.",
            )
        ]


class InputSerializer(serializers.Serializer):
    """A request body whose missing, empty or too long fields are named in the message."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, field in fields.items():
            _name_field_messages(name, field)
        return fields


class DeadlineInput(InputSerializer):
    track = ChoiceInput(choices=Track.choices, noun="track")
    stage = ChoiceInput(choices=Stage.choices, noun="stage")
    due = DateInput(help_text="YYYY-MM-DD.")


class CycleCreateInput(InputSerializer):
    """A new cycle. Deadlines not sent take the trust's defaults."""

    academic_year = IdInput(help_text="Academic year id.")
    deadlines = DeadlineInput(
        many=True,
        required=False,
        default=list,
        help_text="Trust deadlines that replace the defaults, by track and stage.",
    )
    uses_pay_recommendation = BooleanInput(
        required=False,
        default=True,
        help_text="False when the cycle's final reviews record no pay recommendation.",
    )


class AppraisalCreateInput(InputSerializer):
    cycle = IdInput(help_text="Appraisal cycle id.")
    appraisee = IdInput(help_text="Staff member id.")
    appraiser = IdInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="Staff member id; omit for the appraisee's line manager.",
    )


class AppraisalUpdateInput(InputSerializer):
    appraiser = IdInput(help_text="Staff member id of the new appraiser.")


class SignInput(InputSerializer):
    agrees = BooleanInput(
        required=False,
        default=True,
        help_text="False records that you sign while disagreeing; say why in `comment`.",
    )
    comment = _text()


class MidYearInput(InputSerializer):
    comment = _text(help_text="The appraiser's comment on the mid-year review.")


class FinalReviewInput(InputSerializer):
    summary = serializers.CharField(allow_blank=True, help_text="The overall summary.")
    pay_recommendation = _text(
        help_text="Text, where the trust's pay policy uses a pay recommendation."
    )
    development_needs = serializers.ListField(
        child=serializers.CharField(max_length=300),
        required=False,
        default=list,
        help_text="Development needs that feed the next cycle and the portfolio.",
    )


class AnnotationInput(InputSerializer):
    text = serializers.CharField(help_text="A note added to the signed-off record.")


class ObjectiveInput(InputSerializer):
    """An objective's fields. A PATCH may send any of them, and the rest keep their values."""

    title = serializers.CharField(max_length=300)
    success_criteria = serializers.CharField()
    weighting = WholeNumberInput(help_text="Per cent, 1 to 100; all objectives total 100.")
    standards = _id_list(help_text="Standard ids.")
    support = _text()
    measure = ChoiceInput(
        choices=Measure.choices,
        noun="measure",
        required=False,
        allow_blank=True,
        default="",
    )
    measure_scope = ChoiceInput(
        choices=MeasureScope.choices,
        noun="measure scope",
        required=False,
        allow_blank=True,
        default="",
    )
    measure_academy = IdInput(required=False, allow_null=True, default=None)
    measure_subject = IdInput(required=False, allow_null=True, default=None)
    measure_year_group = IdInput(required=False, allow_null=True, default=None)
    measure_tutor_group = IdInput(required=False, allow_null=True, default=None)
    # Limits and decimal places are checked by the service, whose message
    # names the measure's rule.
    target_value = DecimalInput(
        max_digits=None,
        decimal_places=None,
        required=False,
        allow_null=True,
        default=None,
        coerce_to_string=False,
        help_text="Percentage with at most one decimal place.",
    )


class ObjectiveCreateInput(ObjectiveInput):
    appraisal = IdInput(help_text="Appraisal id.")


class ReviewInput(InputSerializer):
    """A review's fields. Omitted or null fields keep their current values."""

    objective = IdInput(help_text="Objective id.")
    kind = ChoiceInput(choices=ObjectiveReview.Kind.choices, noun="review kind")
    evidence = _optional_text(help_text="Written by the appraisee.")
    self_review = _optional_text(help_text="Written by the appraisee.")
    appraiser_comment = _optional_text(help_text="Written by the appraiser or a leader.")
    outcome = ChoiceInput(
        choices=Outcome.choices,
        noun="outcome",
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text=f"Final reviews only. One of: {describe_choices(Outcome.choices)}.",
    )


class PortfolioEntryInput(InputSerializer):
    """A portfolio entry's fields. A PATCH may send any of them."""

    staff = IdInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="Staff member id whose portfolio the entry is in. Omit it for your own "
        "portfolio. Another member of staff's id is accepted only from trust HR, who may "
        "edit every portfolio; from anyone else it is rejected with 400. An entry cannot "
        "move to another portfolio.",
    )
    kind = ChoiceInput(choices=CpdKind.choices, noun="kind")
    title = serializers.CharField(max_length=200)
    provider = _text()
    started_on = DateInput(help_text="YYYY-MM-DD.")
    ended_on = DateInput(required=False, allow_null=True, default=None)
    # Limits and decimal places are checked by appraisal.portfolio.entry_save.
    hours = DecimalInput(
        max_digits=None,
        decimal_places=None,
        required=False,
        default=Decimal("0"),
        coerce_to_string=False,
    )
    cost = DecimalInput(
        max_digits=None,
        decimal_places=None,
        required=False,
        default=Decimal("0"),
        coerce_to_string=False,
        help_text="Pounds.",
    )
    reflection = _text(help_text="Reflection on the impact.")
    objectives = _id_list(help_text="Ids of your objectives the entry supports.")
    standards = _id_list(help_text="Standard ids.")
    development_need = IdInput(required=False, allow_null=True, default=None)
    booking = IdInput(
        required=False,
        allow_null=True,
        default=None,
        help_text="Your CPD booking the entry records, or null.",
    )


class EvidenceUploadInput(InputSerializer):
    file = serializers.FileField(
        help_text="PDF, image or office document; the type is checked by content."
    )
