"""The ages a visitor can pick in the finder, kept by the site's editors.

A session matches an age point when the point falls inside its range. Points
are months; the label shown is generated from the months unless an editor
writes one.
"""

from django.core.validators import MaxValueValidator
from django.db import models


class AgePoint(models.Model):
    months = models.PositiveIntegerField(
        unique=True,
        validators=[MaxValueValidator(1200)],
        help_text="The age in months (24 for 2 years).",
    )
    label = models.CharField(
        max_length=64,
        blank=True,
        help_text=(
            'Leave blank for a label made from the months ("18 months", "3 years").'
        ),
    )

    class Meta:
        app_label = "activity_finder"
        ordering = ["months"]

    def __str__(self):
        return self.display_label

    @property
    def display_label(self):
        from activity_finder.display import age_in_words

        return self.label or age_in_words(self.months)
