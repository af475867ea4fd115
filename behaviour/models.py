"""Behaviour categories, incidents and their pupils, actions, follow-ups,
suspensions and permanent exclusions."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from academies.models import AcademicYear, Academy, Trust, TutorGroup, YearGroup
from pupils.models import Pupil
from staff.models import StaffMember


class Polarity(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"


class BehaviourCategory(models.Model):
    """A kind of behaviour with its points.

    The trust keeps one taxonomy (academy empty, no parent). An academy's own
    category names its trust category as parent, so figures compare across
    academies through the parent. Points are signed: positive categories
    allow points of zero or more, negative ones zero or less.
    """

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="behaviour_categories")
    academy = models.ForeignKey(
        Academy,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="behaviour_categories",
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="academy_categories",
        help_text="The trust category this academy category counts as",
    )
    name = models.CharField(max_length=80)
    polarity = models.CharField(max_length=8, choices=Polarity.choices)
    # 1 (low) to 5 (most serious), for negative categories only.
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    default_points = models.SmallIntegerField()
    min_points = models.SmallIntegerField()
    max_points = models.SmallIntegerField()
    # Incidents in a sensitive category (safeguarding, prejudice-related
    # bullying) start flagged sensitive.
    sensitive = models.BooleanField(default=False)
    retired_on = models.DateField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["polarity", "position", "name"]
        verbose_name_plural = "behaviour categories"
        constraints = [
            models.CheckConstraint(
                name="behaviour_category_parent_iff_academy",
                condition=Q(academy__isnull=True, parent__isnull=True)
                | Q(academy__isnull=False, parent__isnull=False),
            ),
            models.CheckConstraint(
                name="behaviour_category_points_ordered",
                condition=Q(min_points__lte=F("default_points"))
                & Q(default_points__lte=F("max_points")),
            ),
            models.CheckConstraint(
                name="behaviour_category_points_sign",
                condition=Q(polarity="positive", min_points__gte=0)
                | Q(polarity="negative", max_points__lte=0),
            ),
            models.CheckConstraint(
                name="behaviour_category_severity_range",
                condition=Q(severity__isnull=True) | Q(severity__gte=1, severity__lte=5),
            ),
            models.UniqueConstraint(
                fields=["trust", "academy", "name"],
                name="behaviour_category_unique_name",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def trust_category_id(self) -> int:
        return self.parent_id or self.pk

    def retired(self, on: datetime.date) -> bool:
        return self.retired_on is not None and self.retired_on <= on


class Location(models.TextChoices):
    CLASSROOM = "classroom", "Classroom"
    CORRIDOR = "corridor", "Corridor"
    PLAYGROUND = "playground", "Playground"
    DINING_HALL = "dining_hall", "Dining hall"
    TOILETS = "toilets", "Toilets"
    SPORTS = "sports", "Sports hall or field"
    LIBRARY = "library", "Library"
    ENTRANCE = "entrance", "Entrance or gates"
    TRANSPORT = "transport", "School transport"
    OFF_SITE = "off_site", "Off site"
    ONLINE = "online", "Online"
    OTHER = "other", "Other"


class SensitiveKind(models.TextChoices):
    SAFEGUARDING = "safeguarding", "Safeguarding"
    PREJUDICE = "prejudice", "Bullying of a protected kind (prejudice-related)"
    OTHER = "other", "Other sensitive matter"


class Incident(models.Model):
    """Something that happened, at one academy, involving one or more pupils.

    The category's trust category and polarity are copied here so figures
    group across academies without a join, and stay fixed if the category
    is later moved.
    """

    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="incidents")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    # The local (Europe/London) date of occurred_at, kept for date filters.
    date = models.DateField()
    category = models.ForeignKey(BehaviourCategory, on_delete=models.PROTECT, related_name="+")
    trust_category = models.ForeignKey(
        BehaviourCategory, on_delete=models.PROTECT, related_name="+"
    )
    polarity = models.CharField(max_length=8, choices=Polarity.choices)
    location = models.CharField(max_length=12, choices=Location.choices, blank=True)
    lesson = models.CharField(max_length=40, blank=True, help_text="For example 'Period 3'")
    subject = models.CharField(max_length=80, blank=True)
    description = models.TextField(blank=True)
    reported_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    sensitive = models.BooleanField(default=False)
    sensitive_kind = models.CharField(max_length=12, choices=SensitiveKind.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Raised on every change, so two people editing at once cannot overwrite
    # each other silently.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["academy", "date"]),
            models.Index(fields=["reported_by", "date"]),
        ]

    def __str__(self) -> str:
        return f"Incident {self.pk} on {self.date:%d/%m/%Y}"


class PupilRole(models.TextChoices):
    INVOLVED = "involved", "Involved"
    INSTIGATOR = "instigator", "Instigator"
    TARGET = "target", "Target"
    WITNESS = "witness", "Witness"


class IncidentPupil(models.Model):
    """One pupil's part in an incident, with their points.

    The pupil's enrolment on the day (academy, year group, tutor group) and
    the incident's date, polarity and trust category are copied here, so
    totals and analysis read one table.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="pupil_links")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="behaviour_links")
    role = models.CharField(max_length=10, choices=PupilRole.choices, default=PupilRole.INVOLVED)
    points = models.SmallIntegerField()
    date = models.DateField()
    polarity = models.CharField(max_length=8, choices=Polarity.choices)
    trust_category = models.ForeignKey(
        BehaviourCategory, on_delete=models.PROTECT, related_name="+"
    )
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="+")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    year_group = models.ForeignKey(YearGroup, on_delete=models.PROTECT, related_name="+")
    tutor_group = models.ForeignKey(
        TutorGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["incident", "pupil"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "pupil"], name="incident_pupil_once")
        ]
        indexes = [
            models.Index(fields=["pupil", "date"]),
            models.Index(fields=["academy", "date"]),
            models.Index(fields=["year_group", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.pupil} in incident {self.incident_id}"


class Action(models.Model):
    """A response to an incident for one pupil: a sanction, a contact with
    parents or a referral."""

    class Kind(models.TextChoices):
        DETENTION = "detention", "Detention"
        ISOLATION = "isolation", "Internal isolation or reflection"
        PARENT_CONTACT = "parent_contact", "Parent contacted"
        REFERRAL = "referral", "Referral to a member of staff"

    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"
        MEETING = "meeting", "Meeting"
        MESSAGE = "message", "Text or app message"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actions")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="behaviour_actions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Detention and isolation.
    date = models.DateField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    # None until the day has passed and someone records it.
    attended = models.BooleanField(null=True, blank=True)
    # Contact with parents.
    contact_method = models.CharField(max_length=8, choices=ContactMethod.choices, blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    # Referral.
    referred_to = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["incident", "pk"]
        indexes = [models.Index(fields=["kind", "date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for incident {self.incident_id}"


class FollowUp(models.Model):
    """A task arising from an incident, owned by one member of staff."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="follow_ups")
    owner = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="follow_ups")
    due_on = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["owner", "status", "due_on"])]

    def __str__(self) -> str:
        return f"Follow-up of incident {self.incident_id} due {self.due_on:%d/%m/%Y}"


# The edition of the DfE guidance whose thresholds the flags apply. Each
# suspension records the edition in force when it was entered.
GUIDANCE_EDITION = (
    "Suspension and permanent exclusion from maintained schools, academies and pupil "
    "referral units in England, including pupil movement (DfE, August 2024)"
)


class Suspension(models.Model):
    """A suspension, lunchtime suspension or permanent exclusion.

    Its sessions are listed in SuspensionSession; each session counts as
    half a school day, so a lunchtime counts as half a day too.
    """

    class Kind(models.TextChoices):
        SUSPENSION = "suspension", "Suspension"
        LUNCHTIME = "lunchtime", "Lunchtime suspension"
        PERMANENT = "permanent", "Permanent exclusion"

    class Status(models.TextChoices):
        ACTIVE = "active", "In force"
        WITHDRAWN = "withdrawn", "Withdrawn"

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="suspensions")
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="suspensions")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    year_group = models.ForeignKey(YearGroup, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="suspensions"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField()
    start_session = models.CharField(max_length=2, default="AM")
    # Suspensions: the number of sessions (a day is two), or lunchtimes for a
    # lunchtime suspension. A permanent exclusion has none.
    sessions = models.PositiveSmallIntegerField(null=True, blank=True)
    # The last day of the suspension, or for a permanent exclusion the last
    # day on roll once known.
    end_date = models.DateField(null=True, blank=True)
    reason_1 = models.CharField(max_length=2)
    reason_2 = models.CharField(max_length=2, blank=True)
    reason_3 = models.CharField(max_length=2, blank=True)
    details = models.TextField(blank=True)
    decided_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField()
    alternative_provision = models.BooleanField(default=False)
    alternative_provision_details = models.CharField(max_length=300, blank=True)
    misses_public_exam = models.BooleanField(
        default=False, help_text="The suspension makes the pupil miss a public exam or test"
    )
    parents_notified_on = models.DateField(null=True, blank=True)
    governors_notified_on = models.DateField(null=True, blank=True)
    local_authority_notified_on = models.DateField(null=True, blank=True)
    reintegration_meeting_on = models.DateField(null=True, blank=True)
    reintegration_notes = models.TextField(blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)
    guidance_edition = models.CharField(max_length=300, default=GUIDANCE_EDITION)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-pk"]
        indexes = [
            models.Index(fields=["academy", "start_date"]),
            models.Index(fields=["pupil", "start_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="suspension_end_after_start",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
            ),
            models.CheckConstraint(
                name="suspension_session_am_pm", condition=Q(start_session__in=["AM", "PM"])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_date:%d/%m/%Y}"

    @property
    def reasons(self) -> list[str]:
        return [code for code in (self.reason_1, self.reason_2, self.reason_3) if code]

    @property
    def school_days(self) -> Decimal:
        """The length in school days: each session (or lunchtime) is half a day."""
        return Decimal(self.sessions or 0) / 2


class SuspensionSession(models.Model):
    """One school session (AM, PM or a lunchtime, LN) covered by a suspension."""

    LUNCHTIME = "LN"

    suspension = models.ForeignKey(Suspension, on_delete=models.CASCADE, related_name="days")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    session = models.CharField(max_length=2)
    # Set once the E mark for this session has been written to the register.
    mark_written = models.BooleanField(default=False)

    class Meta:
        ordering = ["date", "session"]
        constraints = [
            models.UniqueConstraint(
                fields=["suspension", "date", "session"], name="suspension_session_once"
            )
        ]
        indexes = [
            models.Index(fields=["pupil", "date"]),
            models.Index(fields=["academy", "date", "mark_written"]),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.session}"
