"""``manage.py rotate_key_element_keys``: re-seal key persons' names and ID numbers with the first of ``TIPSTER_KEYS``."""
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Re-encrypt the sealed identities of key persons with the first key of TIPSTER_KEYS."

    def handle(self, *args, **opts):
        from apps.intel.services import person_identities_rotate

        self.stdout.write(f"re-encrypted: {person_identities_rotate()}")
