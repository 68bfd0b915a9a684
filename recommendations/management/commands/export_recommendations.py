"""`manage.py export_recommendations --k K --out FILE` (CONTRACTS.md).

CSV `username,profile,title_external_id,rank,score`: the serving model's top K for each profile
whose account allows personalization, without titles the profile already rated (or finished, or
hid, or may not see). Each profile gets the vector the home page gives it
(`foldin.profile_vector`: its trained vector unless something changed), a batch at a time: a
handful of queries and one matrix product per batch, and rows are streamed to the file.
"""

import csv
import sys
import time

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Profile
from catalog.models import Title
from privacy import consent
from recommendations import foldin, serving

BATCH = 500


class Command(BaseCommand):
    help = "Write the serving model's top-K recommendations of every consenting profile to a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("--k", type=int, default=10, help="titles per profile (default 10)")
        parser.add_argument("--out", required=True, help="CSV file to write ('-' for standard output)")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"profiles per batch (default {BATCH})")

    def handle(self, *args, k: int, out: str, batch: int, **opts):
        if k < 1 or k > 1000:
            raise CommandError("--k must be between 1 and 1000")
        if batch < 1:
            raise CommandError("--batch must be positive")
        lookup = serving.get_model()
        if lookup.model is None:
            raise CommandError(f"no serving model ({lookup.problem}); train one with `manage.py train_recommender`")
        model = lookup.model
        started = time.perf_counter()
        profiles = (
            Profile.objects.filter(account_id__in=consent.accounts_allowing("personalization"))
            .select_related("account")
            .order_by("id")
        )
        external = np.empty(model.n_items, dtype=object)
        ext_of = dict(Title.objects.filter(pk__in=model.title_ids.tolist()).values_list("pk", "external_id"))
        for row, tid in enumerate(model.title_ids.tolist()):
            external[row] = ext_of.get(tid)
        has_external = np.asarray([e is not None for e in external], dtype=bool)

        handle = sys.stdout if out == "-" else open(out, "w", newline="", encoding="utf-8")  # noqa: SIM115
        written = people = 0
        try:
            writer = csv.writer(handle)
            writer.writerow(["username", "profile", "title_external_id", "rank", "score"])
            ids = list(profiles.values_list("id", flat=True))
            for start in range(0, len(ids), batch):
                chunk = list(profiles.filter(id__in=ids[start : start + batch]))
                tastes = foldin.tastes_for([p.pk for p in chunk])
                vecs, allowed, kept = [], [], []
                for p in chunk:
                    taste = tastes[p.pk]
                    vec = foldin.profile_vector(model, p.pk, taste, is_kids=p.is_kids)
                    # No taste at all: the model has nothing personal to say about this profile.
                    if vec is None:
                        continue
                    mask = serving.visible_mask(model, p) & has_external
                    mask[model.rows_of(set(taste.excluded) | set(taste.negative_ids))] = False
                    vecs.append(vec)
                    allowed.append(mask)
                    kept.append(p)
                if not kept:
                    continue
                scores = model.score_many(np.vstack(vecs))
                tops = serving.top_k_many(scores, k, np.vstack(allowed))
                for i, p in enumerate(kept):
                    people += 1
                    for rank, row in enumerate(tops[i], start=1):
                        writer.writerow([p.account.username, p.name, external[row], rank, f"{scores[i, row]:.6f}"])
                        written += 1
        finally:
            if handle is not sys.stdout:
                handle.close()
        self.stderr.write(
            f"model {model.version}: {written} recommendations for {people} profiles "
            f"in {time.perf_counter() - started:.2f}s"
        )
