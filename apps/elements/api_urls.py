app_name = "elements-api"
urlpatterns: list = []
