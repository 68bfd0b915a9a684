"""Operations: the task outbox, leases and heartbeats, health, readiness and metrics.

Below every app (like `common`): the apps import it, it imports none of them. Apps tell it
what they have (readiness checks, metric collectors) through small registries.
"""
