import pytest
import requests

from traction_rec.emulator.testing import running_org

OPTION_ID = "a0O5e0000eYy3tqEAB"


@pytest.fixture
def org(sample_org_dir, key_pair):
    with running_org(sample_org_dir, certificate_pem=key_pair[1]) as handle:
        yield handle


def test_it_names_the_option_a_register_link_points_at(org):
    page = requests.get(
        f"{org.url}/s/registration",
        params={"courseSessionId": "a0E5e0000C6BUa9EQG", "courseOptionId": OPTION_ID},
        timeout=5,
    )

    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html;charset=UTF-8"
    assert "<h1>Register: Parent &amp; Child Swim Tue 12:00 PM</h1>" in page.text
    assert f"Course session a0E5e0000C6BUa9EQG, course option {OPTION_ID}." in page.text


def test_it_answers_404_for_an_option_the_org_does_not_have(org):
    page = requests.get(
        f"{org.url}/s/registration",
        params={"courseOptionId": "<script>alert(1)</script>"},
        timeout=5,
    )

    assert page.status_code == 404
    assert "<script>" not in page.text
    assert "The link names no course option of this org." in page.text


def test_it_serves_on_the_port_asked_for(sample_org_dir, key_pair):
    with running_org(sample_org_dir, certificate_pem=key_pair[1], port=0) as first:
        port = int(first.url.rsplit(":", 1)[1])
    with running_org(sample_org_dir, certificate_pem=key_pair[1], port=port) as again:
        assert again.url == f"http://127.0.0.1:{port}"
