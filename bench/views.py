from django.http import HttpResponse


def trivial(request):
    """The floor of the stack: routing, middleware and a response, no query."""
    return HttpResponse("ok\n", content_type="text/plain")
