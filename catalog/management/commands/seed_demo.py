"""`manage.py seed_demo [--seed N]`: the deterministic demo catalog and subscribers (catalog.importing.demo)."""

import time

from django.core.management.base import BaseCommand

from catalog import signals
from catalog.importing.demo import DEFAULT_SEED, LOGIN_LINE, seed_demo


class Command(BaseCommand):
    help = (
        "Seed a deterministic synthetic catalog, subscribers with taste-driven histories, and the demo "
        "account. Does nothing (but print the login) when the demo catalog is already there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")

    def handle(self, *args, seed, **options):
        started = time.perf_counter()
        result = seed_demo(seed=seed)
        if result.created:
            # The apps above catalog add theirs (insights: home impressions and clicks) without
            # catalog importing them.
            for _receiver, counts in signals.demo_seeded.send(sender=self.__class__, seed=seed):
                result.counts.update(counts or {})
        elapsed = time.perf_counter() - started
        if result.created:
            figures = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in result.counts.items())
            self.stdout.write(self.style.SUCCESS(f"Seeded the demo data (seed {seed}) in {elapsed:.1f}s: {figures}."))
        elif result.counts:
            self.stdout.write("The demo catalog is already there; the demo account was missing and is back.")
        else:
            self.stdout.write("The demo catalog is already there; nothing to do.")
        self.stdout.write(f"Demo login: {LOGIN_LINE}")
