"""Grade scales, subjects and qualifications, classes, assessment points,
grades and Target Minimum Grades."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from academies.models import AcademicYear, Academy, Trust, YearGroup
from pupils.models import Pupil
from staff.models import StaffMember


class GradeScale(models.Model):
    """A scale that grades are given on, kept as data so a trust can add its own.

    `step` is one whole grade in points (1 for GCSE and A level, whatever the
    trust sets for vocational scales). A numeric scale (KS2 scaled scores)
    takes numbers from min_value to max_value instead of listed grades.
    """

    class Kind(models.TextChoices):
        GCSE = "gcse", "GCSE"
        A_LEVEL = "a_level", "A level"
        VOCATIONAL = "vocational", "Vocational"
        PRIMARY_TA = "primary_ta", "Primary teacher assessment"
        SCALED_SCORE = "scaled_score", "Scaled score"

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="grade_scales")
    code = models.SlugField(max_length=30)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    step = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1"))
    # Only scales whose grades carry DfE points enter Attainment 8.
    counts_in_attainment8 = models.BooleanField(default=False)
    numeric = models.BooleanField(default=False)
    min_value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["trust", "name"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "code"], name="grade_scale_code_unique"),
            models.CheckConstraint(name="grade_scale_step_positive", condition=Q(step__gt=0)),
        ]

    def __str__(self) -> str:
        return self.name


class Grade(models.Model):
    """One value of a scale with its points.

    Fine grades (6-, 6+) are for in-year judgements only. Entries that are
    not grades (absent, not sat) have `is_result` false: they are shown and
    flagged but never scored or compared.
    """

    scale = models.ForeignKey(GradeScale, on_delete=models.CASCADE, related_name="grades")
    label = models.CharField(max_length=12)
    points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # DfE Attainment 8 points, where the trust has entered them.
    dfe_points = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    fine = models.BooleanField(default=False)
    is_result = models.BooleanField(default=True)
    # Sort order: highest grade first, then the entries that are not results.
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scale", "position"]
        constraints = [
            models.UniqueConstraint(fields=["scale", "label"], name="grade_label_unique"),
            models.CheckConstraint(
                name="grade_result_has_points",
                condition=Q(is_result=False) | Q(points__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.label


class GradeEquivalent(models.Model):
    """An explicit mapping of a grade onto another scale's points, such as a
    legacy letter grade onto GCSE 9 to 1. Grades of different scales are
    compared only through such a row, never by their labels."""

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="equivalents")
    scale = models.ForeignKey(GradeScale, on_delete=models.CASCADE, related_name="+")
    points = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grade", "scale"], name="grade_equivalent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.grade} = {self.points} on {self.scale}"


class Subject(models.Model):
    """A subject taught across the trust (English, Mathematics, History...)."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="subjects")
    name = models.CharField(max_length=80)
    code = models.SlugField(max_length=20)

    class Meta:
        ordering = ["trust", "name"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "code"], name="subject_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Qualification(models.Model):
    """A qualification taken in a subject, with the scale it is graded on, for
    example GCSE Mathematics on GCSE 9 to 1, or the KS2 reading scaled score."""

    class Element(models.TextChoices):
        """The Attainment 8 element the qualification fills, if any."""

        ENGLISH_LANGUAGE = "english_language", "English language"
        ENGLISH_LITERATURE = "english_literature", "English literature"
        MATHS = "maths", "Mathematics"
        EBACC_SCIENCE = "ebacc_science", "EBacc science"
        EBACC_HUMANITIES = "ebacc_humanities", "EBacc humanities"
        EBACC_LANGUAGE = "ebacc_language", "EBacc language"
        OPEN = "open", "Open"
        NONE = "none", "Not in Attainment 8"

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="qualifications")
    name = models.CharField(max_length=120)
    scale = models.ForeignKey(GradeScale, on_delete=models.PROTECT, related_name="qualifications")
    element = models.CharField(max_length=20, choices=Element.choices, default=Element.NONE)
    # Combined science fills two slots and other double awards likewise.
    slots = models.PositiveSmallIntegerField(default=1)
    retired = models.BooleanField(default=False)

    class Meta:
        ordering = ["subject", "name"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "name"], name="qualification_unique")
        ]

    def __str__(self) -> str:
        return self.name


