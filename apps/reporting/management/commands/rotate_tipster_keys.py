"""Re-encrypt every stored tipster identity with the first key of TIPSTER_KEYS (key rotation)."""
from django.core.management.base import BaseCommand

from apps.reporting.services import tip_contacts_rotate


class Command(BaseCommand):
    help = "Key rotation: put the new key first in TIPSTER_KEYS, run this, then drop the old key."

    def handle(self, *args, **options):
        self.stdout.write(f"re-encrypted: {tip_contacts_rotate()}")
