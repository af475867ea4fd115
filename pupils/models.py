"""Pupils, their enrolments across the trust's academies, SEND, FSM and contacts."""

import datetime
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from academies.models import AcademicYear, Academy, TutorGroup, YearGroup

from .upn import upn_error


def validate_upn(value: str) -> None:
    error = upn_error(value)
    if error:
        raise ValidationError(error)


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʼ": "'", "‐": "-", "–": "-"})


def search_key(text: str) -> str:
    """Fold a name for searching: case, accents, curly apostrophes and hyphens
    all match their plain forms ("O’Brien-Smith" matches "o'brien smith")."""
    folded = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(folded.lower().replace("-", " ").split())


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    # For a pupil imported from a file without a sex column, until the
    # school records it.
    NOT_KNOWN = "U", "Not known"


class SenStatus(models.TextChoices):
    """School census SEN provision codes."""

    NONE = "N", "No special educational needs"
    SEN_SUPPORT = "K", "SEN support"
    EHC_PLAN = "E", "Education, health and care plan"


class SenNeedType(models.TextChoices):
    SPLD = "SPLD", "Specific learning difficulty"
    MLD = "MLD", "Moderate learning difficulty"
    SLD = "SLD", "Severe learning difficulty"
    PMLD = "PMLD", "Profound and multiple learning difficulty"
    SEMH = "SEMH", "Social, emotional and mental health"
    SLCN = "SLCN", "Speech, language and communication needs"
    HI = "HI", "Hearing impairment"
    VI = "VI", "Vision impairment"
    MSI = "MSI", "Multi-sensory impairment"
    PD = "PD", "Physical disability"
    ASD = "ASD", "Autistic spectrum disorder"
    OTH = "OTH", "Other difficulty or disability"
    NSA = "NSA", "SEN support but no specialist assessment of type of need"


# Fields that need the safeguarding permission on top of the pupil scope.
SENSITIVE_FIELDS = (
    "looked_after",
    "previously_looked_after",
    "medical_notes",
    "safeguarding_notes",
)


class Pupil(models.Model):
    upn = models.CharField("UPN", max_length=13, unique=True, validators=[validate_upn])
    legal_forename = models.CharField(max_length=100)
    legal_surname = models.CharField(max_length=100)
    middle_names = models.CharField(max_length=200, blank=True)
    preferred_forename = models.CharField(max_length=100, blank=True)
    preferred_surname = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.NOT_KNOWN)
    sen_status = models.CharField(
        "SEN status", max_length=1, choices=SenStatus.choices, default=SenStatus.NONE
    )
    eal = models.BooleanField("English as an additional language", default=False)
    looked_after = models.BooleanField(default=False)
    previously_looked_after = models.BooleanField(default=False)
    service_child = models.BooleanField(default=False)
    medical_notes = models.TextField(blank=True)
    safeguarding_notes = models.TextField(blank=True)
    # KS2 scaled scores (80 to 120), the prior attainment behind secondary targets.
    ks2_reading = models.PositiveSmallIntegerField(
        "KS2 reading scaled score", null=True, blank=True
    )
    ks2_maths = models.PositiveSmallIntegerField("KS2 maths scaled score", null=True, blank=True)
    # Folded "preferred legal surname" text for search; kept in step by save().
    search_name = models.CharField(max_length=400, editable=False, db_index=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_surname", "legal_forename", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sen_status__in=["N", "K", "E"]), name="pupil_sen_status_valid"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def forename(self) -> str:
        return self.preferred_forename or self.legal_forename

    @property
    def surname(self) -> str:
        return self.preferred_surname or self.legal_surname

    @property
    def display_name(self) -> str:
        """Preferred forename and surname, as lists show them."""
        return f"{self.forename} {self.surname}"

    @property
    def legal_name(self) -> str:
        parts = [self.legal_forename, self.middle_names, self.legal_surname]
        return " ".join(p for p in parts if p)

    def build_search_name(self) -> str:
        names = {
            self.legal_forename,
            self.legal_surname,
            self.preferred_forename,
            self.preferred_surname,
            self.middle_names,
        }
        return search_key(" ".join(sorted(n for n in names if n)))

    def save(self, *args, **kwargs) -> None:
        self.search_name = self.build_search_name()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)


