"""The connection settings form: the admin page, and the demo's way in.

Secrets (consumer secret, private key, passphrase) are write-only: the form
never renders them back, not even after a validation error, shows whether
one is set with a short fingerprint, and keeps the stored value when the
field is left empty. A pasted key is repaired and checked against the
certificate before anything is saved.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from traction_rec import keys
from traction_rec.models import (
    LOOPBACK_HOSTS,
    SANDBOX_AUDIENCE,
    ConnectionSettings,
    derive_audience,
)

LIGHTNING_SUFFIX = ".lightning.force.com"
_SALESFORCE_PATH = re.compile(
    r"^/services(/data(/v\d+(\.\d+)?)?|/oauth2(/token)?)?/*$", re.IGNORECASE
)
_API_VERSION = re.compile(r"^v?(\d{2,3})(?:\.(\d))?$", re.IGNORECASE)
SECRET_FIELDS = ("consumer_secret", "private_key", "private_key_passphrase")
TIMEOUT_RANGE = (5, 600)
TIMEOUT_MESSAGE = "Give the timeout in seconds, a whole number between 5 and 600."


class SecretTextarea(forms.Textarea):
    """A textarea that never writes its value into the page."""

    def format_value(self, value):
        return None


def normalise_url(value, *, label, keep_path=False):
    """The URL with https enforced (plain http only on loopback), the host in
    lower case and trailing slashes dropped. Salesforce URLs lose a pasted
    /services/data/vNN.N or /services/oauth2/token path; any other path is
    refused, because the host is all the client needs."""
    text = (value or "").strip()
    if not text:
        return ""
    if "://" not in text:
        text = "https://" + text

    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        # urlsplit refuses a port that is not a number from 0 to 65535, and
        # a bracketed host that is not an IPv6 address.
        raise forms.ValidationError(
            f"The {label} has a port or host that is not valid; enter it as "
            "https://HOST, with :PORT only if the host needs one (a number up "
            "to 65535)."
        ) from None
    # A fully qualified name may end in a dot; without it every host rule
    # below (the lightning suffix, loopback) sees the host as DNS does.
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise forms.ValidationError(f"Enter the {label} as https://HOST.")
    if parts.username or parts.password:
        raise forms.ValidationError(
            f"Remove the user name and password from the {label}; the "
            "credentials go in their own fields."
        )
    if host.endswith(LIGHTNING_SUFFIX):
        suggestion = host[: -len(LIGHTNING_SUFFIX)] + ".my.salesforce.com"
        raise forms.ValidationError(
            f"{host} is the Lightning host, which redirects: every API call "
            f"would then fail with INVALID_SESSION_ID. Use the My Domain host "
            f"instead, https://{suggestion}."
        )
    loopback = host in LOOPBACK_HOSTS
    if parts.scheme == "http" and not loopback:
        raise forms.ValidationError(
            f"The {label} must use https (plain http is only for the local org "
            "on 127.0.0.1)."
        )
    if parts.scheme not in ("http", "https"):
        raise forms.ValidationError(f"The {label} must start with https://.")
    if parts.query or parts.fragment:
        raise forms.ValidationError(
            f"Remove the ?query or #fragment from the {label}."
        )

    path = parts.path
    if not keep_path:
        if path and not _SALESFORCE_PATH.match(path) and path.strip("/"):
            raise forms.ValidationError(
                f"Give only the host in the {label}, e.g. "
                f"https://{host}; the path {path} is not needed."
            )
        path = ""
    path = path.rstrip("/")

    netloc = host if port is None else f"{host}:{port}"
    if ":" in host:  # an IPv6 literal keeps its brackets
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def _status(value, fingerprint):
    if not value:
        return "Not set."
    return f"Set (fingerprint {fingerprint}). Leave empty to keep it."


def _audience_status(stored):
    """What the client sends as `aud` for the saved settings, and why: the
    same choice as ConnectionSettings.effective_audience."""
    if stored.audience:
        return (
            f" In use: {stored.audience} (set here; empty the field to derive "
            "it from the login URL)."
        )
    if not stored.login_url:
        return ""
    derived = derive_audience(stored.login_url)
    if derived == SANDBOX_AUDIENCE:
        return f" Derived: {derived} (sandbox; the login URL is a sandbox host)."
    return f" Derived: {derived} (production; the login URL is not a sandbox)."


class ConnectionSettingsForm(forms.ModelForm):
    consumer_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    private_key = forms.CharField(
        label="Private key (PEM)",
        required=False,
        strip=False,
        widget=SecretTextarea(
            attrs={"rows": 8, "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    private_key_passphrase = forms.CharField(
        label="Private key passphrase",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    clear_consumer_secret = forms.BooleanField(
        label="Remove the stored consumer secret", required=False
    )
    clear_private_key = forms.BooleanField(
        label="Remove the stored private key", required=False
    )
    clear_private_key_passphrase = forms.BooleanField(
        label="Remove the stored passphrase", required=False
    )

    class Meta:
        model = ConnectionSettings
        # The secrets are declared above and set in save(), so the ModelForm
        # never copies an empty submission over a stored value.
        fields = [
            "consumer_key",
            "login_user",
            "login_url",
            "audience",
            "services_base_url",
            "api_base_url",
            "community_url",
            "api_version",
            "timeout",
            "private_key_source",
            "private_key_path",
            "certificate",
        ]
        widgets = {
            "certificate": forms.Textarea(attrs={"rows": 6, "spellcheck": "false"})
        }
        # The admin shows the stored certificate's expiry beside this field;
        # the two labels must not both read "Certificate".
        labels = {"certificate": "Certificate (PEM)"}

    field_order = [
        "consumer_key",
        "consumer_secret",
        "clear_consumer_secret",
        "login_user",
        "login_url",
        "audience",
        "services_base_url",
        "api_base_url",
        "community_url",
        "api_version",
        "timeout",
        "private_key_source",
        "private_key",
        "clear_private_key",
        "private_key_path",
        "private_key_passphrase",
        "clear_private_key_passphrase",
        "certificate",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance
        # Kept aside before validation: a ModelForm built with these names in
        # its fields (the admin builds one from the fieldsets) copies the
        # empty submissions onto the instance while it validates.
        self._stored_secrets = {
            name: getattr(stored, name) or "" for name in SECRET_FIELDS
        }

        # Never put a stored secret into the page.
        for name in SECRET_FIELDS:
            self.initial[name] = ""

        self.fields["consumer_key"].required = True
        self.fields["login_user"].required = True
        self.fields["login_url"].required = True
        self.fields["api_version"].required = False
        self.fields["timeout"].required = False
        # The model field's own bound (at least 0) would answer -1 with
        # another sentence than 0 gets; clean_timeout checks the one range.
        timeout = self.fields["timeout"]
        timeout.validators = [
            validator
            for validator in timeout.validators
            if not isinstance(validator, (MinValueValidator, MaxValueValidator))
        ]
        timeout.error_messages["invalid"] = TIMEOUT_MESSAGE
        timeout.widget.attrs.update(min=TIMEOUT_RANGE[0], max=TIMEOUT_RANGE[1])
        self.fields["private_key_source"].required = False

        self.fields["consumer_secret"].help_text = _status(
            stored.consumer_secret, keys.secret_fingerprint(stored.consumer_secret)
        )
        self.fields["private_key_passphrase"].help_text = (
            _status(stored.private_key_passphrase, "hidden")
            if stored.private_key_passphrase
            else "Only for a passphrase-protected key."
        )
        self.fields["private_key"].help_text = self._key_status(stored)
        self.fields["audience"].help_text += _audience_status(stored)

    @staticmethod
    def _key_status(stored):
        if not stored.private_key:
            return (
                "Not set. Paste the RSA private key (PKCS#1 or PKCS#8 PEM) when "
                "the key is stored here."
            )
        try:
            loaded = keys.load_private_key(
                stored.private_key, stored.private_key_passphrase or ""
            )
        except keys.KeyProblem:
            return "Set, but it no longer loads: paste it again."
        return (
            f"Set: RSA {loaded.bits} bits, fingerprint {loaded.fingerprint}. "
            "Leave empty to keep it."
        )

    # Single fields

    def clean_consumer_key(self):
        value = self.cleaned_data["consumer_key"].strip()
        if any(char.isspace() for char in value):
            raise forms.ValidationError(
                "The consumer key has no spaces; copy it again from the "
                "connected app's Manage Consumer Details."
            )
        return value

    def clean_login_user(self):
        value = self.cleaned_data["login_user"].strip()
        if "@" not in value or any(char.isspace() for char in value):
            raise forms.ValidationError(
                "Enter the integration user's Salesforce username, which has the "
                "form of an email address (for example "
                "integration@ymca.org, or integration@ymca.org.dev in a sandbox)."
            )
        return value

    def clean_login_url(self):
        return normalise_url(self.cleaned_data["login_url"], label="login URL")

    def clean_services_base_url(self):
        return normalise_url(
            self.cleaned_data["services_base_url"], label="services base URL"
        )

    def clean_api_base_url(self):
        return normalise_url(
            self.cleaned_data["api_base_url"], label="REST API base URL"
        )

    def clean_community_url(self):
        return normalise_url(
            self.cleaned_data["community_url"], label="community URL", keep_path=True
        )

    def clean_audience(self):
        value = normalise_url(self.cleaned_data["audience"], label="audience")
        if value.startswith("http://"):
            raise forms.ValidationError("The audience is an https URL.")
        return value

    def clean_api_version(self):
        value = (self.cleaned_data.get("api_version") or "").strip()
        if not value:
            return ConnectionSettings._meta.get_field("api_version").default
        match = _API_VERSION.match(value)
        if not match:
            raise forms.ValidationError(
                "Write the API version as vNN.N, for example v62.0."
            )
        return f"v{int(match.group(1))}.{match.group(2) or '0'}"

    def clean_timeout(self):
        value = self.cleaned_data.get("timeout")
        if value is None:
            return ConnectionSettings._meta.get_field("timeout").default
        low, high = TIMEOUT_RANGE
        if not low <= value <= high:
            raise forms.ValidationError(TIMEOUT_MESSAGE)
        return value

    def clean_private_key_source(self):
        return self.cleaned_data.get("private_key_source") or "database"

    def clean_private_key_path(self):
        value = self.cleaned_data["private_key_path"].strip()
        if value and not Path(value).is_absolute():
            raise forms.ValidationError(
                "Give the key file's full path, starting with /."
            )
        return value

    # The key and the certificate together

    def _secret(self, name):
        """The value the secret will have after saving: the submitted one,
        nothing when cleared, otherwise the stored one."""
        submitted = self.cleaned_data.get(name) or ""
        if submitted.strip():
            return submitted
        if self.cleaned_data.get(f"clear_{name}"):
            return ""
        return self._stored_secrets[name]

    def _key_text(self, source):
        if source == "environment":
            text = settings.TRACTION_REC_PRIVATE_KEY
            if not text:
                self.add_error(
                    "private_key_source",
                    "TRACTION_REC_PRIVATE_KEY (or TRACTION_REC_PRIVATE_KEY_FILE) is "
                    "not set in this server's environment; set it for the web and "
                    "worker processes, or store the key here.",
                )
            return text, "private_key_source"
        if source == "file":
            path = self.cleaned_data.get("private_key_path")
            if not path:
                if "private_key_path" not in self.errors:
                    self.add_error(
                        "private_key_path",
                        "Give the path of the key file, or store the key here.",
                    )
                return "", "private_key_path"
            try:
                return Path(path).read_text(), "private_key_path"
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or "it is not PEM text"
                self.add_error(
                    "private_key_path",
                    f"{path} cannot be read ({reason}); check the path and that "
                    "the web and worker users may read it.",
                )
                return "", "private_key_path"
        return self._secret("private_key"), "private_key"

    def clean(self):
        cleaned = super().clean()
        source = cleaned.get("private_key_source") or "database"

        submitted_key = (cleaned.get("private_key") or "").strip()
        if submitted_key and source != "database":
            self.add_error(
                "private_key",
                "The key is set to come from the "
                f"{'environment' if source == 'environment' else 'file'}; choose "
                "'Stored here' to store a pasted key, or leave this empty.",
            )
            return cleaned

        text, key_field = self._key_text(source)
        passphrase = self._secret("private_key_passphrase")
        loaded = None
        if text and not self.errors.get(key_field):
            try:
                loaded = keys.load_private_key(text, passphrase)
            except keys.KeyProblem as exc:
                field = (
                    "private_key_passphrase"
                    if "passphrase" in str(exc) and key_field == "private_key"
                    else key_field
                )
                self.add_error(field, str(exc))
        if loaded and source == "database":
            cleaned["_private_key_pem"] = loaded.pem

        certificate_text = (cleaned.get("certificate") or "").strip()
        certificate = None
        if certificate_text:
            try:
                certificate, pem = keys.load_certificate(certificate_text)
            except keys.KeyProblem as exc:
                self.add_error("certificate", str(exc))
            else:
                cleaned["certificate"] = pem
                expires_at = keys.certificate_expires_at(certificate)
                if expires_at <= timezone.now():
                    self.add_error(
                        "certificate",
                        f"This certificate expired on {expires_at:%Y-%m-%d}. Make "
                        "a new key and certificate, upload the certificate to the "
                        "connected app, then paste both here.",
                    )
                cleaned["_certificate_expires_at"] = expires_at

        if loaded and certificate:
            try:
                keys.check_pair(loaded.key, certificate)
            except keys.KeyProblem as exc:
                changed_key = bool(submitted_key) or source != "database"
                field = "private_key" if changed_key else "certificate"
                self.add_error(field, str(exc))
        return cleaned

    def save(self, commit=True):
        instance = super().save(commit=False)
        for name in SECRET_FIELDS:
            value = self._secret(name)
            if name == "consumer_secret":
                value = value.strip()
            setattr(instance, name, value)
        if "_private_key_pem" in self.cleaned_data:
            instance.private_key = self.cleaned_data["_private_key_pem"]
        instance.certificate_expires_at = self.cleaned_data.get(
            "_certificate_expires_at"
        )
        if commit:
            instance.save()
        return instance
