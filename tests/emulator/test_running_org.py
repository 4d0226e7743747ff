"""running_org: a free port on 127.0.0.1, a request log, and a clean stop."""

import threading

import pytest
import requests

from traction_rec.emulator.testing import running_org

from .conftest import CONSUMER_KEY, USERNAME, VERSION, Api


def test_it_binds_loopback_on_a_free_port_and_stops_on_exit(sample_org_dir, key_pair):
    with running_org(sample_org_dir, certificate_pem=key_pair[1]) as handle:
        url = handle.url
        answered = requests.get(f"{url}/services/data/", timeout=10).status_code
        host = handle.server.server_address[0]

    assert answered == 200
    assert host == "127.0.0.1"
    assert url.startswith("http://127.0.0.1:")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/services/data/", timeout=2)


def test_two_orgs_run_side_by_side_on_their_own_ports(sample_org_dir, key_pair):
    with running_org(sample_org_dir, certificate_pem=key_pair[1]) as first:
        with running_org(sample_org_dir, certificate_pem=key_pair[1]) as second:
            urls = {first.url, second.url}

    assert len(urls) == 2


def test_a_hanging_request_does_not_keep_the_org_alive(sample_org_dir, key_pair):
    errors = []
    with running_org(
        sample_org_dir,
        certificate_pem=key_pair[1],
        consumer_key=CONSUMER_KEY,
        username=USERNAME,
    ) as handle:
        client = Api(handle, key_pair[0])
        client.login()
        handle.faults.add("hang", seconds=60)

        def ask():
            try:
                client.query("SELECT Id FROM TREX1__Location__c", timeout=0.5)
            except requests.exceptions.ReadTimeout as exc:
                errors.append(type(exc).__name__)

        asking = threading.Thread(target=ask)
        asking.start()
        asking.join(timeout=10)
        server = handle.server

    assert errors == ["ReadTimeout"]
    assert server.stopping.is_set()


def test_the_log_keeps_method_path_and_status_only(org, api):
    api.query("SELECT Id FROM TREX1__Location__c WHERE Name = 'secret-looking'")
    api.query("SELECT Nope FROM TREX1__Location__c")

    assert org.requests[1:] == [
        ("GET", f"/services/data/{VERSION}/query", 200),
        ("GET", f"/services/data/{VERSION}/query", 400),
    ]
    assert org.requests[1].method == "GET"
    assert "secret-looking" not in repr(org.requests)
