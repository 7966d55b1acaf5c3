from django.urls import path
from apps.core.routers import Router

from . import api

app_name = "sources-api"

router = Router()
router.register("checkins", api.CheckinViewSet, basename="checkin")
router.register("reports", api.GridReportViewSet, basename="report")
router.register("grids", api.GridViewSet, basename="grid")
router.register("teams", api.GridTeamViewSet, basename="team")
router.register("plans", api.PatrolPlanViewSet, basename="plan")
router.register("sites", api.ProtectedSiteViewSet, basename="site")
router.register("standards", api.SiteStandardViewSet, basename="standard")
router.register("facilities", api.FacilityViewSet, basename="facility")
router.register("repairs", api.RepairTaskViewSet, basename="repair")
router.register("sensor-events", api.SensorEventViewSet, basename="sensor-event")
router.register("market-entities", api.MarketEntityViewSet, basename="market-entity")
router.register("records", api.RegulatedRecordViewSet, basename="record")
router.register("inspections", api.InspectionViewSet, basename="inspection")
router.register("findings", api.MarketFindingViewSet, basename="finding")

urlpatterns = [
    path("mobile/today/", api.MobileTodayView.as_view(), name="mobile-today"),
    path("attendance/", api.AttendanceView.as_view(), name="attendance"),
    path("compliance/", api.ComplianceView.as_view(), name="compliance"),
    path("devices/heartbeat/", api.DeviceHeartbeatView.as_view(), name="heartbeat"),
    path("devices/events/", api.DeviceEventView.as_view(), name="device-events"),
    *router.urls,
]
