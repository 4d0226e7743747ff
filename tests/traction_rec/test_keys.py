import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.conftest import make_key_pair
from traction_rec import keys
from traction_rec.errors import ConfigurationError
from traction_rec.models import ConnectionSettings


@pytest.fixture(scope="module")
def rsa_key(key_pair):
    return serialization.load_pem_private_key(key_pair[0].encode(), password=None)


def pem(key, fmt, password=None):
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


PKCS1 = serialization.PrivateFormat.TraditionalOpenSSL
PKCS8 = serialization.PrivateFormat.PKCS8


class TestRepair:
    def test_crlf_and_trailing_spaces_are_undone(self, key_pair):
        damaged = key_pair[0].replace("\n", "  \r\n")

        assert keys.repair_pem(damaged) == key_pair[0]

    def test_literal_backslash_n_sequences_become_line_breaks(self, key_pair):
        damaged = key_pair[0].replace("\n", "\\n")

        assert keys.repair_pem(damaged) == key_pair[0]

    def test_line_breaks_flattened_to_spaces_are_rebuilt(self, key_pair):
        damaged = key_pair[0].replace("\n", " ")

        assert keys.repair_pem(damaged) == key_pair[0]

    def test_surrounding_quotes_from_an_env_file_are_dropped(self, key_pair):
        assert keys.repair_pem('"' + key_pair[0].replace("\n", "\\n") + '"') == key_pair[0]

    def test_the_headers_of_a_legacy_encrypted_key_are_kept(self, rsa_key):
        original = pem(rsa_key, PKCS1, b"s3cret")

        repaired = keys.repair_pem(original.replace("\n", " "))

        assert repaired == original


