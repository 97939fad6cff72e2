"""Import the Flask app's data/transactions.json (or any file in its shape)."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from transactions.importer import FileUnreadable, ImportRejected, import_rows, load_json
from transactions.indexed import compact_search_index


class Command(BaseCommand):
    help = (
        "Import transactions from a JSON file in the Flask app's shape (use - for stdin). "
        "Upserts by id; a customer's verdict, a status set by hand or a call in progress keeps "
        "its status. All or nothing unless --skip-invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to transactions.json, or - for stdin")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the good rows and list the bad ones, instead of importing nothing",
        )

    def handle(self, *args, file, dry_run, skip_invalid, **options):
        started = time.monotonic()
        data = self._read(file)
        try:
            result = import_rows(data, dry_run=dry_run, skip_invalid=skip_invalid)
        except ImportRejected as e:
            self._report_errors(e.result.errors)
            raise CommandError(
                f"{e.result.skipped} of {e.result.rows} rows are bad; nothing was imported. "
                "Fix them, or run again with --skip-invalid to import the rest."
            ) from None
        self._report_errors(result.errors)
        for kept in result.kept:
            self.stdout.write(str(kept))
        if not dry_run and result.created + result.updated:
            compact_search_index(DEFAULT_DB_ALIAS)  # a bulk load left the search index in pieces
        elapsed = time.monotonic() - started
        done = result.created + result.updated + result.unchanged
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {done} of {result.rows} rows: {result.created} new, "
            f"{result.updated} updated, {result.unchanged} unchanged, {result.skipped} skipped "
            f"({elapsed:.2f} s, {done / max(elapsed, 0.001):,.0f} rows/s)."
        )
        if result.kept:
            self.stdout.write(
                f"{len(result.kept)} row(s) kept their status instead of the file's (listed above)."
            )
        if result.pans_reduced:
            self.stdout.write(
                f"{result.pans_reduced} full card number(s) were reduced to their last four "
                "digits; the full numbers were not stored."
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")

    def _read(self, file):
        try:
            if file == "-":
                return load_json(sys.stdin)
            with open(file, encoding="utf-8") as stream:
                return load_json(stream)
        except OSError as e:
            raise CommandError(f"Cannot read {file}: {e.strerror}") from None
        except FileUnreadable as e:
            raise CommandError(f"{file}: {e}") from None

    def _report_errors(self, errors):
        for error in errors:
            self.stderr.write(str(error))
