"""The API's router (its own module: rest_framework.routers imports the views, whose settings
import apps.core.api)."""
from rest_framework import routers


class Router(routers.DefaultRouter):
    """Object ids are whole numbers: ``/tasks/abc/`` is a 404 at the URL, never a lookup that
    fails in the database."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_value_regex", None) is None:
            viewset.lookup_value_regex = "[0-9]+"
        return super().get_lookup_regex(viewset, lookup_prefix)
