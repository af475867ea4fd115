"""Import pupils for one academy from a CSV or XLSX file.

Without --confirm the command prints the preview and writes nothing.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from academies.models import Academy
from pupils.imports import PupilImportPlan, build_plan
from pupils.services import ImportInvalid, describe_result, pupil_import_apply
from trust import clock
from trust.import_commands import importing_user, read_import_file


def format_plan(plan: PupilImportPlan) -> list[str]:
    """Return the preview of a plan as lines of text."""
    if plan.file_error:
        return [f"The file cannot be imported: {plan.file_error}"]
    summary = plan.summary()
    lines = [
        f"Academy: {plan.academy.name} (URN {plan.academy.urn}); file read as {plan.description}.",
        f"{summary['rows']} rows: {summary['new']} new pupils, {summary['updated']} updated "
        f"pupils, {summary['unchanged']} unchanged, {summary['moved']} moving from another "
        f"academy, {summary['reviews']} to review, {summary['error_rows']} rows with errors "
        f"({summary['errors']} problems).",
    ]
    if plan.new_tutor_groups:
        groups = ", ".join(f"{name} ({year})" for name, year in plan.new_tutor_group_list)
        lines.append(f"New tutor groups: {groups}.")
    if plan.new_year_groups:
        lines.append(f"New year groups: {', '.join(plan.new_year_group_names)}.")
    if plan.ignored_headers:
        lines.append(f"Columns not used: {', '.join(plan.ignored_headers)}.")
    for error in plan.errors:
        lines.append(f"line {error.line}, {error.column}: {error.value!r}: {error.reason}")
    return lines


class Command(BaseCommand):
    help = "Import pupils for one academy from a CSV or XLSX file (preview unless --confirm)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV or XLSX file exported from the MIS")
        parser.add_argument("--academy", required=True, help="URN of the academy (6 digits)")
        parser.add_argument(
            "--confirm", action="store_true", help="apply the import; without it nothing is written"
        )
        parser.add_argument(
            "--user", default="", help="username the audit trail records as the importer"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        academy = Academy.objects.filter(urn=options["academy"]).first()
        if academy is None:
            raise CommandError(f"No academy has URN {options['academy']}.")
        user = importing_user(options["user"])
        path: Path = options["file"]
        content = read_import_file(path)
        today = clock.today()

        if not options["confirm"]:
            plan = build_plan(
                academy=academy, content=content, filename=path.name, import_date=today
            )
            self.stdout.write("\n".join(format_plan(plan)))
            self._fail_if_invalid(plan)
            self.stdout.write("Nothing was written. Run again with --confirm to import.")
            return

        try:
            result = pupil_import_apply(
                academy=academy, content=content, filename=path.name, user=user, import_date=today
            )
        except ImportInvalid as invalid:
            self.stdout.write("\n".join(format_plan(invalid.plan)))
            self._fail_if_invalid(invalid.plan)
            raise
        self.stdout.write(describe_result(result))

    def _fail_if_invalid(self, plan: PupilImportPlan) -> None:
        if plan.file_error:
            raise CommandError("Nothing was imported: the file cannot be read.")
        if plan.errors:
            rows = len({e.line for e in plan.errors})
            raise CommandError(
                f"Nothing was imported: {rows} row{'s' if rows != 1 else ''} "
                f"{'have' if rows != 1 else 'has'} errors."
            )
