from django.conf import settings
from django.utils.translation import gettext_lazy as _


def platform(request):
    return {"PLATFORM_NAME": _("象山海上反走私综合治理平台"), "PRODUCTION": settings.PRODUCTION}
