from urllib.parse import urlsplit

from django.db import models
from django_cryptography.fields import encrypt

PRODUCTION_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def derive_audience(login_url):
    """The `aud` Salesforce expects for tokens requested at `login_url`.

    The token may be requested at the org's My Domain host, but the audience
    stays the generic login host: test.salesforce.com for sandboxes (their My
    Domain ends in .sandbox.my.salesforce.com), login.salesforce.com otherwise.
    """
    host = (urlsplit(login_url or "").hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return SANDBOX_AUDIENCE
    return PRODUCTION_AUDIENCE


class ConnectionSettings(models.Model):
    """The one Traction Rec connection of this site (a singleton, pk 1)."""

    class KeySource(models.TextChoices):
        DATABASE = "database", "Stored here (encrypted)"
        ENVIRONMENT = "environment", "Environment variable TRACTION_REC_PRIVATE_KEY"
        FILE = "file", "A file on the server"

    consumer_key = models.CharField(
        max_length=255,
        blank=True,
        help_text="The connected app's Consumer Key.",
    )
    consumer_secret = encrypt(
        models.TextField(
            blank=True,
            help_text="The connected app's Consumer Secret. Stored encrypted.",
        )
    )
    login_user = models.CharField(
        max_length=255,
        blank=True,
        help_text=(
            "The Salesforce username of the integration user (it looks like an "
            "email address but is the username, not the user's email)."
        ),
    )
    login_url = models.CharField(
        "login URL",
        max_length=255,
        blank=True,
        help_text=(
            "Where tokens are requested: https://login.salesforce.com, "
            "https://test.salesforce.com for a sandbox, or the org's My Domain "
            "(https://NAME.my.salesforce.com)."
        ),
    )
    services_base_url = models.CharField(
        "services base URL",
        max_length=255,
        blank=True,
        help_text="The org's My Domain, e.g. https://NAME.my.salesforce.com.",
    )
    api_base_url = models.CharField(
        "REST API base URL",
        max_length=255,
        blank=True,
        help_text=(
            "The REST API host, usually the My Domain. A pasted "
            "/services/data/vNN.N path is removed; the version comes from the "
            "API version field."
        ),
    )
    community_url = models.CharField(
        "community URL",
        max_length=255,
        blank=True,
        help_text="The registration site visitors are sent to.",
    )
    audience = models.CharField(
        max_length=255,
        blank=True,
        help_text=(
            "Leave empty to derive it: https://test.salesforce.com for a sandbox "
            "login or My Domain, https://login.salesforce.com otherwise."
        ),
    )
    timeout = models.PositiveIntegerField(
        "request timeout (seconds)",
        default=90,
        help_text="How long to wait for Salesforce to answer one request.",
    )
    api_version = models.CharField(
        "API version",
        max_length=10,
        default="v62.0",
        help_text="The REST API version, written vNN.N.",
    )
    private_key = encrypt(
        models.TextField(
            blank=True,
            help_text="The RSA private key (PEM). Stored encrypted.",
        )
    )
    private_key_source = models.CharField(
        "private key from",
        max_length=20,
        choices=KeySource.choices,
        default=KeySource.DATABASE,
    )
    private_key_path = models.CharField(
        "private key file",
        max_length=500,
        blank=True,
        help_text="The PEM file's full path on the server, when the key is in a file.",
    )
    private_key_passphrase = encrypt(
        models.TextField(
            blank=True,
            help_text="Only for a passphrase-protected key. Stored encrypted.",
        )
    )
    certificate = models.TextField(
        blank=True,
        help_text=(
            "The X.509 certificate (PEM) uploaded to the connected app; it is "
            "checked against the key and its expiry is tracked."
        ),
    )
    certificate_expires_at = models.DateTimeField(
        "certificate expires", null=True, blank=True, editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "connection settings"
        verbose_name_plural = "connection settings"
        # One permission guards the page, the test button and the secrets: the
        # admin checks exactly this one.
        default_permissions = ()
        permissions = [
            ("manage_connection", "Can see and change the Traction Rec connection"),
        ]

    def __str__(self):
        return "Traction Rec connection"

    def __repr__(self):
        # Only non-secret fields: the secrets are never shown, even in a shell.
        return (
            f"<ConnectionSettings login_url={self.login_url!r} "
            f"login_user={self.login_user!r} source={str(self.private_key_source)!r}>"
        )

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        """The settings row, created empty the first time."""
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    @property
    def effective_audience(self):
        return self.audience or derive_audience(self.login_url)

    @property
    def token_url(self):
        return self.login_url.rstrip("/") + "/services/oauth2/token"

    @property
    def is_configured(self):
        return bool(self.consumer_key and self.login_user and self.login_url)
