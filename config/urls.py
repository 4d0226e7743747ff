from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", include("traction_rec_import.health")),
    path("", include("activity_finder.urls")),
    path("", RedirectView.as_view(pattern_name="activity_finder:search"), name="home"),
]
