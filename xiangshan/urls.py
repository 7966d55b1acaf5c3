from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

api_patterns = [
    path("core/", include("apps.core.api_urls")),
    path("elements/", include("apps.elements.api_urls")),
    path("enforcement/", include("apps.enforcement.api_urls")),
    path("sources/", include("apps.sources.api_urls")),
    path("reporting/", include("apps.reporting.api_urls")),
    path("cockpit/", include("apps.cockpit.api_urls")),
    path("notifications/", include("apps.notifications.api_urls")),
    path("intel/", include("apps.intel.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("", include("apps.core.urls")),
    path("elements/", include("apps.elements.urls")),
    path("enforcement/", include("apps.enforcement.urls")),
    path("sources/", include("apps.sources.urls")),
    path("public/", include("apps.reporting.urls")),
    path("cockpit/", include("apps.cockpit.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("intel/", include("apps.intel.urls")),
    path("api/", include(api_patterns)),
    path("i18n/js/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
handler403 = "apps.core.views.forbidden"
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT) if settings.DEBUG else []
