from django.urls import path

from . import views

app_name = "cockpit"
urlpatterns = [
    path("dashboard/", views.DashboardPage.as_view(), name="dashboard"),
    path("evaluation/", views.EvaluationPage.as_view(), name="evaluation"),
    path("evaluation/export.xlsx", views.EvaluationExport.as_view(fmt="xlsx"), name="evaluation_xlsx"),
    path("evaluation/export.pdf", views.EvaluationExport.as_view(fmt="pdf"), name="evaluation_pdf"),
]
