"""Forms of the appraisal pages. They check the shape of what was typed, and
appraisal.services checks the rules. The views put the services' errors back
on these forms' fields."""

from itertools import groupby
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from academies.models import Academy, TutorGroup, YearGroup
from progress.models import Subject
from staff.models import Role, RoleAssignment, StaffMember

from .models import (
    Appraisal,
    Measure,
    MeasureScope,
    Objective,
    Outcome,
    Signature,
    Standard,
    Track,
)


class StandardChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.title}"


class ObjectiveForm(forms.Form):
    # The form reports missing fields together. Numbers, ranges and lengths are
    # checked by services.objective_save, whose messages name the value typed.
    title = forms.CharField(
        label="Objective",
        widget=forms.TextInput(attrs={"maxlength": 300}),
        error_messages={"required": "The objective's title is missing; enter some text."},
    )
    success_criteria = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Success criteria",
        error_messages={
            "required": "The success criteria are missing; say how you will both know "
            "the objective is met."
        },
        help_text="How you will both know the objective has been met.",
    )
    weighting = forms.CharField(
        label="Weighting (%)",
        error_messages={"required": "Weighting is missing; enter a whole number from 1 to 100."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
        help_text="A whole number from 1 to 100. The weightings of all objectives must "
        "total exactly 100% before the objectives can be signed.",
    )
    standards = StandardChoiceField(
        queryset=Standard.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Standards this objective relates to",
    )
    support = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Support to be given",
        help_text="Training, time or coaching the appraisee will have.",
    )
    measure = forms.ChoiceField(
        choices=[("", "Not linked to a measure"), *Measure.choices],
        required=False,
        label="Live measure",
        help_text="A linked objective shows its current value, computed from progress "
        "or attendance data, beside the target.",
    )
    measure_scope = forms.ChoiceField(
        choices=[("", "Choose whose figures"), *MeasureScope.choices],
        required=False,
        label="Whose figures",
    )
    measure_academy = forms.ModelChoiceField(
        error_messages={"invalid_choice": "Academy %(value)s is not one of the choices listed."},
        queryset=Academy.objects.none(),
        required=False,
        label="Academy",
        help_text="For a subject in an academy, or a whole academy.",
    )
    measure_subject = forms.ModelChoiceField(
        error_messages={"invalid_choice": "Subject %(value)s is not one of the choices listed."},
        queryset=Subject.objects.none(),
        required=False,
        label="Subject",
        help_text="For a subject in an academy.",
    )
    measure_year_group = forms.ModelChoiceField(
        error_messages={"invalid_choice": "Year group %(value)s is not one of the choices listed."},
        queryset=YearGroup.objects.none(),
        required=False,
        label="Year group",
        help_text="For a year group.",
    )
    measure_tutor_group = forms.ModelChoiceField(
        error_messages={
            "invalid_choice": "Tutor group %(value)s is not one of the choices listed."
        },
        queryset=TutorGroup.objects.none(),
        required=False,
        label="Tutor group",
        help_text="For a tutor group.",
    )
    target_value = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
        label="Target (%)",
        help_text="A percentage from 0 to 100 with at most one decimal place, such as 85 or 4.5.",
    )

    def __init__(self, *args: Any, appraisal: Appraisal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields

        # Objectives are tagged against the appraisal's own set. An appraisal
        # without one may use any active set.
        if appraisal.standard_set_id:
            offered = Q(standard_set_id=appraisal.standard_set_id)
        else:
            offered = Q(standard_set__is_active=True)
        fields["standards"].queryset = (
            Standard.objects.filter(offered)
            .select_related("standard_set")
            .order_by("standard_set__name", "position", "code")
        )

        # The measure's places are those of the cycle's trust; tutor groups are this year's.
        trust_id = appraisal.cycle.academic_year.trust_id
        academies = Academy.objects.filter(trust_id=trust_id).order_by("name")
        fields["measure_academy"].queryset = academies
        subjects = Subject.objects.filter(trust_id=trust_id).order_by("name")
        fields["measure_subject"].queryset = subjects

        fields["measure_year_group"].queryset = (
            YearGroup.objects.filter(academy__in=academies)
            .select_related("academy")
            .order_by("academy__name", "nc_year")
        )
        fields["measure_year_group"].label_from_instance = lambda group: (
            f"{group.name}, {group.academy.name}"
        )

        fields["measure_tutor_group"].queryset = (
            TutorGroup.objects.filter(
                academy__in=academies, academic_year_id=appraisal.cycle.academic_year_id
            )
            .select_related("academy")
            .order_by("academy__name", "name")
        )
        fields["measure_tutor_group"].label_from_instance = lambda group: (
            f"{group.name}, {group.academy.name}"
        )

    def standard_groups(self) -> list[tuple[str, list[Any]]]:
        """Return the standards checkboxes grouped under their set's name."""
        field = self["standards"]
        by_pk = {str(choice.data["value"]): choice for choice in field.subwidgets}
        standards: QuerySet[Standard] = self.fields["standards"].queryset  # type: ignore[attr-defined]
        groups = []
        for set_name, members in groupby(standards, key=lambda s: s.standard_set.name):
            groups.append((set_name, [by_pk[str(s.pk)] for s in members if str(s.pk) in by_pk]))
        return groups

    @staticmethod
    def initial_for(objective: Objective) -> dict[str, Any]:
        return {
            "title": objective.title,
            "success_criteria": objective.success_criteria,
            "weighting": objective.weighting,
            "standards": [s.pk for s in objective.standards.all()],
            "support": objective.support,
            "measure": objective.measure,
            "measure_scope": objective.measure_scope,
            "measure_academy": objective.measure_academy_id,
            "measure_subject": objective.measure_subject_id,
            "measure_year_group": objective.measure_year_group_id,
            "measure_tutor_group": objective.measure_tutor_group_id,
            "target_value": "" if objective.target_value is None else objective.target_value,
        }


class SignForm(forms.Form):
    agrees = forms.ChoiceField(
        choices=[("yes", "I agree"), ("no", "I disagree")],
        widget=forms.RadioSelect,
        label="Do you agree?",
        # No choice is preselected, so an appraisee who means to disagree is
        # never recorded as agreeing by default.
        error_messages={
            "required": "Choose 'I agree' or 'I disagree' before signing.",
            "invalid_choice": "'%(value)s' is not a choice; choose 'I agree' or 'I disagree'.",
        },
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Comment",
        help_text="Required when you disagree: say what you disagree with and why. It is "
        "kept with your signature.",
    )

    def __init__(self, *args: Any, party: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The appraiser always signs in agreement. To disagree, they change the document.
        if party == Signature.Party.APPRAISER:
            del self.fields["agrees"]
            self.fields["comment"].help_text = "Optional. It is kept with your signature."


class AppraiseeReviewForm(forms.Form):
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Evidence",
        help_text="What you did and what shows progress towards the objective.",
    )
    self_review = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Your self-review"
    )


