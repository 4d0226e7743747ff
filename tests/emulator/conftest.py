"""A running local org over the sample org, and small HTTP helpers.

Expected values in these tests come from the sample org's JSON files, read
here, never from the org's own evaluator.
"""

import datetime as dt
import json
import time

import jwt
import pytest
import requests

TODAY = dt.date(2026, 12, 1)  # the sample org's anchor date: no date shift
CONSUMER_KEY = "emulator-consumer-key"
USERNAME = "integration@ymca-emulator.example"
AUDIENCE = "https://login.salesforce.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
VERSION = "v62.0"


def records(org_dir, object_name):
    path = org_dir / f"{object_name}.json"
    return json.loads(path.read_text())["records"]


def by_id(org_dir, object_name):
    return {record["Id"]: record for record in records(org_dir, object_name)}


def assertion(key_pem, **claims):
    payload = {
        "iss": CONSUMER_KEY,
        "sub": USERNAME,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 180,
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key_pem, algorithm="RS256")


def request_token(url, key_pem, **claims):
    return requests.post(
        f"{url}/services/oauth2/token",
        data={"grant_type": JWT_BEARER, "assertion": assertion(key_pem, **claims)},
        timeout=10,
    )


class Api:
    """Authenticated GETs against one running org."""

    def __init__(self, handle, key_pem):
        self.handle = handle
        self.key_pem = key_pem
        self.session = requests.Session()
        self.token = None

    def login(self):
        response = request_token(self.handle.url, self.key_pem)
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self.token

    def get(self, path, *, batch_size=None, timeout=10, **params):
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if batch_size is not None:
            headers["Sforce-Query-Options"] = f"batchSize={batch_size}"
        return self.session.get(
            self.handle.url + path,
            params=params or None,
            headers=headers,
            timeout=timeout,
        )

    def query(self, soql, **kwargs):
        return self.get(f"/services/data/{VERSION}/query", q=soql, **kwargs)

    def query_all(self, soql, **kwargs):
        """Every record, following nextRecordsUrl; also the pages' sizes."""
        response = self.query(soql, **kwargs)
        assert response.status_code == 200, response.text
        page = response.json()
        found = list(page["records"])
        sizes = [len(page["records"])]
        while not page["done"]:
            response = self.get(page["nextRecordsUrl"], **kwargs)
            assert response.status_code == 200, response.text
            page = response.json()
            found.extend(page["records"])
            sizes.append(len(page["records"]))
        return found, sizes


@pytest.fixture
def org(sample_org_dir, key_pair):
    from traction_rec.emulator.testing import running_org

    _, cert_pem = key_pair
    with running_org(
        sample_org_dir,
        certificate_pem=cert_pem,
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        audience=AUDIENCE,
        today=TODAY,
    ) as handle:
        yield handle


@pytest.fixture
def small_pages_org(sample_org_dir, key_pair):
    from traction_rec.emulator.testing import running_org

    _, cert_pem = key_pair
    with running_org(
        sample_org_dir,
        certificate_pem=cert_pem,
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
        today=TODAY,
        page_size=50,
    ) as handle:
        yield handle


@pytest.fixture
def api(org, key_pair):
    client = Api(org, key_pair[0])
    client.login()
    return client


@pytest.fixture
def small_api(small_pages_org, key_pair):
    client = Api(small_pages_org, key_pair[0])
    client.login()
    return client
