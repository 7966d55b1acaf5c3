"""Re-seal every notification channel's secrets with the first key of TIPSTER_KEYS (key rotation)."""
from django.core.management.base import BaseCommand

from apps.notifications.services import channels_rotate_keys


class Command(BaseCommand):
    help = "Key rotation: put the new key first in TIPSTER_KEYS, run this and rotate_tipster_keys, then drop the old key."

    def handle(self, *args, **options):
        self.stdout.write(f"re-sealed channels: {channels_rotate_keys()}")
