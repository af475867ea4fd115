"""Forms of the register pages: reading a submitted register, logging a
first-day call and assigning cover."""

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from pupils.models import Pupil
from staff.models import StaffMember
from trust import audit

from .models import FirstDayCall, RegisterCover
from .services import MarkInput

MINUTES_PATTERN = re.compile(r"[0-9]{1,3}")
VERSION_PATTERN = re.compile(r"[0-9]{1,9}")
FIELD_PATTERN = re.compile(r"code_([0-9]{1,12})")
MAX_REASON = 300


@dataclass
class EnteredMark:
    """The code, minutes and comment typed for one pupil, to refill the form."""

    code: str = ""
    minutes: str = ""
    comment: str = ""
    seen: str = ""
    choice: str = ""


@dataclass
class RegisterSubmission:
    marks: list[MarkInput] = field(default_factory=list)
    entered: dict[int, EnteredMark] = field(default_factory=dict)
    blank: int = 0
    reason: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def read_register(
    data: QueryDict, roll: list[Pupil], *, resolving: bool = False
) -> RegisterSubmission:
    """Read a submitted register into one MarkInput per pupil with a code.

    A pupil left blank is not saved. Minutes late with no code mean L, which
    marks_save turns into U when the register had closed. When `resolving`
    a conflict, only the pupils whose choice is "mine" are read.
    """
    submission = RegisterSubmission(reason=data.get("reason", "").strip())
    if len(submission.reason) > MAX_REASON:
        submission.add_error(
            "reason",
            f"The reason has {len(submission.reason)} characters; at most {MAX_REASON}.",
        )
    names = {p.pk: p.display_name for p in roll}
    for key in data:
        match = FIELD_PATTERN.fullmatch(key)
        if match and int(match.group(1)) not in names:
            submission.add_error(
                "register",
                f"Pupil {match.group(1)} is not on this register's roll for the date, so no "
                "mark was saved for them. Reload the register to see its current roll.",
            )

    for pupil_id, name in names.items():
        entered = EnteredMark(
            code=data.get(f"code_{pupil_id}", "").strip().upper(),
            minutes=data.get(f"minutes_{pupil_id}", "").strip(),
            comment=data.get(f"comment_{pupil_id}", "").strip(),
            seen=data.get(f"seen_{pupil_id}", "").strip(),
            choice=data.get(f"choice_{pupil_id}", ""),
        )
        submission.entered[pupil_id] = entered
        key = f"pupil_{pupil_id}"
        if resolving and entered.choice != "mine":
            continue
        minutes: int | None = None
        if entered.minutes:
            if not MINUTES_PATTERN.fullmatch(entered.minutes):
                submission.add_error(
                    key,
                    f"Minutes late for {name} is “{entered.minutes[:20]}”; enter whole minutes "
                    "from 1 to 600.",
                )
                continue
            minutes = int(entered.minutes)
            if not entered.code:
                entered.code = "L"
        seen: int | None = None
        if entered.seen:
            if not VERSION_PATTERN.fullmatch(entered.seen):
                submission.add_error(key, "The register form is damaged; reload the register.")
                continue
            seen = int(entered.seen)
        if not entered.code:
            submission.blank += 1
            continue
        submission.marks.append(
            MarkInput(
                pupil_id=pupil_id,
                code=entered.code,
                minutes_late=minutes,
                comment=entered.comment,
                seen_version=seen,
            )
        )
    return submission


class FirstDayCallForm(forms.ModelForm):
    """A call to a family about a pupil marked N today."""

    class Meta:
        model = FirstDayCall
        fields = ["outcome", "contact_name", "notes"]
        labels = {"contact_name": "Person spoken to or called"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        outcome = cleaned.get("outcome")
        if outcome == FirstDayCall.Outcome.REASON_GIVEN and not (
            cleaned.get("contact_name", "").strip() and cleaned.get("notes", "").strip()
        ):
            # The reason is what the register will need, so a call that got
            # one must say who gave it and what it was.
            self.add_error(
                "notes",
                "A call with the outcome 'Reason given' needs the person spoken to and the "
                "reason in the notes, for example 'Mother: illness, back tomorrow'.",
            )
        return cleaned

    @transaction.atomic
    def save_call(self, *, pupil: Pupil, day: datetime.date, actor: Any) -> FirstDayCall:
        call = self.save(commit=False)
        call.pupil = pupil
        call.date = day
        call.called_by = actor
        call.called_at = timezone.now()
        with audit.acting_as(actor):
            call.save()
        return call


class RegisterCoverForm(forms.Form):
    """Assign a teacher of the academy to take one register."""

    staff = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(), label="Teacher covering the register"
    )
    sessions = forms.ChoiceField(
        choices=RegisterCover.Sessions.choices, initial=RegisterCover.Sessions.BOTH
    )

    def __init__(self, *args: Any, academy_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff_field = self.fields["staff"]
        assert isinstance(staff_field, forms.ModelChoiceField)
        staff_field.queryset = StaffMember.objects.filter(
            academy_id=academy_id, user__isnull=False
        ).order_by("last_name", "first_name")

    @transaction.atomic
    def save_cover(self, *, tutor_group: Any, day: datetime.date, actor: Any) -> RegisterCover:
        with audit.acting_as(actor):
            return RegisterCover.objects.create(
                tutor_group=tutor_group,
                date=day,
                sessions=self.cleaned_data["sessions"],
                staff=self.cleaned_data["staff"],
                assigned_by=actor,
            )
