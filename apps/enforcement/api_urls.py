from django.urls import include, path
from apps.core.routers import Router

from . import api

router = Router()
router.register("tasks", api.TaskViewSet)
router.register("dispatch", api.DispatchViewSet)
router.register("plans", api.PlanViewSet)
router.register("plan-subtasks", api.PlanSubtaskViewSet)
router.register("cases", api.CaseViewSet)
router.register("goods", api.GoodsViewSet)

app_name = "enforcement-api"
urlpatterns = [
    path("subject-types/", api.SubjectTypesView.as_view(), name="subject-types"),
    path("dispatchable/", api.DispatchableWarningsView.as_view(), name="dispatchable"),
    path("performance/", api.PerformanceView.as_view(), name="performance"),
    path("", include(router.urls)),
]
