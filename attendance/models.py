"""Register marks, the registers taken, per-pupil summaries, first-day calls
and staff absence."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from academies.models import AcademicYear, Academy, TutorGroup, YearGroup
from pupils.models import Pupil
from staff.models import StaffMember

from .codes import CATEGORY_LABELS


class Session(models.TextChoices):
    AM = "AM", "Morning"
    PM = "PM", "Afternoon"


CATEGORY_CHOICES = [(c.value, label) for c, label in CATEGORY_LABELS.items()]


def week_start(day: datetime.date) -> datetime.date:
    """Return the Monday of the week containing `day`."""
    return day - datetime.timedelta(days=day.weekday())


class SessionTimes(models.Model):
    """When an academy's registers open and how long they stay open."""

    academy = models.OneToOneField(Academy, on_delete=models.CASCADE, related_name="session_times")
    am_start = models.TimeField(default=datetime.time(8, 45))
    pm_start = models.TimeField(default=datetime.time(13, 15))
    # The 2024 regulations allow a register to stay open at most 30 minutes.
    open_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )

    class Meta:
        verbose_name_plural = "session times"
        constraints = [
            models.CheckConstraint(
                condition=Q(open_minutes__gte=1, open_minutes__lte=30),
                name="session_register_open_at_most_30_minutes",
            )
        ]

    def __str__(self) -> str:
        return f"Session times of {self.academy}"

    def start_of(self, session: str) -> datetime.time:
        return self.am_start if session == Session.AM else self.pm_start

    def closes_at(self, session: str) -> datetime.time:
        start = datetime.datetime.combine(datetime.date(2000, 1, 1), self.start_of(session))
        return (start + datetime.timedelta(minutes=self.open_minutes)).time()


class AttendanceMark(models.Model):
    """One pupil's mark for one session. The academy, year group, tutor group
    and academic year are those of the pupil's enrolment on the date, copied
    here so summaries and registers need no join through enrolments."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="attendance_marks")
    date = models.DateField()
    session = models.CharField(max_length=2, choices=Session.choices)
    code = models.CharField(max_length=2)
    # The code's category on the mark's date, kept so later rule changes
    # never rewrite history.
    category = models.CharField(max_length=12, choices=CATEGORY_CHOICES)
    minutes_late = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.CharField(max_length=500, blank=True)
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="+")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    year_group = models.ForeignKey(YearGroup, on_delete=models.PROTECT, related_name="+")
    tutor_group = models.ForeignKey(
        TutorGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    week_start = models.DateField(help_text="Monday of the mark's week, for weekly summaries")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)
    # Increases on every change, so a save based on an older read is detected.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["date", "session"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "date", "session"], name="attendance_mark_one_per_session"
            )
        ]
        indexes = [
            models.Index(fields=["pupil", "date"]),
            models.Index(fields=["tutor_group", "date", "session"]),
            models.Index(fields=["academy", "date", "code"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.date:%d/%m/%Y} {self.session}"


class Register(models.Model):
    """A tutor group's register for one session, once someone has taken it."""

    tutor_group = models.ForeignKey(TutorGroup, on_delete=models.CASCADE, related_name="registers")
    date = models.DateField()
    session = models.CharField(max_length=2, choices=Session.choices)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    taken_at = models.DateTimeField()
    last_saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    last_saved_at = models.DateTimeField()

    class Meta:
        ordering = ["-date", "session"]
        constraints = [
            models.UniqueConstraint(
                fields=["tutor_group", "date", "session"], name="register_one_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tutor_group.name} {self.date:%d/%m/%Y} {self.session}"


class CountsFields(models.Model):
    """Session counts by DfE category, shared by the summary tables."""

    present = models.PositiveIntegerField(default=0)
    approved_activity = models.PositiveIntegerField(default=0)
    authorised = models.PositiveIntegerField(default=0)
    unauthorised = models.PositiveIntegerField(default=0)
    not_counted = models.PositiveIntegerField(default=0)
    late_before_close = models.PositiveIntegerField(default=0)
    late_after_close = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class PupilYearSummary(CountsFields):
    """One pupil's counts at one academy in one academic year: one DfE
    enrolment. The write path rebuilds it from the marks in the same
    transaction as every change."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="attendance_years")
    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="+")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "academy", "academic_year"], name="pupil_year_summary_unique"
            )
        ]
        indexes = [models.Index(fields=["academy", "academic_year"])]

    def __str__(self) -> str:
        return f"Attendance of pupil {self.pupil_id} in {self.academic_year_id}"


class PupilWeekSummary(CountsFields):
    """One pupil's counts in one week, in one year group: the source of any
    date range's figures and of weekly trends."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="attendance_weeks")
    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="+")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.CASCADE, related_name="+")
    year_group = models.ForeignKey(YearGroup, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "academy", "year_group", "week_start"],
                name="pupil_week_summary_unique",
            )
        ]
        indexes = [
            models.Index(fields=["academy", "week_start"]),
            models.Index(fields=["year_group", "week_start"]),
        ]

    def __str__(self) -> str:
        return f"Attendance of pupil {self.pupil_id} in week of {self.week_start}"


