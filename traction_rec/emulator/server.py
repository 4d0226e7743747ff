"""The HTTP side of the local org: Salesforce's token endpoint, the versions
list and the query resource with its pages, on 127.0.0.1 only.

A query is evaluated once, when its first page is asked for; the result
records are kept under a query locator (a snapshot) and each page is
serialised once. The same query on the same data, API version and day reuses
the last MAX_RESULTS results and their serialised pages (the org bumps its
generation on every change, so a changed org is evaluated afresh). At most
MAX_CURSORS locators are kept; the oldest is then forgotten and answers
INVALID_QUERY_LOCATOR, as an expired Salesforce cursor does.
"""

import html
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict, namedtuple
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import soql as soql_module
from .auth import Authority, GrantError
from .faults import Faults
from .org import Org

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
API_VERSIONS = [f"{number}.0" for number in range(50, 69)]
MAX_BATCH = 2000
SALESFORCE_MIN_BATCH = 200
MAX_CURSORS = 50
MAX_RESULTS = 4
JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html;charset=UTF-8"

DAILY_LIMIT = "TotalRequests Limit exceeded."
CONCURRENT_LIMIT = "ConcurrentPerOrgLongTxn Limit exceeded."

Request = namedtuple("Request", "method path status")

LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Login | Salesforce</title></head><body>"
    '<form name="login" method="post" action="/secur/login_page.jsp">'
    '<input type="text" name="username"><input type="password" name="pw">'
    '<input type="submit" value="Log In"></form></body></html>'
).encode()
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>"
    "<h1>Service Unavailable</h1><p>The server is temporarily unable to service "
    "your request. Please try again later.</p></body></html>"
).encode()


def release_label(version):
    """Salesforce's release name of an API version: 62.0 is Winter '25."""
    step = int(float(version)) - 62
    season = ("Winter", "Spring", "Summer")[step % 3]
    return f"{season} '{25 + step // 3:02d}"


