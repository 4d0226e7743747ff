from django.urls import path

from activity_finder import api, views

app_name = "activity_finder"

urlpatterns = [
    path("activities/", views.search_view, name="search"),
    path("activities/<int:pk>/", views.session_detail, name="session"),
    path(
        "activities/<int:pk>/calendar.ics",
        views.session_calendar,
        name="session_calendar",
    ),
    path("af/get-data", api.get_data, name="get_data"),
]
