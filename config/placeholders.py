"""TEMPORARY: stand-ins for views still being built, so every URL name resolves. Delete when empty."""

from django.http import HttpResponse


def todo(request, *args, **kwargs):
    return HttpResponse("Not built yet.", status=501)
