"""Re-encrypt everything sealed with ``TIPSTER_KEYS`` with its first key (key rotation):
tipster identities, key persons' names and ID numbers, notification channel secrets."""
from django.core.management.base import BaseCommand

from apps.intel.services import person_identities_rotate
from apps.notifications.services import channels_rotate_keys
from apps.reporting.services import tip_contacts_rotate


class Command(BaseCommand):
    help = "Key rotation: put the new key first in TIPSTER_KEYS, run this, then drop the old key."

    def handle(self, *args, **options):
        self.stdout.write(f"re-encrypted tipster identities: {tip_contacts_rotate()}")
        self.stdout.write(f"re-encrypted key persons: {person_identities_rotate()}")
        self.stdout.write(f"re-sealed notification channels: {channels_rotate_keys()}")
