from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from activity_finder.models import Session


def visible_sessions():
    """Sessions a visitor may see: current, published, with a published chain."""
    return Session.objects.filter(
        published=True,
        ends_at__gte=timezone.now(),
        location__published=True,
        session_class__published=True,
        session_class__activity__published=True,
        session_class__activity__subcategory__published=True,
        session_class__activity__subcategory__program__published=True,
    )


def search(request):
    sessions = (
        visible_sessions()
        .select_related("location", "session_class")
        .prefetch_related("times")
        .order_by("starts_at", "title")[:25]
    )
    return render(request, "activity_finder/search.html", {"sessions": sessions})


def session_detail(request, pk):
    session = get_object_or_404(visible_sessions(), pk=pk)
    return render(request, "activity_finder/session.html", {"session": session})
