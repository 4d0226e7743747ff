from django.apps import AppConfig


class TractionRecConfig(AppConfig):
    name = "traction_rec"
    verbose_name = "Traction Rec connection"