class Result:
    """The records of one evaluated query and its serialised pages."""

    __slots__ = ("object_name", "records", "pages", "_lock")

    def __init__(self, object_name, records):
        self.object_name = object_name
        self.records = records
        self.pages = {}
        self._lock = threading.Lock()

    def page_json(self, offset, batch):
        """The JSON array of records[offset:offset + batch], made once."""
        key = (offset, batch)
        body = self.pages.get(key)
        if body is None:
            body = json.dumps(
                self.records[offset : offset + batch],
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
            with self._lock:
                self.pages[key] = body
        return body


class Cursor:
    __slots__ = ("result", "batch", "version")

    def __init__(self, result, batch, version):
        self.result = result
        self.batch = batch
        self.version = version

    @property
    def object_name(self):
        return self.result.object_name

    @property
    def records(self):
        return self.result.records


class Reply(Exception):
    """Raised inside a handler to answer at once."""

    def __init__(self, status, body, content_type=JSON_TYPE, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def error_reply(status, code, message):
    return Reply(status, [{"message": message, "errorCode": code}])


class OrgServer(ThreadingHTTPServer):
    """One local org on 127.0.0.1; `url` is known once it is bound."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        org,
        *,
        certificate_pem,
        consumer_key="demo-consumer-key",
        username="integration@ymca.example",
        audience="https://login.salesforce.com",
        port=0,
        page_size=2000,
        api_limit=15000,
        today=None,
    ):
        if not isinstance(org, Org):
            org = Org.load(org, today=today)
        if not isinstance(page_size, int) or not 1 <= page_size <= MAX_BATCH:
            raise ValueError(f"page_size must be between 1 and {MAX_BATCH}.")
        self.org = org
        self.authority = Authority(
            certificate_pem=certificate_pem,
            consumer_key=consumer_key,
            username=username,
            audience=audience,
        )
        self.faults = Faults()
        self.page_size = page_size
        # Salesforce clamps batchSize to 200..2000; a page size below 200 set
        # on the server drops the floor to 1 so tests can page a small org.
        self.min_batch = 1 if page_size < SALESFORCE_MIN_BATCH else SALESFORCE_MIN_BATCH
        self.api_limit = api_limit
        self.api_usage = 0
        self.requests = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._cursors = OrderedDict()
        self._results = OrderedDict()
        super().__init__((HOST, port), Handler)

    @property
    def url(self):
        return f"http://{HOST}:{self.server_address[1]}"

    @property
    def today(self):
        return self.org.today

    def count_call(self):
        with self._lock:
            self.api_usage += 1
            return self.api_usage

    def limit_info(self):
        return f"api-usage={self.api_usage}/{self.api_limit}"

    def log_request_line(self, method, path, status):
        with self._lock:
            self.requests.append(Request(method, path, status))

    def open_cursor(self, cursor):
        locator = "01g" + secrets.token_hex(8)[:15].upper()
        with self._lock:
            self._cursors[locator] = cursor
            while len(self._cursors) > MAX_CURSORS:
                self._cursors.popitem(last=False)
        return locator

    def cursor(self, locator):
        with self._lock:
            cursor = self._cursors.get(locator)
            if cursor is not None:
                self._cursors.move_to_end(locator)
            return cursor

    def close_cursor(self, locator):
        with self._lock:
            self._cursors.pop(locator, None)

    def revoke_tokens(self):
        return self.authority.revoke_all()

    def result(self, compiled, version):
        """The evaluated query, shared by every locator of the same query on
        the same data, version and day; evaluated on first use."""
        org = self.org
        key = (compiled.soql, version, org.generation, org.today)
        with self._lock:
            result = self._results.get(key)
            if result is not None:
                self._results.move_to_end(key)
                return result, False
        records = soql_module.run(compiled, org, version=version)
        result = Result(compiled.object_name, records)
        with self._lock:
            self._results[key] = result
            while len(self._results) > MAX_RESULTS:
                self._results.popitem(last=False)
        return result, True

    def stop(self):
        self.stopping.set()
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LocalTractionRec/1"
    sys_version = ""

    # Routing.

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    def _serve(self, method):
        server = self.server
        parts = urlsplit(self.path)
        path = parts.path
        body = self._read_body()
        endpoint = "token" if path == "/services/oauth2/token" else "query"
        delay = server.faults.delay(endpoint)
        if delay:
            server.stopping.wait(delay)

        try:
            if path == "/services/oauth2/token":
                if method != "POST":
                    raise error_reply(405, "METHOD_NOT_ALLOWED", "Use POST.")
                reply = self._token(body)
            elif path in ("/services/data", "/services/data/"):
                fault = server.faults.take("versions")
                if fault is not None:
                    self._query_fault(fault, None)
                reply = self._versions()
            elif path.startswith("/services/data/v"):
                reply = self._data(method, path, parts.query)
            elif path == "/secur/login_page.jsp":
                reply = Reply(200, LOGIN_PAGE, HTML_TYPE)
            elif path == "/s/registration":
                reply = self._registration(parts.query)
            else:
                raise error_reply(
                    404, "NOT_FOUND", "The requested resource does not exist"
                )
        except Reply as raised:
            reply = raised
        except soql_module.SOQLError as exc:
            reply = error_reply(400, exc.code, exc.message)
        except Exception:
            # A bug of the local org: answer as Salesforce does, keep the trace.
            logger.exception("The local org failed on %s %s", method, path)
            reply = error_reply(
                500,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred in the local org.",
            )

        self._send(method, path, reply)

    # Endpoints.

    def _registration(self, query_string):
        """The community site's registration page, where Register links land.

        A real community site takes the registration; this page only names
        what the link pointed at, so the demo's Register button goes somewhere
        on this machine.
        """
        query = parse_qs(query_string)
        option_id = (query.get("courseOptionId") or [""])[0]
        session_id = (query.get("courseSessionId") or [""])[0]
        options = {
            record["Id"]: record
            for record in self.server.org.records("TREX1__Course_Option__c")
        }
        option = options.get(option_id)
        if option is None:
            body = (
                "<h1>Unknown course option</h1>"
                "<p>The link names no course option of this org.</p>"
            )
            status = 404
        else:
            body = (
                f"<h1>Register: {html.escape(option.get('Name') or option_id)}</h1>"
                f"<p>Course session {html.escape(session_id)}, course option "
                f"{html.escape(option_id)}.</p><p>This is the local Traction Rec org: "
                "a real community site takes the registration here.</p>"
            )
            status = 200
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Registration | local org</title></head><body>{body}</body></html>"
        )
        return Reply(status, page.encode(), HTML_TYPE)

    def _token(self, body):
        server = self.server
        form = parse_qs(body.decode("utf-8", "replace"))
        grant_type = (form.get("grant_type") or [""])[0]
        assertion = (form.get("assertion") or [""])[0]
        fault = server.faults.take("token")
        if fault is not None:
            if fault.kind == "unapproved_user":
                raise Reply(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "user hasn't approved this consumer",
                    },
                )
            self._query_fault(fault, None)
        try:
            granted = server.authority.grant(
                grant_type, assertion, instance_url=server.url
            )
        except GrantError as exc:
            logger.info("Token refused: %s (%s)", exc.error, exc.description)
            return Reply(
                400, {"error": exc.error, "error_description": exc.description}
            )
        logger.info("Token issued (%s so far)", server.authority.issued)
        return Reply(200, granted)

    def _versions(self):
        return Reply(
            200,
            [
                {
                    "label": release_label(version),
                    "url": f"/services/data/v{version}",
                    "version": version,
                }
                for version in API_VERSIONS
            ],
        )

    def _data(self, method, path, query_string):
        server = self.server
        segments = path.split("/")  # "", services, data, vNN.N, resource...
        version = segments[3]
        if version[1:] not in API_VERSIONS:
            raise error_reply(404, "NOT_FOUND", "The requested resource does not exist")
        server.count_call()
        self._authenticate()
        if server.faults.expire_now():
            revoked = server.revoke_tokens()
            logger.info("Fault: %s tokens revoked", revoked)
            raise error_reply(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if server.api_usage > server.api_limit:
            raise error_reply(403, "REQUEST_LIMIT_EXCEEDED", DAILY_LIMIT)

        resource = segments[4:]
        if resource == ["query"] or resource == ["query", ""]:
            if method != "GET":
                raise error_reply(405, "METHOD_NOT_ALLOWED", "Use GET for a query.")
            return self._first_page(version, query_string)
        if len(resource) == 2 and resource[0] == "query":
            return self._next_page(version, resource[1])
        if resource in ([], [""]):
            return Reply(
                200,
                {
                    "query": f"/services/data/{version}/query",
                    "sobjects": f"/services/data/{version}/sobjects",
                },
            )
        raise error_reply(404, "NOT_FOUND", "The requested resource does not exist")

    def _authenticate(self):
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not self.server.authority.valid(
            token.strip()
        ):
            raise error_reply(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def _batch_size(self):
        server = self.server
        options = self.headers.get("Sforce-Query-Options", "")
        for option in options.split(","):
            key, _, value = option.partition("=")
            if key.strip().lower() == "batchsize":
                try:
                    requested = int(value.strip())
                except ValueError:
                    break
                return max(server.min_batch, min(requested, MAX_BATCH))
        return server.page_size

    def _first_page(self, version, query_string):
        server = self.server
        soql = (parse_qs(query_string).get("q") or [""])[0]
        if not soql.strip():
            raise error_reply(
                400, "MALFORMED_QUERY", "A query string has to be specified"
            )
        org = server.org
        today = org.today
        compiled = soql_module.compile_query(org, soql, today=today)
        fault = server.faults.take("query", page=1, object_name=compiled.object_name)
        if fault is not None:
            self._query_fault(fault, None)

        started = time.perf_counter()
        result, evaluated = server.result(compiled, version)
        batch = self._batch_size()
        logger.info(
            "Query on %s: %s records %s in %.3fs, pages of %s",
            compiled.object_name,
            len(result.records),
            "evaluated" if evaluated else "from the cache",
            time.perf_counter() - started,
            batch,
        )
        cursor = Cursor(result, batch, version)
        locator = server.open_cursor(cursor) if len(result.records) > batch else None
        return self._page(cursor, locator, 0, fault)

    def _next_page(self, version, token):
        server = self.server
        locator, _, offset_text = token.rpartition("-")
        cursor = server.cursor(locator) if locator else None
        try:
            offset = int(offset_text)
        except ValueError:
            offset = -1
        if cursor is None or not 0 < offset < len(cursor.records):
            raise error_reply(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        page = offset // cursor.batch + 1
        fault = server.faults.take("query", page=page, object_name=cursor.object_name)
        if fault is not None:
            self._query_fault(fault, cursor)
        return self._page(cursor, locator, offset, fault)

    def _page(self, cursor, locator, offset, fault):
        end = offset + cursor.batch
        total = len(cursor.records)
        done = end >= total
        head = f'{{"totalSize":{total},"done":'
        if fault is not None and fault.kind == "no_next_url":
            head += "false,"
        elif not done:
            head += (
                f'false,"nextRecordsUrl":"/services/data/{cursor.version}'
                f'/query/{locator}-{end}",'
            )
        else:
            head += "true,"
        if done and locator and fault is None:
            # The last page was read: Salesforce closes the cursor.
            self.server.close_cursor(locator)
        records_json = cursor.result.page_json(offset, cursor.batch)
        body = b"".join((head.encode(), b'"records":', records_json, b"}"))
        if fault is not None:
            raise self._body_fault(fault, body)
        return Reply(200, body)

    # Faults.

    def _query_fault(self, fault, cursor):
        """Answer a fault that replaces the response; body faults return."""
        server = self.server
        kind = fault.kind
        logger.info("Fault %s fired (%s times)", kind, fault.fired)
        if kind == "status":
            code = fault.options["code"]
            if fault.options["body"] == "html":
                raise Reply(code, MAINTENANCE_PAGE, HTML_TYPE)
            if code == 503:
                raise error_reply(
                    503,
                    "SERVER_UNAVAILABLE",
                    "Server temporarily unavailable; try again later.",
                )
            if code == 500:
                raise error_reply(
                    500,
                    "UNKNOWN_EXCEPTION",
                    "An unexpected error occurred. Please include this ErrorId if "
                    "you contact support: 1024-2048 (-1)",
                )
            raise error_reply(code, "UNKNOWN_EXCEPTION", HTTPStatus(code).phrase)
        if kind == "hang":
            server.stopping.wait(fault.options["seconds"])
            return
        if kind == "html":
            raise Reply(200, LOGIN_PAGE, HTML_TYPE)
        if kind == "limit":
            if fault.options["kind"] == "concurrent":
                raise error_reply(403, "REQUEST_LIMIT_EXCEEDED", CONCURRENT_LIMIT)
            raise error_reply(403, "REQUEST_LIMIT_EXCEEDED", DAILY_LIMIT)
        if kind == "invalid_locator":
            raise error_reply(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        if kind == "redirect":
            raise Reply(
                302,
                b"",
                HTML_TYPE,
                {"Location": f"{server.url}/secur/login_page.jsp?ec=302"},
            )
        # malformed_json, truncated_json, drop_connection, no_next_url change
        # the body of the normal answer (see _body_fault).

    def _body_fault(self, fault, body):
        kind = fault.kind
        if kind == "malformed_json":
            broken = body.replace(b'"records":[', b'"records":[<<not json>>', 1)
            return Reply(200, broken)
        if kind == "truncated_json":
            return Reply(200, body[: len(body) // 2])
        if kind == "drop_connection":
            return Reply(200, body, headers={"X-Local-Drop": "1"})
        return Reply(200, body)

    # Plumbing.

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            return self.rfile.read(int(length))
        except ValueError:
            return b""

    def _send(self, method, path, reply):
        server = self.server
        body = reply.body
        if not isinstance(body, bytes):
            body = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        drop = reply.headers.pop("X-Local-Drop", None)
        server.log_request_line(method, path, reply.status)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Sforce-Limit-Info", server.limit_info())
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if drop:
                self.send_header("Connection", "close")
            self.end_headers()
            if drop:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a hang fault outlasting its timeout).
            self.close_connection = True

    def log_message(self, format, *args):
        # The request line can carry a query; log only method, path, status.
        pass

    def log_request(self, code="-", size="-"):
        logger.debug(
            "%s %s %s", self.command, urlsplit(self.path).path, code
        )
