"""Import staff from a CSV or XLSX file; without --confirm it prints the preview."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from academies.models import Academy
from staff.imports import StaffImportPlan, build_staff_plan
from staff.services import StaffImportInvalid, describe_staff_result, staff_import_apply
from trust.import_commands import importing_user, read_import_file


def format_staff_plan(plan: StaffImportPlan) -> list[str]:
    """Return the preview of a staff plan as lines of text."""
    if plan.file_error:
        return [f"The file cannot be imported: {plan.file_error}"]
    summary = plan.summary()
    lines = [
        f"File read as {plan.description}.",
        f"{summary['rows']} rows: {summary['new']} new staff, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged, {summary['errors']} errors.",
    ]
    if plan.ignored_headers:
        lines.append(f"Columns not used: {', '.join(plan.ignored_headers)}.")
    for error in plan.errors:
        lines.append(f"line {error.line}, {error.column}: {error.value!r}: {error.reason}")
    return lines


class Command(BaseCommand):
    help = "Import staff from a CSV or XLSX file (preview unless --confirm)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV or XLSX file of staff")
        parser.add_argument(
            "--confirm", action="store_true", help="apply the import; without it nothing is written"
        )
        parser.add_argument(
            "--user", default="", help="username the audit trail records as the importer"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = importing_user(options["user"])
        path: Path = options["file"]
        content = read_import_file(path)
        academies = Academy.objects.all()

        if not options["confirm"]:
            plan = build_staff_plan(content=content, filename=path.name, academies=academies)
            self.stdout.write("\n".join(format_staff_plan(plan)))
            self._fail_if_invalid(plan)
            self.stdout.write("Nothing was written. Run again with --confirm to import.")
            return
        try:
            result = staff_import_apply(
                content=content, filename=path.name, user=user, academies=academies
            )
        except StaffImportInvalid as invalid:
            self.stdout.write("\n".join(format_staff_plan(invalid.plan)))
            self._fail_if_invalid(invalid.plan)
            raise
        self.stdout.write(describe_staff_result(result))

    def _fail_if_invalid(self, plan: StaffImportPlan) -> None:
        if plan.file_error:
            raise CommandError("Nothing was imported: the file cannot be read.")
        if plan.errors:
            rows = len({e.line for e in plan.errors})
            raise CommandError(
                f"Nothing was imported: {rows} row{'s' if rows != 1 else ''} "
                f"{'have' if rows != 1 else 'has'} errors."
            )
