from django.urls import include, path

from bench.views import trivial

urlpatterns = [
    path("bench/trivial", trivial, name="bench-trivial"),
    path("", include("config.urls")),
]
