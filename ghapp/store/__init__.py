"""Persistence: every table, query and migration lives here; nothing else touches SQL."""

from ghapp.store.database import Database
from ghapp.store.deliveries import Delivery, DeliveryStore, SkillRun
from ghapp.store.effects import EffectStore
from ghapp.store.installations import Installation, InstallationStore
from ghapp.store.periodic_runs import PeriodicRun, PeriodicRunStore
from ghapp.store.repo_configs import AppValues, RepoConfigStore
from ghapp.store.switches import SwitchChange, SwitchStore
from ghapp.store.tasks import StoredTask, TaskStore

__all__ = [
    "AppValues",
    "Database",
    "Delivery",
    "DeliveryStore",
    "EffectStore",
    "Installation",
    "InstallationStore",
    "PeriodicRun",
    "PeriodicRunStore",
    "RepoConfigStore",
    "SkillRun",
    "StoredTask",
    "SwitchChange",
    "SwitchStore",
    "TaskStore",
]
