"""Load the demo trust: academies, calendar, staff, pupils and demo logins."""

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from academies.demo.builder import SeedOptions, build_demo_trust
from academies.demo.staffing import DEMO_PASSWORD
from academies.models import Trust
from staff.models import RoleAssignment
from trust import clock
from trust.navigation import landing_url

# The demo logins in the order the table lists them.
DEMO_USERNAMES = (
    "trust.leader",
    "trust.admin",
    "trust.hr",
    "trustee",
    "head",
    "academy.leader",
    "attendance",
    "safeguarding",
    "hoy",
    "tutor",
    "teacher",
    "staff",
)

MAX_ACADEMIES = 200
MAX_PUPILS_PER_ACADEMY = 3000


def _positive(name: str, maximum: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise CommandError(
                f"{name} {text!r} is invalid; use a whole number from 1 to {maximum}."
            ) from None
        if not 1 <= value <= maximum:
            raise CommandError(f"{name} {value} is out of range; use 1 to {maximum}.")
        return value

    return parse


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--today {text!r} is invalid; use a date as YYYY-MM-DD, for example 2026-12-04."
        ) from None


def refresh_planner_statistics() -> None:
    """Refresh PostgreSQL's table statistics after the bulk load.

    Until autovacuum gets to the new rows, the planner believes the tables
    are nearly empty: a register save then recounted a pupil's year by
    scanning the whole year's marks, 150 ms in place of 6 ms on the largest
    trust. SQLite keeps no such statistics.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class Command(BaseCommand):
    help = (
        "Create a realistic demo trust with pupils, staff and one login per role "
        f"(password {DEMO_PASSWORD!r}). The same --seed and --today give the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--academies",
            type=_positive("--academies", MAX_ACADEMIES),
            default=6,
            help="Number of academies, the all-through flagship included (default 6).",
        )
        parser.add_argument(
            "--pupils-per-academy",
            type=_positive("--pupils-per-academy", MAX_PUPILS_PER_ACADEMY),
            default=300,
            help="Pupils on roll at each academy (default 300).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--today",
            type=_date,
            default=None,
            help="The date the data is built around, YYYY-MM-DD (default: today in London).",
        )
        parser.add_argument(
            "--attendance-weeks",
            type=_positive("--attendance-weeks", 104),
            default=None,
            help=(
                "Write register marks and behaviour incidents for only the last N weeks "
                "before --today (default: last academic year in full and this year to date). "
                "Keeps the largest demo trusts quick to load."
            ),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when a trust already exists, instead of stopping with an error.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if Trust.objects.exists():
            if options["if_empty"]:
                self.stdout.write("A trust already exists, so no demo data was loaded.")
                self._write_existing_logins()
                return
            raise CommandError(
                "A trust already exists, so the demo cannot load. Use --if-empty to skip "
                "loading, or `manage.py flush` to empty the database first."
            )
        username_taken = get_user_model().objects.filter(username="trust.leader").exists()
        if username_taken:
            raise CommandError(
                "User 'trust.leader' already exists, so the demo logins cannot be created. "
                "Run `manage.py flush` to empty the database first."
            )

        result = build_demo_trust(
            SeedOptions(
                academies=options["academies"],
                pupils_per_academy=options["pupils_per_academy"],
                seed=options["seed"],
                today=options["today"] or clock.today(),
                attendance_weeks=options.get("attendance_weeks"),
            )
        )
        refresh_planner_statistics()
        academies = "academy" if result.academies == 1 else "academies"
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result.academies} {academies}, {result.pupils} pupils "
                f"({result.enrolments} enrolments) and {result.staff} staff "
                f"in {result.seconds:.1f} s."
            )
        )
        self._write_logins(result.logins)

    def _write_existing_logins(self) -> None:
        """List the demo logins already in the database, so `make demo` always shows them."""
        users = get_user_model().objects.filter(username__in=DEMO_USERNAMES)
        by_name = {u.username: u for u in users}
        rows = []
        for username in DEMO_USERNAMES:
            user = by_name.get(username)
            if user is None:
                continue
            roles = RoleAssignment.objects.filter(staff__user=user).order_by("role")
            label = ", ".join(str(role) for role in roles) or "Staff member, no role"
            rows.append((username, label, landing_url(user)))
        if rows:
            self._write_table(rows)

    def _write_logins(self, logins: list[Any]) -> None:
        users = {
            u.username: u
            for u in get_user_model().objects.filter(username__in=[x.username for x in logins])
        }
        rows = [
            (login.username, login.role_label, landing_url(users[login.username]))
            for login in logins
        ]
        self._write_table(rows)

    def _write_table(self, body: list[tuple[str, str, str]]) -> None:
        rows = [("Username", "Role", "Lands on"), *body]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        self.stdout.write(f"\nDemo logins (password {DEMO_PASSWORD}):")
        for index, row in enumerate(rows):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
