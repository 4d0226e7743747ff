from django.apps import AppConfig


class ActivityFinderConfig(AppConfig):
    name = "activity_finder"
    verbose_name = "Activity finder"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from activity_finder import cache
        from activity_finder.age_points import AgePoint

        # The age picker and every cached facet depend on the points.
        def points_changed(**kwargs):
            cache.invalidate()

        post_save.connect(points_changed, sender=AgePoint, weak=False)
        post_delete.connect(points_changed, sender=AgePoint, weak=False)
