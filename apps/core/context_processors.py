from django.conf import settings
from django.utils.translation import gettext_lazy as _


def platform(request):
    return {"PLATFORM_NAME": _("象山海上反走私综合治理平台"), "PRODUCTION": settings.PRODUCTION}


def map_config(request):
    """What ``static/js/map.js`` needs before its first request (see templates/includes/map_assets.html)."""
    from django.urls import reverse

    from .basemap import tiles_config

    return {"XS_MAP_CONFIG": {"basemap_url": reverse("core-api:basemap"), "tiles": tiles_config()}}
