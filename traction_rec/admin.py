"""The Traction Rec connection page: one settings record, a test button.

Seeing or changing the connection takes the `traction_rec.manage_connection`
permission (superusers have it); the test button takes the same one. The
Drupal module's route named a permission nobody could grant; here the
permission checked is the one the model defines.
"""

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from traction_rec import connection_test, keys
from traction_rec.forms import ConnectionSettingsForm
from traction_rec.models import ConnectionSettings

PERMISSION = "traction_rec.manage_connection"
CHANGE_VIEW = "admin:traction_rec_connectionsettings_change"
EXPIRY_WARNING_DAYS = 30


def certificate_banner(connection, *, now=None):
    """The warning shown above the form when the certificate expires within
    30 days or has expired; None otherwise."""
    expires_at = connection.certificate_expires_at
    if expires_at is None:
        return None
    now = now or timezone.now()
    if expires_at <= now:
        return (
            f"The certificate expired on {expires_at:%Y-%m-%d}: Salesforce refuses "
            "every token. Make a new key and certificate, upload the certificate "
            "to the connected app, then paste both here."
        )
    remaining = expires_at - now
    if remaining <= dt.timedelta(days=EXPIRY_WARNING_DAYS):
        days = remaining.days
        if days == 0:
            when = "in less than a day"
        else:
            when = f"in {days} day{'s' * (days != 1)}"
        return (
            f"The certificate expires {when}, on {expires_at:%Y-%m-%d}. Renew it "
            "now: make a new key and certificate, upload the certificate to the "
            "connected app, then paste both here."
        )
    return None


@admin.register(ConnectionSettings)
class ConnectionSettingsAdmin(admin.ModelAdmin):
    form = ConnectionSettingsForm
    change_form_template = "admin/traction_rec/connectionsettings/change_form.html"
    readonly_fields = ["certificate_status", "updated_at"]
    fieldsets = [
        (
            "Connected app",
            {"fields": ["consumer_key", "consumer_secret", "clear_consumer_secret"]},
        ),
        (
            "Login",
            {"fields": ["login_user", "login_url", "audience"]},
        ),
        (
            "Org",
            {
                "fields": [
                    "services_base_url",
                    "api_base_url",
                    "community_url",
                    "api_version",
                    "timeout",
                ]
            },
        ),
        (
            "Private key",
            {
                "fields": [
                    "private_key_source",
                    "private_key",
                    "clear_private_key",
                    "private_key_path",
                    "private_key_passphrase",
                    "clear_private_key_passphrase",
                ]
            },
        ),
        (
            "Certificate",
            {"fields": ["certificate", "certificate_status", "updated_at"]},
        ),
    ]

    # One permission for everything on this page.

    def _allowed(self, request):
        return request.user.is_active and request.user.has_perm(PERMISSION)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # A singleton: the list and the add page lead to the one record.

    def changelist_view(self, request, extra_context=None):
        if not self._allowed(request):
            raise PermissionDenied
        connection = ConnectionSettings.load()
        return redirect(reverse(CHANGE_VIEW, args=[connection.pk]))

    def get_object(self, request, object_id, from_field=None):
        if str(object_id) != "1":
            return None
        return ConnectionSettings.load()

    def get_urls(self):
        urls = [
            path(
                "test/",
                self.admin_site.admin_view(self.test_connection_view),
                name="traction_rec_connectionsettings_test",
            ),
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if self._allowed(request):
            extra_context["certificate_banner"] = certificate_banner(
                ConnectionSettings.load()
            )
            extra_context["test_url"] = reverse(
                "admin:traction_rec_connectionsettings_test"
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def response_change(self, request, obj):
        # Stay on the page after saving: there is nothing else to go back to.
        response = super().response_change(request, obj)
        if "_continue" not in request.POST and response.status_code == 302:
            return redirect(reverse(CHANGE_VIEW, args=[obj.pk]))
        return response

    @admin.display(description="Stored certificate's expiry and fingerprint")
    def certificate_status(self, obj):
        if not obj.certificate:
            return "No certificate stored; its expiry is not tracked."
        try:
            certificate, _ = keys.load_certificate(obj.certificate)
        except keys.KeyProblem as exc:
            return str(exc)
        expires_at = keys.certificate_expires_at(certificate)
        return (
            f"Expires {expires_at:%Y-%m-%d %H:%M} UTC; SHA-256 "
            f"{keys.certificate_fingerprint(certificate)}"
        )

    def test_connection_view(self, request):
        if not self._allowed(request):
            raise PermissionDenied
        if request.method != "POST":
            # A bookmarked or reloaded result page: the test sends requests to
            # Salesforce, so only the button (a POST) runs it.
            messages.warning(
                request,
                "The connection test was not run: it runs when you press the "
                "Test connection button on this page.",
            )
            return redirect(reverse(CHANGE_VIEW, args=[1]))
        steps = connection_test.run()
        context = {
            **self.admin_site.each_context(request),
            "title": "Test the Traction Rec connection",
            "opts": self.model._meta,
            "steps": steps,
            "ok": all(step.ok for step in steps),
            "change_url": reverse(CHANGE_VIEW, args=[1]),
        }
        return TemplateResponse(
            request, "admin/traction_rec/connectionsettings/test_result.html", context
        )
