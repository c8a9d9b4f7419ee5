"""Routes of the geo API."""


app_name = "geo-api"
urlpatterns: list = []
