app_name = "sources-api"
urlpatterns: list = []
