"""`manage.py train_recommender`: the Celery task's pipeline, run synchronously (CONTRACTS.md)."""

import secrets

from django.core.management.base import BaseCommand, CommandError

from recommendations import evaluation, model_registry, training
from recommendations.selectors import serving_version
from recommendations.tasks import TrainingBusy, train_single_flight


class Command(BaseCommand):
    help = "Train, evaluate and (if it passes the gate) promote a recommendation model; print the metrics."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Train only if no model serves yet or the serving model's files are missing (make demo).",
        )

    def handle(self, *args, **opts):
        serving = serving_version()
        if opts["if_missing"] and serving is not None and model_registry.artifacts_exist(serving.version):
            self.stdout.write(f"Model {serving.version} already serves; nothing to do.")
            return
        try:
            # The same lease as the Celery task: never two trainings at once.
            mv = train_single_flight(trigger="command", holder=f"command/{secrets.token_hex(4)}")
        except TrainingBusy as exc:
            raise CommandError("Another training is running; try again when it has finished.") from exc
        except training.TrainingError as exc:
            raise CommandError(f"Training failed: {exc}") from exc
        except Exception as exc:
            raise CommandError(f"Training failed: {exc.__class__.__name__}: {exc}") from exc
        counts = mv.data_counts
        self.stdout.write(
            f"Trained {mv.version} in {mv.duration_seconds:.1f} s on {counts.get('interactions')} interactions "
            f"({counts.get('profiles')} profiles, {counts.get('titles')} titles); "
            f"evaluated on {counts.get('eval_users')} profiles' held-out future."
        )
        self.stdout.write(evaluation.format_table({"model": mv.metrics, "popularity": mv.baseline_metrics}))
        self.stdout.write(f"Gate: {mv.gate}")
        now = serving_version()
        self.stdout.write(f"Serving version: {now.version if now else 'none'}")
