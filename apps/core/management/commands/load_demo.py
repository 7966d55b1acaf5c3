"""``manage.py load_demo``: a living county at once — departments, users, geography, vessels, ..."""
from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

# Order matters: later modules use what earlier ones created.
DEMO_MODULES = ["apps.core", "apps.elements", "apps.sources", "apps.enforcement", "apps.reporting", "apps.cockpit", "apps.intel"]


class Command(BaseCommand):
    help = "Load the demo county (idempotent): departments, users per role, geography, vessels, tracks."

    def handle(self, *args, **options):
        for name in DEMO_MODULES:
            try:
                module = import_module(f"{name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{name}.demo":
                    raise
                continue
            self.stdout.write(self.style.MIGRATE_HEADING(f"[{name}]"))
            with transaction.atomic():
                module.load(self.stdout)