class TeachingGroup(models.Model):
    """A class: pupils taught one qualification by one or more teachers in one year."""

    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="teaching_groups")
    academic_year = models.ForeignKey(
        AcademicYear, on_delete=models.PROTECT, related_name="teaching_groups"
    )
    year_group = models.ForeignKey(
        YearGroup, on_delete=models.PROTECT, related_name="teaching_groups"
    )
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="teaching_groups"
    )
    name = models.CharField(max_length=30)
    teachers = models.ManyToManyField(StaffMember, related_name="teaching_groups", blank=True)

    class Meta:
        ordering = ["academy", "academic_year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["academy", "academic_year", "name"], name="teaching_group_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ClassMembership(models.Model):
    """A pupil's time in a class. Moving class ends one membership and starts another."""

    group = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE, related_name="memberships")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="class_memberships")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["group", "pupil"]
        indexes = [models.Index(fields=["pupil", "start_date"])]
        constraints = [
            models.CheckConstraint(
                name="class_membership_dates_ordered",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.pupil} in {self.group}"


class AssessmentPoint(models.Model):
    """A data drop for one year group of one academy."""

    class Kind(models.TextChoices):
        WORKING_AT = "working_at", "Working at"
        PREDICTED = "predicted", "Predicted"
        MOCK = "mock", "Mock exam"
        FINAL = "final", "Final result"

    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="assessment_points")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    year_group = models.ForeignKey(
        YearGroup, on_delete=models.PROTECT, related_name="assessment_points"
    )
    name = models.CharField(max_length=60)
    date = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        ordering = ["academy", "year_group", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["year_group", "academic_year", "name"], name="assessment_point_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class GradeEntry(models.Model):
    """A pupil's grade in one qualification at one assessment point.

    `grade` is set for listed scales, `value` for numeric ones (scaled
    scores). The enrolment's academy, academic year and year group on the
    assessment date are copied so figures read one table.
    """

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="grade_entries")
    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="+")
    assessment_point = models.ForeignKey(
        AssessmentPoint, on_delete=models.CASCADE, related_name="entries"
    )
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, null=True, blank=True)
    value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="+")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    year_group = models.ForeignKey(YearGroup, on_delete=models.PROTECT, related_name="+")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    entered_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "qualification", "assessment_point"], name="grade_entry_once"
            ),
            models.CheckConstraint(
                name="grade_entry_grade_or_value",
                condition=Q(grade__isnull=False, value__isnull=True)
                | Q(grade__isnull=True, value__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["assessment_point", "qualification"]),
            models.Index(fields=["academy", "academic_year"]),
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id} {self.qualification_id} at {self.assessment_point_id}"


class EstimateTable(models.Model):
    """Attainment 8 element estimates by KS2 prior attainment group, uploaded
    by the trust: the DfE's table or the trust's own aspirational one."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="estimate_tables")
    name = models.CharField(max_length=120)
    # The cohort year the estimates describe, shown wherever they are used.
    year = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=300)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


class EstimateRow(models.Model):
    table = models.ForeignKey(EstimateTable, on_delete=models.CASCADE, related_name="rows")
    group = models.PositiveSmallIntegerField()
    ks2_from = models.DecimalField(max_digits=5, decimal_places=2)
    ks2_to = models.DecimalField(max_digits=5, decimal_places=2)
    attainment8 = models.DecimalField(max_digits=5, decimal_places=2)
    english = models.DecimalField(max_digits=5, decimal_places=2)
    maths = models.DecimalField(max_digits=5, decimal_places=2)
    ebacc = models.DecimalField(max_digits=5, decimal_places=2)
    open = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["table", "group"]
        constraints = [
            models.UniqueConstraint(fields=["table", "group"], name="estimate_row_unique"),
            models.CheckConstraint(
                name="estimate_row_range_ordered", condition=Q(ks2_from__lte=F("ks2_to"))
            ),
        ]

    def __str__(self) -> str:
        return f"Group {self.group}"


class ProgressSettings(models.Model):
    """An academy's progress settings: the uplift added to generated TMGs."""

    academy = models.OneToOneField(
        Academy, on_delete=models.CASCADE, related_name="progress_settings"
    )
    uplift = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Whole grades added to generated TMGs",
    )

    def __str__(self) -> str:
        return f"Progress settings of {self.academy}"