class TestLoadPrivateKey:
    @pytest.mark.parametrize(
        "damage",
        [
            lambda text: text,
            lambda text: text.replace("\n", "\r\n"),
            lambda text: text.replace("\n", "   \n"),
            lambda text: text.replace("\n", "\\n"),
            lambda text: text.replace("\n", " "),
        ],
        ids=["clean", "crlf", "trailing-spaces", "literal-newlines", "flattened"],
    )
    @pytest.mark.parametrize("fmt", [PKCS1, PKCS8], ids=["pkcs1", "pkcs8"])
    def test_it_loads_each_format_however_pasted(self, rsa_key, fmt, damage):
        loaded = keys.load_private_key(damage(pem(rsa_key, fmt)))

        assert loaded.key.private_numbers() == rsa_key.private_numbers()
        assert loaded.encrypted is False
        assert loaded.bits == 2048

    @pytest.mark.parametrize("fmt", [PKCS1, PKCS8], ids=["pkcs1", "pkcs8"])
    def test_it_opens_a_passphrase_protected_key(self, rsa_key, fmt):
        loaded = keys.load_private_key(pem(rsa_key, fmt, b"s3cret"), "s3cret")

        assert loaded.key.private_numbers() == rsa_key.private_numbers()
        assert loaded.encrypted is True

    @pytest.mark.parametrize("fmt", [PKCS1, PKCS8], ids=["pkcs1", "pkcs8"])
    def test_a_protected_key_without_its_passphrase_is_refused(self, rsa_key, fmt):
        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_private_key(pem(rsa_key, fmt, b"s3cret"))

        assert str(caught.value) == (
            "This key is protected by a passphrase; enter it in the passphrase field."
        )

    @pytest.mark.parametrize("fmt", [PKCS1, PKCS8], ids=["pkcs1", "pkcs8"])
    def test_a_wrong_passphrase_is_refused(self, rsa_key, fmt):
        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_private_key(pem(rsa_key, fmt, b"s3cret"), "guess")

        assert str(caught.value) == (
            "The passphrase does not open this key; check it, or paste the key "
            "without a passphrase."
        )

    def test_a_passphrase_for_a_plain_key_is_ignored(self, key_pair, rsa_key):
        loaded = keys.load_private_key(key_pair[0], "unneeded")

        assert loaded.key.private_numbers() == rsa_key.private_numbers()

    def test_a_certificate_in_the_key_field_is_refused(self, key_pair):
        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_private_key(key_pair[1])

        assert str(caught.value) == (
            "This is a certificate, not a private key. Paste the certificate in "
            "the Certificate field, and the private key (the file starting with "
            "-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) here."
        )

    def test_an_ec_key_is_refused(self):
        text = pem(ec.generate_private_key(ec.SECP256R1()), PKCS1)

        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_private_key(text)

        assert str(caught.value) == (
            "This is an EC (elliptic curve) key. Salesforce signs JWT bearer "
            "tokens with RS256, which needs an RSA key: make one with "
            "`openssl genrsa -out server.key 2048`."
        )

    def test_an_ec_key_in_pkcs8_is_refused(self):
        text = pem(ec.generate_private_key(ec.SECP256R1()), PKCS8)

        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_private_key(text)

        assert str(caught.value) == (
            "This is an EC (elliptic curve) key, not an RSA key. Salesforce signs "
            "JWT bearer tokens with RS256, which needs an RSA key: make one with "
            "`openssl genrsa -out server.key 2048`."
        )

    def test_a_public_key_is_refused(self, rsa_key):
        text = rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

        with pytest.raises(keys.KeyProblem, match="^This is a public key."):
            keys.load_private_key(text)

    def test_a_key_and_certificate_pasted_together_are_refused(self, key_pair):
        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_private_key(key_pair[0] + key_pair[1])

        assert str(caught.value) == (
            "The key field holds 2 PEM blocks (PRIVATE KEY, CERTIFICATE); paste "
            "only the private key here, and the certificate in the Certificate "
            "field."
        )

    def test_text_without_a_begin_line_is_refused(self):
        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_private_key("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")

        assert str(caught.value) == (
            "This is not a PEM key: it has no -----BEGIN PRIVATE KEY----- or "
            "-----BEGIN RSA PRIVATE KEY----- line. Paste the whole file, including "
            "the BEGIN and END lines."
        )

    def test_a_damaged_key_is_refused(self, key_pair):
        lines = key_pair[0].splitlines()
        damaged = "\n".join(lines[:5] + lines[7:])

        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_private_key(damaged)

        assert str(caught.value) == (
            "The key could not be read: its text is damaged or incomplete. Paste "
            "the whole file again, from the BEGIN line to the END line."
        )

    def test_an_empty_key_is_refused(self):
        with pytest.raises(keys.KeyProblem, match="The private key is empty"):
            keys.load_private_key("   \n")

    def test_a_short_rsa_key_is_refused(self):
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)

        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_private_key(pem(small, PKCS8))

        assert str(caught.value) == (
            "This RSA key has 1024 bits; Salesforce needs at least 2048. Make a "
            "new key and certificate."
        )

    def test_no_message_contains_key_material(self, rsa_key):
        text = pem(rsa_key, PKCS8, b"s3cret")
        body = text.splitlines()[3]

        messages = []
        for passphrase in ("", "guess"):
            with pytest.raises(keys.KeyProblem) as caught:
                keys.load_private_key(text, passphrase)
            messages.append(str(caught.value))

        assert all(body not in message and "s3cret" not in message for message in messages)


