from django.apps import AppConfig


class ActivityFinderConfig(AppConfig):
    name = "activity_finder"
    verbose_name = "Activity finder"
