from django.conf import settings


def platform(request):
    return {"PLATFORM_NAME": "象山海上反走私综合治理平台", "PRODUCTION": settings.PRODUCTION}
