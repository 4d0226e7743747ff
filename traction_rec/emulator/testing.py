"""Run a local org for a test: `with running_org(dir, certificate_pem=...) as org`.

The handle has `.url`, `.faults` (see traction_rec.emulator.faults), `.requests`
(a list of (method, path, status) named tuples; no query strings, tokens or
assertions), `.org` (the loaded data, with `upsert` and `delete`),
`.api_usage`, and `revoke_tokens()`.
"""

import contextlib
import threading

from .org import Org
from .server import OrgServer


class OrgHandle:
    def __init__(self, server):
        self._server = server

    @property
    def url(self):
        return self._server.url

    @property
    def faults(self):
        return self._server.faults

    @property
    def requests(self):
        return list(self._server.requests)

    @property
    def org(self):
        return self._server.org

    @property
    def api_usage(self):
        return self._server.api_usage

    @property
    def server(self):
        return self._server

    def revoke_tokens(self):
        """Make every issued token invalid, as a revoked session is."""
        return self._server.revoke_tokens()

    def __repr__(self):
        return f"<local org {self.url}>"


@contextlib.contextmanager
def running_org(
    org_dir,
    *,
    certificate_pem,
    consumer_key="demo-consumer-key",
    username="integration@ymca.example",
    audience="https://login.salesforce.com",
    today=None,
    page_size=2000,
    api_limit=15000,
    port=0,
):
    """Serve the org in `org_dir` on 127.0.0.1:`port` (0: a free one) until the
    block ends."""
    org = org_dir if isinstance(org_dir, Org) else Org.load(org_dir, today=today)
    server = OrgServer(
        org,
        certificate_pem=certificate_pem,
        consumer_key=consumer_key,
        username=username,
        audience=audience,
        page_size=page_size,
        api_limit=api_limit,
        port=port,
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"local-org-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    try:
        yield OrgHandle(server)
    finally:
        server.stop()
        thread.join(timeout=5)
