"""Import historical register marks for one academy from a CSV or XLSX file."""

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from academies.models import Academy
from attendance.imports import (
    ImportRejected,
    MarkImportPlan,
    build_plan,
    describe_errors,
    marks_import_apply,
)
from trust.import_commands import importing_user, read_import_file


class Command(BaseCommand):
    help = (
        "Import register marks (UPN, date, session, code; optional minutes late and comment) "
        "for one academy. Without --confirm the file is only checked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV or XLSX file of marks")
        parser.add_argument("--academy", required=True, help="URN of the academy (6 digits)")
        parser.add_argument(
            "--confirm", action="store_true", help="write the marks; without it nothing is written"
        )
        parser.add_argument(
            "--user", default="", help="username the marks and the audit trail record"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        academy = Academy.objects.filter(urn=options["academy"]).first()
        if academy is None:
            raise CommandError(f"No academy has URN {options['academy']!r}; give a 6-digit URN.")
        user = importing_user(options["user"])
        path: Path = options["file"]
        content = read_import_file(path)

        plan = build_plan(academy=academy, content=content, filename=path.name)
        self._write_plan(plan)
        if not plan.is_valid:
            raise CommandError(self._invalid_reason(plan))
        if not options["confirm"]:
            self.stdout.write("Nothing was written. Run again with --confirm to import.")
            return

        try:
            result = marks_import_apply(
                academy=academy, content=content, filename=path.name, user=user
            )
        except ImportRejected as rejected:
            raise CommandError(str(rejected)) from None
        except ValidationError as invalid:
            raise CommandError(f"Nothing was imported: {'; '.join(invalid.messages)}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.created} new and {result.changed} replaced marks "
                f"({result.unchanged} already recorded) at {academy.name}."
            )
        )

    def _write_plan(self, plan: MarkImportPlan) -> None:
        if plan.file_error:
            self.stdout.write(plan.file_error)
            return
        summary = plan.summary()
        self.stdout.write(
            f"{plan.filename}: {summary['rows']} rows read ({plan.description}); "
            f"{summary['marks']} valid marks for {summary['pupils']} pupils on "
            f"{summary['days']} days, {summary['replaced']} replacing recorded marks; "
            f"{summary['error_rows']} rows with errors."
        )
        for line in describe_errors(plan):
            self.stdout.write(line)

    def _invalid_reason(self, plan: MarkImportPlan) -> str:
        if plan.file_error:
            return "Nothing was imported: the file cannot be read."
        if plan.errors:
            rows = plan.error_lines
            return f"Nothing was imported: {rows} row{'s' if rows != 1 else ''} with errors."
        return "Nothing was imported: the file has no marks."
