"""`manage.py import_movielens DIR`: load a MovieLens-format directory (see catalog.importing.movielens)."""

import time

from django.core.management.base import BaseCommand, CommandError

from catalog.importing.movielens import ImportRefused, movielens_import


class Command(BaseCommand):
    help = (
        "Load a MovieLens-format directory (movies.csv, ratings.csv, optional tags.csv, links.csv). "
        "Validates everything first; a malformed file is refused and nothing is written. Re-running adds "
        "nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="the directory holding movies.csv and ratings.csv")

    def handle(self, *args, directory, **options):
        started = time.perf_counter()
        try:
            summary = movielens_import(directory=directory)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Imported {summary} in {elapsed:.1f}s."))