class AppraiserReviewForm(forms.Form):
    appraiser_comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Appraiser's comment"
    )
    outcome = forms.ChoiceField(
        choices=[("", "Not decided yet"), *Outcome.choices],
        required=False,
        label="Outcome",
        error_messages={
            "invalid_choice": "Outcome '%(value)s' is not one of the choices; choose met, "
            "partly met, not met or not applicable."
        },
        help_text="Not applicable leaves the objective out of the summary.",
    )

    def __init__(self, *args: Any, with_outcome: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_outcome:
            del self.fields["outcome"]


class MidYearForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Mid-year comment",
        help_text="Progress so far and anything to change for the rest of the year.",
    )


class FinalReviewForm(forms.Form):
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Summary of the year",
        error_messages={
            "required": "The summary of the year is missing; enter how the year went overall."
        },
    )
    pay_recommendation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Pay recommendation",
        help_text="Text the appraiser records under the trust's pay policy. This product "
        "computes no pay recommendation.",
    )
    development_needs = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Development needs",
        help_text="One per line, up to 300 characters each. They feed the next cycle and "
        "appear in the portfolio as suggested entries.",
    )

    def __init__(self, *args: Any, uses_pay_recommendation: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not uses_pay_recommendation:
            del self.fields["pay_recommendation"]

    def clean_development_needs(self) -> list[str]:
        """Return the non-blank lines, which services.final_review_complete checks."""
        lines = self.cleaned_data["development_needs"].splitlines()
        return [line.strip() for line in lines if line.strip()]


class AppraiserForm(forms.Form):
    appraiser = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(),
        label="Appraiser",
        empty_label="Choose a member of staff",
        help_text="Current staff of the appraisee's academy and of the trust's central team; "
        "a headteacher's appraiser comes from the central team. "
        "A signature the previous appraiser gave on a document the appraisee has not yet "
        "signed is removed.",
        error_messages={
            "required": "The appraiser is missing; choose one from the list.",
            "invalid_choice": "Staff member %(value)s is not one of the choices: choose a "
            "current member of staff of the appraisee's academy or the central team, other "
            "than the appraisee.",
        },
    )

    def __init__(self, *args: Any, appraisal: Appraisal, today: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["appraiser"]
        field.queryset = appraiser_choices(appraisal, today)
        field.label_from_instance = lambda member: (
            f"{member.full_name} ({member.job_title}, {member.workplace})"
        )


def appraiser_choices(appraisal: Appraisal, today: Any) -> QuerySet[StaffMember]:
    """Return the staff who may appraise `appraisal`: current staff of the
    appraisee's academy and of the central team, and the current appraiser
    wherever they work. The appraisee and staff who have left are never offered.

    A headteacher is appraised by the trust, not by their own staff, so for
    the headteacher track only the central team (and the current appraiser)
    is offered.

    A trustee governs the trust and is not one of its staff, so someone whose
    only current role is trustee is left out.
    """
    current_roles = RoleAssignment.objects.filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=today),
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
    )
    trustees = current_roles.filter(role=Role.TRUSTEE).values("staff_id")
    other_roles = current_roles.exclude(role=Role.TRUSTEE).values("staff_id")
    trustee_only = Q(pk__in=trustees) & ~Q(pk__in=other_roles)
    own_academy = (
        Q(academy_id=appraisal.academy_id)
        if appraisal.academy_id and appraisal.track != Track.HEADTEACHER
        else Q(pk__in=[])
    )
    central_team = Q(academy__isnull=True) & ~trustee_only
    offered = own_academy | central_team
    if appraisal.appraiser_id:
        offered |= Q(pk=appraisal.appraiser_id)
    return (
        StaffMember.objects.filter(offered)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=today))
        .exclude(pk=appraisal.appraisee_id)
        .select_related("academy")
        .order_by("last_name", "first_name", "pk")
    )


class AnnotationForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note",
        error_messages={"required": "The note is missing; enter the text to add to the record."},
        help_text="The record is signed off, so it cannot be changed; a note is added "
        "beneath it with your name and the date.",
    )
