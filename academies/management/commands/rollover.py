"""Move every pupil into the next academic year (the September rollover)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from academies.services import rollover


class Command(BaseCommand):
    help = (
        "Start the academic year beginning in September of --to: pupils move up a year "
        "group, leavers leave, kept-back pupils stay. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            required=True,
            help="Calendar year in which the new academic year starts, e.g. 2027 for 2027/28.",
        )
        parser.add_argument(
            "--user",
            default="",
            help="Username recorded in the audit trail as the one who ran it (default: none).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = options["to"]
        try:
            to_start_year = int(text)
        except ValueError:
            raise CommandError(
                f"--to {text!r} is invalid; use a four-digit year, for example 2027."
            ) from None

        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(
                    f"--user {options['user']!r} was not found; give an existing username."
                )

        try:
            result = rollover(to_start_year=to_start_year, actor=actor)
        except ValidationError as error:
            messages = [m for ms in error.message_dict.values() for m in ms]
            raise CommandError(" ".join(messages)) from None
        self.stdout.write(self.style.SUCCESS(result.summary()))
