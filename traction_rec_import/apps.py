from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TractionRecImportConfig(AppConfig):
    name = "traction_rec_import"
    verbose_name = "Traction Rec import"

    def ready(self):
        from traction_rec.signals import connection_tested
        from traction_rec_import import schedules

        # Default sync schedules: created after migrate, enabled by the first
        # successful connection test.
        post_migrate.connect(
            schedules.on_post_migrate,
            sender=self,
            dispatch_uid="traction_rec_import.schedules.defaults",
        )
        connection_tested.connect(
            schedules.on_connection_tested,
            dispatch_uid="traction_rec_import.schedules.enable",
        )
