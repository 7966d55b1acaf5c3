app_name = "reporting-api"
urlpatterns: list = []