class Enrolment(models.Model):
    """A period in which a pupil is on roll at one academy in one year group
    (and tutor group). A move of group ends one enrolment and starts the next."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="enrolments")
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="enrolments")
    academic_year = models.ForeignKey(
        AcademicYear, on_delete=models.PROTECT, related_name="enrolments"
    )
    year_group = models.ForeignKey(YearGroup, on_delete=models.PROTECT, related_name="enrolments")
    tutor_group = models.ForeignKey(
        TutorGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="enrolments"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Last day on roll")
    leaving_reason = models.CharField(max_length=200, blank=True)
    # Set for a pupil who stays in the same year group at the next rollover.
    kept_back = models.BooleanField(default=False)

    class Meta:
        ordering = ["pupil", "start_date"]
        indexes = [
            models.Index(fields=["academy", "start_date", "end_date"]),
            models.Index(fields=["year_group", "start_date", "end_date"]),
            models.Index(fields=["tutor_group", "start_date", "end_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="enrolment_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id} at {self.academy_id} from {self.start_date}"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


def active_on(day: datetime.date, prefix: str = "") -> Q:
    """Filter for enrolments on roll on `day`; `prefix` reaches them through a relation."""
    return Q(**{f"{prefix}start_date__lte": day}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": day})
    )


class SenNeed(models.Model):
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="sen_needs")
    need = models.CharField(max_length=4, choices=SenNeedType.choices)
    rank = models.PositiveSmallIntegerField(default=1, help_text="1 primary need, 2 secondary")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["pupil", "rank"]
        constraints = [models.UniqueConstraint(fields=["pupil", "need"], name="sen_need_unique")]

    def __str__(self) -> str:
        return self.get_need_display()


class FsmPeriod(models.Model):
    """A period of free school meals eligibility, as the CTF FSMinstance records it."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="fsm_periods")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pupil", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="fsm_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        end = f"{self.end_date:%d/%m/%Y}" if self.end_date else "open"
        return f"FSM {self.start_date:%d/%m/%Y} to {end}"


class Contact(models.Model):
    """A parent or carer, with the rights that decide what the school may share with them."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=50)
    parental_responsibility = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=1)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    # False when a court order or the family asks that this address is not
    # passed to the pupil's other parents or carers.
    address_shareable = models.BooleanField(default=True)

    class Meta:
        ordering = ["pupil", "priority"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship})"


class PupilReview(models.Model):
    """A UPN in an import that matches a pupil at another academy of the trust
    with a different date of birth. An administrator decides, never the import."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting review"
        MERGED = "merged", "Same pupil, records merged"
        REJECTED = "rejected", "Different pupil, row rejected"

    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="pupil_reviews")
    existing_pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="reviews")
    row = models.JSONField(help_text="The imported row as read")
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Review of UPN {self.existing_pupil.upn}"


class ImportRun(models.Model):
    """One confirmed pupil or staff import, applied by a Celery task.

    The row stores the queued, running and final states. While the task runs,
    its row count lives in the cache under the run's id (see
    trust.tasks_support), because the import's own transaction hides every
    row it has written until it commits.

    NOTE: a run whose task message the broker loses stays queued or running,
    because nothing outside the task marks a run failed.
    """

    class Kind(models.TextChoices):
        PUPILS = "pupils", "Pupil import"
        STAFF = "staff", "Staff import"
        GRADES = "grades", "Grades import"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    academy = models.ForeignKey(
        Academy, on_delete=models.CASCADE, null=True, blank=True, related_name="import_runs"
    )
    filename = models.CharField(max_length=255, help_text="The uploaded file's name")
    stored_name = models.CharField(max_length=255, help_text="The upload's name in default storage")
    requested_by = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="import_runs"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    summary = models.CharField(max_length=500, blank=True, help_text="The result in one sentence")
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} of {self.filename}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}
