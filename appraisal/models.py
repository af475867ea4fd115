"""Appraisal cycles, appraisals with their objectives, reviews and
signatures, and the professional development (CPD) portfolio with the
trust's CPD offer.

The appraisal regulations (SI 2012/115) do not bind academies, so the
trust's own policy sets the deadlines. The defaults follow the model
policies many trusts adopt: objectives by 31 October, and headteachers'
by 31 December.
"""

from decimal import Decimal

from django.core.files.storage import Storage, storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from academies.models import AcademicYear, Academy, TutorGroup, YearGroup
from progress.models import Subject
from staff.models import StaffMember

# Standards -------------------------------------------------------------------------


class StandardSet(models.Model):
    """A versioned list of standards objectives are tagged against: the
    Teachers' Standards are seeded; the trust may add sets for other roles."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # Post types (staff.models.PostType values) the set is offered for first.
    post_types = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Standard(models.Model):
    standard_set = models.ForeignKey(
        StandardSet, on_delete=models.CASCADE, related_name="standards"
    )
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Part Two of the Teachers' Standards is a conduct standard and is not graded.
    graded = models.BooleanField(default=True)

    class Meta:
        ordering = ["standard_set", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["standard_set", "code"], name="standard_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


# Cycles and deadlines ----------------------------------------------------------------


class AppraisalCycle(models.Model):
    """The appraisal cycle of one academic year."""

    academic_year = models.OneToOneField(
        AcademicYear, on_delete=models.PROTECT, related_name="appraisal_cycle"
    )
    # True when the trust's pay policy requires appraisers to record a pay recommendation.
    uses_pay_recommendation = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-academic_year__start_year"]

    def __str__(self) -> str:
        return f"Appraisal cycle {self.academic_year}"


class Stage(models.TextChoices):
    """The steps that have deadlines, in order."""

    OBJECTIVES = "objectives", "Objectives agreed"
    MID_YEAR = "mid_year", "Mid-year review"
    FINAL_REVIEW = "final_review", "Final review"
    SIGN_OFF = "sign_off", "Sign-off"


class Track(models.TextChoices):
    """Headteachers are appraised on their own timetable (by the trust, with an
    external adviser); everyone else on the staff one."""

    STAFF = "staff", "Teachers and other staff"
    HEADTEACHER = "headteacher", "Headteachers"


class Deadline(models.Model):
    """A stage's due date on one track: the trust's (no academy) or an
    academy's own date, which replaces the trust's for that academy."""

    cycle = models.ForeignKey(AppraisalCycle, on_delete=models.CASCADE, related_name="deadlines")
    academy = models.ForeignKey(
        Academy, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    track = models.CharField(max_length=12, choices=Track.choices)
    stage = models.CharField(max_length=12, choices=Stage.choices)
    due = models.DateField()

    class Meta:
        ordering = ["cycle", "track", "due"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "track", "stage"],
                condition=Q(academy__isnull=True),
                name="deadline_trust_unique",
            ),
            models.UniqueConstraint(
                fields=["cycle", "academy", "track", "stage"],
                condition=Q(academy__isnull=False),
                name="deadline_academy_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} ({self.get_track_display()}) {self.due}"


# Appraisals ---------------------------------------------------------------------------


class Appraisal(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OBJECTIVES_AGREED = "objectives_agreed", "Objectives agreed"
        MID_YEAR_REVIEWED = "mid_year_reviewed", "Mid-year reviewed"
        FINAL_REVIEWED = "final_reviewed", "Final reviewed"
        SIGNED_OFF = "signed_off", "Signed off"

    cycle = models.ForeignKey(AppraisalCycle, on_delete=models.PROTECT, related_name="appraisals")
    appraisee = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="appraisals")
    appraiser = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appraisals_as_appraiser",
    )
    # The appraisee's academy when the appraisal was opened (null for the
    # central team), so completion counts stay put if they move.
    academy = models.ForeignKey(
        Academy, on_delete=models.PROTECT, null=True, blank=True, related_name="appraisals"
    )
    track = models.CharField(max_length=12, choices=Track.choices, default=Track.STAFF)
    standard_set = models.ForeignKey(
        StandardSet, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A headteacher's appraisal involves an external adviser (reg 4 model).
    external_adviser = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)

    objectives_agreed_at = models.DateTimeField(null=True, blank=True)
    objectives_agreed_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    mid_year_reviewed_at = models.DateTimeField(null=True, blank=True)
    mid_year_reviewed_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    final_reviewed_at = models.DateTimeField(null=True, blank=True)
    final_reviewed_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    mid_year_comment = models.TextField(blank=True)
    summary = models.TextField(blank=True)
    pay_recommendation = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cycle", "appraisee"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "appraisee"], name="appraisal_unique"),
            models.CheckConstraint(
                name="appraisal_appraiser_not_appraisee",
                condition=Q(appraiser__isnull=True) | ~Q(appraiser=models.F("appraisee")),
            ),
        ]
        indexes = [models.Index(fields=["cycle", "academy", "status"])]

    def __str__(self) -> str:
        return f"{self.appraisee} {self.cycle.academic_year}"

    @property
    def is_signed_off(self) -> bool:
        return self.status == self.Status.SIGNED_OFF


# The order of the statuses; a step only ever moves one place forward.
STATUS_ORDER = [s.value for s in Appraisal.Status]


class Signature(models.Model):
    """A signature on the objectives or on the final review. The appraisee may
    sign while disagreeing; the disagreement and their comment are kept."""

    class Document(models.TextChoices):
        OBJECTIVES = "objectives", "Objectives"
        FINAL_REVIEW = "final_review", "Final review"

    class Party(models.TextChoices):
        APPRAISEE = "appraisee", "Appraisee"
        APPRAISER = "appraiser", "Appraiser"

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="signatures")
    document = models.CharField(max_length=12, choices=Document.choices)
    party = models.CharField(max_length=10, choices=Party.choices)
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    agrees = models.BooleanField(default=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["appraisal", "document", "party"]
        constraints = [
            models.UniqueConstraint(
                fields=["appraisal", "document", "party"], name="signature_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_party_display()} signed {self.get_document_display().lower()}"


class Measure(models.TextChoices):
    """Live measures an objective can be linked to; values are computed."""

    TMG_LATEST = "tmg_latest", "Pupils on or above TMG at the latest assessment point (%)"
    TMG_FINAL = "tmg_final", "Pupils on or above TMG in final results (%)"
    ATTENDANCE = "attendance", "Attendance rate (%)"
    PERSISTENT_ABSENCE = "persistent_absence", "Persistent absence rate (%)"


class MeasureScope(models.TextChoices):
    OWN_CLASSES = "own_classes", "The appraisee's classes"
    SUBJECT = "subject", "A subject in an academy"
    TUTOR_GROUP = "tutor_group", "A tutor group"
    YEAR_GROUP = "year_group", "A year group"
    ACADEMY = "academy", "An academy"


class Objective(models.Model):
    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="objectives")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=300)
    success_criteria = models.TextField()
    standards = models.ManyToManyField(Standard, blank=True, related_name="objectives")
    weighting = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    support = models.TextField(blank=True)
    measure = models.CharField(max_length=20, choices=Measure.choices, blank=True)
    measure_scope = models.CharField(max_length=12, choices=MeasureScope.choices, blank=True)
    measure_academy = models.ForeignKey(
        Academy, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    measure_subject = models.ForeignKey(
        Subject, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    measure_year_group = models.ForeignKey(
        YearGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    measure_tutor_group = models.ForeignKey(
        TutorGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target_value = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["appraisal", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class Outcome(models.TextChoices):
    MET = "met", "Met"
    PARTLY_MET = "partly_met", "Partly met"
    NOT_MET = "not_met", "Not met"
    # Left out of the summary: circumstances made the objective moot.
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class ObjectiveReview(models.Model):
    """The review of one objective at the mid-year or final stage. Only the
    final review's outcome counts in the summary."""

    class Kind(models.TextChoices):
        MID_YEAR = "mid_year", "Mid-year"
        FINAL = "final", "Final"

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    evidence = models.TextField(blank=True)
    self_review = models.TextField(blank=True)
    appraiser_comment = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["objective", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["objective", "kind"], name="objective_review_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} review of {self.objective}"


class DevelopmentNeed(models.Model):
    """A development need found at review. It feeds the next cycle and shows
    in the appraisee's portfolio as a suggested entry until one addresses it."""

    appraisal = models.ForeignKey(
        Appraisal, on_delete=models.CASCADE, related_name="development_needs"
    )
    description = models.CharField(max_length=300)
    suggested_kind = models.CharField(max_length=16, blank=True)
    dismissed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["appraisal", "pk"]

    def __str__(self) -> str:
        return self.description


class Annotation(models.Model):
    """A note added to a signed-off appraisal, which can no longer be edited."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="annotations")
    author = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["appraisal", "created_at", "pk"]

    def __str__(self) -> str:
        return f"Note by {self.author} on {self.appraisal}"


# Professional development portfolio ------------------------------------------------


class CpdKind(models.TextChoices):
    COURSE = "course", "Course"
    INSET = "inset", "INSET"
    COACHING = "coaching", "Coaching"
    OBSERVATION = "observation", "Observation"
    PEER_VISIT = "peer_visit", "Peer visit to another academy"
    QUALIFICATION = "qualification", "Qualification (such as an NPQ)"
    READING = "reading", "Reading"
    RESEARCH = "research", "Research"


class CpdEvent(models.Model):
    """A course or event in the trust's CPD offer, open to staff of any academy."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=CpdKind.choices, default=CpdKind.COURSE)
    provider = models.CharField(max_length=200, blank=True)
    subject = models.ForeignKey(
        Subject, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    host_academy = models.ForeignKey(
        Academy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    venue = models.CharField(max_length=200, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    hours = models.DecimalField(
        max_digits=5, decimal_places=1, validators=[MinValueValidator(Decimal("0"))]
    )
    cost_per_place = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    places = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    cancelled = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on", "title"]
        constraints = [
            models.CheckConstraint(
                name="cpd_event_dates_ordered", condition=Q(ends_on__gte=models.F("starts_on"))
            )
        ]

    def __str__(self) -> str:
        return self.title


class CpdBooking(models.Model):
    """A staff member's place on an event. Attendance is marked afterwards; an
    attended booking adds an entry to the portfolio."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    class Attendance(models.TextChoices):
        UNKNOWN = "", "Not marked"
        ATTENDED = "attended", "Attended"
        ABSENT = "absent", "Did not attend"

    event = models.ForeignKey(CpdEvent, on_delete=models.CASCADE, related_name="bookings")
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="cpd_bookings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    attendance = models.CharField(
        max_length=10, choices=Attendance.choices, default=Attendance.UNKNOWN, blank=True
    )
    booked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "staff"]
        constraints = [
            models.UniqueConstraint(fields=["event", "staff"], name="cpd_booking_unique")
        ]

    def __str__(self) -> str:
        return f"{self.staff} on {self.event}"


class PortfolioEntry(models.Model):
    staff = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="portfolio_entries"
    )
    kind = models.CharField(max_length=16, choices=CpdKind.choices)
    title = models.CharField(max_length=200)
    provider = models.CharField(max_length=200, blank=True)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    cost = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    reflection = models.TextField(blank=True)
    objectives = models.ManyToManyField(Objective, blank=True, related_name="portfolio_entries")
    standards = models.ManyToManyField(Standard, blank=True, related_name="portfolio_entries")
    development_need = models.ForeignKey(
        DevelopmentNeed,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="portfolio_entries",
    )
    booking = models.OneToOneField(
        CpdBooking,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="portfolio_entry",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["staff", "-started_on", "pk"]
        verbose_name_plural = "portfolio entries"
        indexes = [models.Index(fields=["staff", "started_on"])]
        constraints = [
            models.CheckConstraint(
                name="portfolio_entry_dates_ordered",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
            )
        ]

    def __str__(self) -> str:
        return self.title


def evidence_storage() -> Storage:
    return storages["evidence"]


def evidence_path(instance: "EvidenceFile", filename: str) -> str:
    # The stored name is generated; the uploaded name is kept only as text,
    # so nothing a user types reaches the file system.
    return f"evidence/{instance.entry.staff_id}/{instance.token}{instance.extension}"


class EvidenceFile(models.Model):
    entry = models.ForeignKey(PortfolioEntry, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, storage=evidence_storage, max_length=300)
    token = models.CharField(max_length=32, unique=True)
    extension = models.CharField(max_length=8)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name
