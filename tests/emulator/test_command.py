"""`manage.py tr_emulator`: serves in the foreground, stops on SIGTERM, and
refuses bad options with a message that says what to do."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from .conftest import CONSUMER_KEY, USERNAME, VERSION, request_token

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cert_file(tmp_path, key_pair):
    path = tmp_path / "cert.pem"
    path.write_text(key_pair[1])
    return path


def test_it_serves_until_sigterm(sample_org_dir, cert_file, key_pair, tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "tr_emulator",
            "--org", str(sample_org_dir),
            "--cert", str(cert_file),
            "--port", "0",
            "--consumer-key", CONSUMER_KEY,
            "--username", USERNAME,
            "--today", "2026-12-01",
            "--page-size", "100",
            "--fault", "status:code=503,page=2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        url = re.search(r"serving on (http://127\.0\.0\.1:\d+)", banner).group(1)
        token = request_token(url, key_pair[0]).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        first = requests.get(
            f"{url}/services/data/{VERSION}/query",
            params={"q": "SELECT Id FROM TREX1__Course_Option__c"},
            headers=headers,
            timeout=10,
        ).json()
        second = requests.get(
            url + first["nextRecordsUrl"], headers=headers, timeout=10
        )
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        rest = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert banner == (
        "Local Traction Rec org: 10 objects, dates moved 0 weeks, serving on "
        f"{url} (1 faults). Ctrl-C stops it.\n"
    )
    assert (first["totalSize"], len(first["records"])) == (384, 100)
    assert second.status_code == 503
    assert process.returncode == 0
    assert rest == "Local org stopped after 3 requests.\n"


def test_it_names_a_certificate_it_cannot_read(sample_org_dir, tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command(
            "tr_emulator", org=str(sample_org_dir), cert=str(tmp_path / "none.pem")
        )

    assert str(raised.value) == (
        f"Cannot read the certificate {tmp_path / 'none.pem'} (No such file or "
        "directory). Give --cert the PEM certificate uploaded to the connected app."
    )


def test_it_refuses_a_file_that_is_not_a_certificate(sample_org_dir, tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")

    with pytest.raises(CommandError) as raised:
        call_command("tr_emulator", org=str(sample_org_dir), cert=str(path))

    assert str(raised.value) == (
        "The certificate is not a PEM X.509 certificate (-----BEGIN CERTIFICATE-----)."
    )


def test_it_refuses_a_missing_org_folder(cert_file, tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("tr_emulator", org=str(tmp_path / "none"), cert=str(cert_file))

    assert str(raised.value) == (
        f"The org folder {tmp_path / 'none'} does not exist. Point --org at a folder "
        "like ../shared/sample-org."
    )


def test_it_refuses_a_bad_fault(sample_org_dir, cert_file):
    with pytest.raises(CommandError) as raised:
        call_command(
            "tr_emulator",
            org=str(sample_org_dir),
            cert=str(cert_file),
            fault=["status:code=200"],
        )

    assert str(raised.value) == (
        "--fault status:code=200: status code must be an HTTP error code (400 to 599)."
    )


def test_it_refuses_a_bad_today(sample_org_dir, cert_file):
    with pytest.raises(CommandError) as raised:
        call_command(
            "tr_emulator", org=str(sample_org_dir), cert=str(cert_file), today="12/04"
        )

    assert str(raised.value) == "--today must be a date like 2026-12-04, not '12/04'."
