"""Write every transaction in the Flask app's JSON shape (import_transactions reads it back)."""

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from transactions.importer import write_json
from transactions.models import Transaction


class Command(BaseCommand):
    help = "Export all transactions as JSON in the Flask app's shape (to FILE, or stdout)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="output path; - or none: stdout")

    def handle(self, *args, file, **options):
        queryset = Transaction.objects.order_by("id")
        if file == "-":
            write_json(queryset, _Unbuffered(self.stdout))
            return
        target = Path(file)
        # Write beside the target and rename, so a failed export never leaves half a file.
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                rows = write_json(queryset, stream)
            os.replace(tmp, target)
        except OSError as e:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
            raise CommandError(f"Cannot write {file}: {e.strerror}") from None
        self.stdout.write(f"Exported {rows} transactions to {file}.")


class _Unbuffered:
    """Command output without the newline OutputWrapper adds to every write."""

    def __init__(self, out):
        self.out = out

    def write(self, text):
        self.out.write(text, ending="")
