from django.db import models


class RateCount(models.Model):
    """Requests one key made in one fixed window (ivr_project/ratelimit.py `hit`).

    In the database, so that every web process counts the same requests.
    """

    # "<scope>:<digest of the key>:<window start>"
    key = models.CharField(max_length=100, primary_key=True)
    hits = models.PositiveIntegerField(default=0)
    # Indexed for the sweep of ended windows that each hit makes.
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.hits}"
