"""The personal-data registry: every app declares here what personal data it holds.

Apps register in their `AppConfig.ready()` (through their own `personal_data.py`), so
`privacy` never imports them: dependencies keep pointing one way. What is registered drives
the "Your data" counts, the export (one section per registered name), the erasure, the
retention purges and the "delete what was collected" offer when a purpose is withdrawn.

A model with a relation to the User or Profile model must appear in a section's `models`
or be declared not personal with a reason (`declare_not_personal`); a test introspects
every installed model and fails otherwise.

Callbacks receive the account (a User instance). Invariants:
- `export(account)` returns JSON-serialisable data: a list of flat dicts (one CSV row
  each) or one flat dict; never secrets (password hashes, token keys).
- `erase(account)` is idempotent (safe to run twice) and returns how many rows it removed.
- erasure runs sections in ascending `erase_order` (derived data first, the account last).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    name: str  # key in export.json and the CSV's file name
    label: str  # for people: the dashboard and the README
    description: str
    models: tuple[str, ...] = ()  # "app_label.ModelName"
    export: Callable | None = None  # (account) -> list[dict] | dict
    erase: Callable | None = None  # (account) -> int
    count: Callable | None = None  # (account) -> int, for the dashboard
    export_order: int = 100
    erase_order: int = 100
    # Columns of the CSV, in order (a list section); None = the keys of the first row.
    columns: tuple[str, ...] | None = None


@dataclass
class _Registry:
    sections: dict[str, Section] = field(default_factory=dict)
    not_personal: dict[str, str] = field(default_factory=dict)
    # purpose -> [(name, fn(account) -> int, count_fn(account) -> int)]: what withdrawing it may delete
    purpose_erasers: dict[str, list[tuple[str, Callable, Callable | None]]] = field(default_factory=dict)
    # fn(purpose, account_id): run after a purpose is withdrawn (e.g. purge cached recommendations)
    withdrawal_hooks: list[Callable] = field(default_factory=list)
    # name -> fn(now) -> int: retention purges run by beat
    retention: dict[str, Callable] = field(default_factory=dict)
    # name -> fn(account) -> dict: extra facts for the dashboard (e.g. last used for training)
    facts: dict[str, Callable] = field(default_factory=dict)


_registry = _Registry()


# --- registration (called from the apps' personal_data.py) -----------------------------------


def register_section(section: Section) -> None:
    # ready() may run twice (tests, autoreload): re-registering the same name replaces it.
    _registry.sections[section.name] = section


def declare_not_personal(model_label: str, reason: str) -> None:
    if not reason:
        raise ValueError("say why the model holds no personal data")
    _registry.not_personal[model_label] = reason


def register_purpose_eraser(purpose: str, name: str, erase: Callable, count: Callable | None = None) -> None:
    erasers = _registry.purpose_erasers.setdefault(purpose, [])
    erasers[:] = [e for e in erasers if e[0] != name] + [(name, erase, count)]


def register_withdrawal_hook(hook: Callable) -> None:
    if hook not in _registry.withdrawal_hooks:
        _registry.withdrawal_hooks.append(hook)


def register_retention(name: str, purge: Callable) -> None:
    _registry.retention[name] = purge


def register_facts(name: str, facts: Callable) -> None:
    _registry.facts[name] = facts


# --- reads ------------------------------------------------------------------------------------


def sections(*, order: str = "export") -> list[Section]:
    key = (lambda s: (s.export_order, s.name)) if order == "export" else (lambda s: (s.erase_order, s.name))
    return sorted(_registry.sections.values(), key=key)


def section(name: str) -> Section:
    return _registry.sections[name]


def registered_models() -> set[str]:
    return {m for s in _registry.sections.values() for m in s.models}


def not_personal_models() -> dict[str, str]:
    return dict(_registry.not_personal)


def purposes_with_collected_data() -> set[str]:
    return set(_registry.purpose_erasers)


# --- operations -------------------------------------------------------------------------------


def counts(account) -> dict[str, int]:
    """Rows stored per section, for the dashboard (sections without a counter are skipped)."""
    return {s.name: int(s.count(account)) for s in sections() if s.count is not None}


def export_account(account, *, on_section: Callable[[int, int], None] | None = None) -> dict:
    """Every section's export, keyed by section name. `on_section(done, total)` reports progress."""
    wanted = [s for s in sections() if s.export is not None]
    data = {}
    for i, s in enumerate(wanted, start=1):
        data[s.name] = s.export(account)
        if on_section is not None:
            on_section(i, len(wanted))
    return data


def collected_counts(account, purpose: str) -> int:
    """How much was collected for `purpose` (what withdrawing it may delete)."""
    total = 0
    for _name, _erase, count in _registry.purpose_erasers.get(purpose, []):
        if count is not None:
            total += int(count(account))
    return total


def collected_delete(account, purpose: str) -> dict[str, int]:
    return {name: int(erase(account) or 0) for name, erase, _count in _registry.purpose_erasers.get(purpose, [])}


def consent_withdrawn(purpose: str, account_id: int) -> None:
    """Tell every app that `purpose` was withdrawn. A failing hook is logged, not raised:
    the consent change itself is already committed and the gates hold regardless."""
    for hook in _registry.withdrawal_hooks:
        try:
            hook(purpose, account_id)
        except Exception:
            log.exception("consent-withdrawal hook %s failed", getattr(hook, "__qualname__", hook))


def retention_purge(now: datetime) -> dict[str, int]:
    return {name: int(purge(now) or 0) for name, purge in sorted(_registry.retention.items())}


def facts(account) -> dict[str, dict]:
    out = {}
    for name, fn in sorted(_registry.facts.items()):
        try:
            out[name] = fn(account)
        except Exception:
            # The dashboard degrades gracefully: a broken fact is shown as unavailable.
            log.exception("personal-data facts %s failed", name)
            out[name] = {"available": False}
    return out
