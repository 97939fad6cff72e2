from django.conf import settings


def product(request):
    """What every page may show: whether calls go to the built-in simulator."""
    return {"SIMULATION": settings.SIMULATION}
