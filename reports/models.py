"""The daily rollup the reports page reads: one row per day and bank, kept by the worker.

The figures of a day are read whole and never filtered inside, so each row
holds them as one JSON document (see reports/figures.py for its shape).
"""

from django.db import models


class RollupDay(models.Model):
    """A day whose figures are in DailyFigures (a day with no calls has no bank rows)."""

    day = models.DateField(primary_key=True)
    computed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.day} (computed {self.computed_at:%Y-%m-%d %H:%M})"


class DailyFigures(models.Model):
    day = models.DateField()
    bank = models.CharField(max_length=200)
    figures = models.JSONField()
    # The calls that broke or were listed by a contact rule: read by that report alone.
    rules = models.JSONField(default=dict)

    class Meta:
        verbose_name_plural = "daily figures"
        permissions = [("view_reports", "Can view the reports and the contact-rules report")]
        constraints = [
            models.UniqueConstraint(fields=["day", "bank"], name="daily_figures_one_per_bank")
        ]

    def __str__(self):
        return f"{self.day} {self.bank}"