class TargetGrade(models.Model):
    """A pupil's Target Minimum Grade in one qualification for one academic year.

    Changes are kept in the audit trail; lowering one needs a leader.
    """

    class Basis(models.TextChoices):
        GENERATED = "generated", "Generated from KS2 prior attainment"
        MANUAL = "manual", "Set by hand"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="target_grades")
    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="+")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    # A grade of the qualification's scale, or a value on a numeric scale.
    grade = models.ForeignKey(
        Grade, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    basis = models.CharField(max_length=10, choices=Basis.choices)
    reason = models.CharField(max_length=300, blank=True)
    estimate_table = models.ForeignKey(
        EstimateTable, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uplift = models.DecimalField(max_digits=3, decimal_places=1, default=Decimal("0"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    set_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "qualification", "academic_year"], name="target_grade_once"
            ),
            models.CheckConstraint(
                name="target_grade_grade_or_value",
                condition=Q(grade__isnull=False, value__isnull=True)
                | Q(grade__isnull=True, value__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["academic_year", "qualification"])]

    def __str__(self) -> str:
        return f"TMG {self.grade or self.value} for pupil {self.pupil_id}"


class Intervention(models.Model):
    """Support put in place for one or more pupils who are behind, with a review date."""

    class Kind(models.TextChoices):
        TUTORING = "tutoring", "Tutoring"
        MENTORING = "mentoring", "Mentoring"
        CATCH_UP = "catch_up", "Catch-up sessions"
        LITERACY = "literacy", "Literacy support"
        NUMERACY = "numeracy", "Numeracy support"
        REVISION = "revision", "Revision club"
        PASTORAL = "pastoral", "Pastoral support"
        HOMEWORK = "homework", "Homework club"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "In place"
        REVIEWED = "reviewed", "Reviewed"
        STOPPED = "stopped", "Stopped"

    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="interventions")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=120)
    # Empty for support across subjects, such as mentoring.
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="interventions")
    start_date = models.DateField()
    review_date = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    notes = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    reviewed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["review_date", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "review_date"]),
            models.Index(fields=["academy", "academic_year"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="intervention_review_after_start",
                condition=Q(review_date__gte=F("start_date")),
            )
        ]

    def __str__(self) -> str:
        return self.title


class InterventionPupil(models.Model):
    """One pupil in an intervention, with the grade and TMG points at the start
    and the grade at review, so its impact can be measured."""

    intervention = models.ForeignKey(
        Intervention, on_delete=models.CASCADE, related_name="pupil_links"
    )
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="interventions")
    start_points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    tmg_points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    review_points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["intervention", "pupil"]
        constraints = [
            models.UniqueConstraint(
                fields=["intervention", "pupil"], name="intervention_pupil_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pupil} in {self.intervention}"


class ParentContact(models.Model):
    """A contact with a pupil's parents or carers about their progress."""

    class Method(models.TextChoices):
        LETTER = "letter", "Letter"
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone call"
        MEETING = "meeting", "Meeting"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="parent_contacts")
    # The parent or carer contacted, when one is named.
    contact = models.ForeignKey(
        "pupils.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=8, choices=Method.choices)
    occurred_at = models.DateTimeField()
    summary = models.TextField()
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["pupil", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_method_display()} about {self.pupil_id}"
