from django.apps import AppConfig


class TractionRecImportConfig(AppConfig):
    name = "traction_rec_import"
    verbose_name = "Traction Rec import"