class TestCertificate:
    def test_it_loads_a_flattened_certificate(self, key_pair):
        certificate, text = keys.load_certificate(key_pair[1].replace("\n", " "))

        assert text == key_pair[1]
        assert certificate.not_valid_after_utc > dt.datetime.now(dt.timezone.utc)

    def test_a_private_key_in_the_certificate_field_is_refused(self, key_pair):
        with pytest.raises(keys.KeyProblem) as caught:
            keys.load_certificate(key_pair[0])

        assert str(caught.value) == (
            "This is a private key, not a certificate. Never paste the private key "
            "here: paste the certificate (-----BEGIN CERTIFICATE-----) that was "
            "uploaded to the connected app."
        )

    def test_the_key_and_its_certificate_belong_together(self, key_pair, rsa_key):
        certificate, _ = keys.load_certificate(key_pair[1])

        keys.check_pair(rsa_key, certificate)

    def test_a_certificate_of_another_key_is_refused(self, rsa_key):
        _, other_certificate = make_key_pair()
        certificate, _ = keys.load_certificate(other_certificate)

        with pytest.raises(keys.KeyProblem) as caught:
            keys.check_pair(rsa_key, certificate)

        assert str(caught.value) == (
            "The private key and the certificate do not belong together, so "
            "Salesforce would refuse every token. Paste the certificate made from "
            "this key (the one uploaded to the connected app), or the key that made it."
        )

    def test_the_certificate_fingerprint_is_openssls_sha256(self, key_pair):
        from cryptography import x509

        certificate, _ = keys.load_certificate(key_pair[1])
        der = certificate.public_bytes(serialization.Encoding.DER)
        digest = hashlib.sha256(der).hexdigest().upper()

        assert keys.certificate_fingerprint(certificate) == ":".join(
            digest[i : i + 2] for i in range(0, 64, 2)
        )
        assert isinstance(certificate, x509.Certificate)


class TestFingerprints:
    def test_a_secret_fingerprint_is_the_start_of_its_sha256(self):
        # sha256("abc") = ba7816bf...
        assert keys.secret_fingerprint("abc") == "ba:78:16:bf"

    def test_an_empty_secret_has_no_fingerprint(self):
        assert keys.secret_fingerprint("") == ""

    def test_the_key_fingerprint_comes_from_the_public_key(self, rsa_key):
        der = rsa_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        start = hashlib.sha256(der).hexdigest()[:8]

        assert keys.public_key_fingerprint(rsa_key.public_key()) == ":".join(
            start[i : i + 2] for i in range(0, 8, 2)
        )


class TestKeySources:
    def test_the_database_key_is_used_by_default(self, key_pair):
        connection = ConnectionSettings(private_key=key_pair[0])

        assert keys.private_key_text(connection) == key_pair[0]

    def test_an_empty_database_key_is_named(self):
        with pytest.raises(ConfigurationError) as caught:
            keys.private_key_text(ConnectionSettings())

        assert caught.value.message == "No private key is stored in the connection settings."

    def test_the_environment_key_comes_from_settings(self, settings, key_pair):
        settings.TRACTION_REC_PRIVATE_KEY = key_pair[0].replace("\n", "\\n")
        connection = ConnectionSettings(private_key_source="environment")

        loaded = keys.signing_key(connection)

        assert loaded.pem == key_pair[0]

    def test_a_missing_environment_key_is_named(self, settings):
        settings.TRACTION_REC_PRIVATE_KEY = ""

        with pytest.raises(ConfigurationError) as caught:
            keys.private_key_text(ConnectionSettings(private_key_source="environment"))

        assert caught.value.message == (
            "The private key should come from the environment, but "
            "TRACTION_REC_PRIVATE_KEY (or TRACTION_REC_PRIVATE_KEY_FILE) is not set."
        )

    def test_a_file_key_is_read_from_its_path(self, tmp_path, key_pair):
        path = tmp_path / "server.key"
        path.write_text(key_pair[0].replace("\n", "\r\n"))
        connection = ConnectionSettings(private_key_source="file", private_key_path=str(path))

        assert keys.signing_key(connection).pem == key_pair[0]

    def test_an_unreadable_key_file_is_named(self, tmp_path):
        path = tmp_path / "missing.key"
        connection = ConnectionSettings(private_key_source="file", private_key_path=str(path))

        with pytest.raises(ConfigurationError) as caught:
            keys.private_key_text(connection)

        assert caught.value.message == (
            f"The private key file {path} cannot be read (No such file or directory)."
        )

    def test_a_broken_key_is_a_configuration_error_without_the_key(self, key_pair):
        connection = ConnectionSettings(private_key=key_pair[1])

        with pytest.raises(ConfigurationError) as caught:
            keys.signing_key(connection)

        assert caught.value.message.startswith(
            "The private key (database) cannot be used: This is a certificate"
        )
        assert key_pair[1].splitlines()[1] not in caught.value.message