class FirstDayCall(models.Model):
    """A call to a family about a pupil absent with no reason given."""

    class Outcome(models.TextChoices):
        REASON_GIVEN = "reason_given", "Reason given"
        NO_ANSWER = "no_answer", "No answer, message left"
        NOT_REACHED = "not_reached", "Could not be reached"
        ON_THE_WAY = "on_the_way", "Pupil on the way in"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="first_day_calls")
    date = models.DateField(help_text="The day of the absence")
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    called_at = models.DateTimeField()
    contact_name = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-called_at"]
        indexes = [models.Index(fields=["date", "pupil"])]

    def __str__(self) -> str:
        return f"Call about pupil {self.pupil_id} on {self.date:%d/%m/%Y}"


class StaffAbsence(models.Model):
    """A spell of staff absence, in whole or half days."""

    class Reason(models.TextChoices):
        SICKNESS = "sickness", "Sickness"
        TRAINING = "training", "Training or CPD"
        AUTHORISED = "authorised", "Authorised leave"
        UNAUTHORISED = "unauthorised", "Unauthorised absence"

    class SicknessCategory(models.TextChoices):
        MINOR = "minor", "Minor illness (cold, flu, stomach)"
        MUSCULOSKELETAL = "musculoskeletal", "Musculoskeletal"
        MENTAL_HEALTH = "mental_health", "Stress, anxiety or mental health"
        INJURY = "injury", "Injury"
        MEDICAL = "medical", "Planned medical treatment"
        OTHER = "other", "Other"

    class Part(models.TextChoices):
        FULL = "full", "Whole day"
        AM = "am", "Morning only"
        PM = "pm", "Afternoon only"

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="absences")
    start_date = models.DateField()
    start_part = models.CharField(max_length=4, choices=Part.choices, default=Part.FULL)
    end_date = models.DateField()
    end_part = models.CharField(max_length=4, choices=Part.choices, default=Part.FULL)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    sickness_category = models.CharField(
        max_length=16, choices=SicknessCategory.choices, blank=True
    )
    cover_needed = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="staff_absence_dates_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(reason="sickness") | ~Q(sickness_category=""),
                name="staff_absence_sickness_has_category",
            ),
        ]
        indexes = [models.Index(fields=["staff", "start_date"])]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.start_date:%d/%m/%Y} to {self.end_date:%d/%m/%Y}"


class RegisterCover(models.Model):
    """A teacher assigned to take one tutor group's register on one date,
    when the tutor is away. The teacher may take the register but not
    correct marks that others saved."""

    class Sessions(models.TextChoices):
        BOTH = "both", "Whole day"
        AM = "AM", "Morning"
        PM = "PM", "Afternoon"

    tutor_group = models.ForeignKey(TutorGroup, on_delete=models.CASCADE, related_name="covers")
    date = models.DateField()
    sessions = models.CharField(max_length=4, choices=Sessions.choices, default=Sessions.BOTH)
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="register_covers")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "tutor_group"]
        indexes = [
            models.Index(fields=["staff", "date"]),
            models.Index(fields=["tutor_group", "date"]),
        ]

    def __str__(self) -> str:
        return f"Cover of {self.tutor_group.name} on {self.date:%d/%m/%Y}"

    def covers(self, session: str) -> bool:
        return self.sessions in (self.Sessions.BOTH, session)
