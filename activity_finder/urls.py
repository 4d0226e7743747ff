from django.urls import path

from activity_finder import views

app_name = "activity_finder"

urlpatterns = [
    path("activities/", views.search, name="search"),
    path("activities/<int:pk>/", views.session_detail, name="session"),
]
