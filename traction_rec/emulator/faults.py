"""Switchable, deterministic faults of the local org.

Add a fault from a test through the handle of `running_org`, or from the
command line with `tr_emulator --fault KIND[:key=value,...]`:

    handle.faults.add("status", code=503, page=2, times=2)
    handle.faults.add("expire_token", after=3)
    handle.faults.add("slow", seconds=0.05)            # every response
    --fault status:code=500,page=3  --fault limit:kind=daily,times=always

Common options of every fault:

- `times`: how often it fires: 1 (the default), any N, or None (also
  "always" on the command line) for every matching request. `slow` defaults
  to always.
- `page`: only on that page of a query: 1 is the first request
  (`/query?q=`), 2 the first `nextRecordsUrl`, and so on. None: any page.
- `object`: only for queries FROM that object (case-insensitive).

Kinds (query faults apply to `/query` requests only):

- `status`: answer `code` (default 503) with Salesforce's error array
  (500: UNKNOWN_EXCEPTION, 503: SERVER_UNAVAILABLE); `body="html"` sends an
  HTML error page instead.
- `endpoint` (status, html and redirect only): "query" (the default),
  "token" (`/services/oauth2/token`) or "versions" (`/services/data/`, the
  URL the connection test probes).
- `hang`: wait `seconds` (default 5, at most MAX_HANG_SECONDS) before
  answering normally, to outlast the client's read timeout.
- `html`: answer 200 with an HTML page instead of JSON.
- `malformed_json`: answer 200 with a JSON body broken at its records
  (`"records":[<<not json>>...`).
- `truncated_json`: answer 200 with only the first half of the body (a
  complete HTTP response whose JSON ends early).
- `drop_connection`: announce the whole body, send half, close the socket.
- `no_next_url`: answer the page with `done: false` and no `nextRecordsUrl`.
- `limit`: 403 REQUEST_LIMIT_EXCEEDED, `kind="daily"` (default; "TotalRequests
  Limit exceeded.") or `kind="concurrent"` ("ConcurrentPerOrgLongTxn Limit
  exceeded.").
- `invalid_locator`: 400 INVALID_QUERY_LOCATOR on a next page (page >= 2).
- `redirect`: 302 to the org's login page (`/secur/login_page.jsp`), as a
  Lightning host answers an API call; the Location stays on 127.0.0.1.
- `expire_token`: let `after` (default 0) authenticated calls through, then
  answer 401 INVALID_SESSION_ID and revoke every token issued so far.
- `unapproved_user`: the token endpoint answers invalid_grant "user hasn't
  approved this consumer".
- `slow`: wait `seconds` (default 0.1) before every response (any endpoint).

Each fault records how often it fired in `.fired`.
"""

import threading
from dataclasses import dataclass, field

MAX_HANG_SECONDS = 60.0

QUERY_KINDS = {
    "status",
    "hang",
    "html",
    "malformed_json",
    "truncated_json",
    "drop_connection",
    "no_next_url",
    "limit",
    "invalid_locator",
    "redirect",
}
OPTIONS = {
    "status": {"code", "body", "endpoint"},
    "html": {"endpoint"},
    "redirect": {"endpoint"},
    "hang": {"seconds"},
    "limit": {"kind"},
    "expire_token": {"after"},
    "slow": {"seconds"},
}
KINDS = QUERY_KINDS | {"expire_token", "unapproved_user", "slow"}
# Faults that may aim at another endpoint than the query resource.
ENDPOINT_KINDS = {"status", "html", "redirect"}
ENDPOINTS = ("query", "token", "versions")


class FaultError(ValueError):
    """A fault that cannot be set up; the message says what is accepted."""


@dataclass
class Fault:
    kind: str
    times: int | None = 1
    page: int | None = None
    object: str | None = None
    options: dict = field(default_factory=dict)
    fired: int = 0
    seen: int = 0  # calls let through, for expire_token

    @property
    def spent(self):
        return self.times is not None and self.fired >= self.times

    @property
    def endpoint(self):
        if self.kind in ENDPOINT_KINDS:
            return self.options.get("endpoint", "query")
        if self.kind == "unapproved_user":
            return "token"
        if self.kind == "slow":
            return "any"
        if self.kind == "expire_token":
            return "api"
        return "query"

    def matches(self, endpoint, page=None, object_name=None):
        if self.spent:
            return False
        if self.endpoint != "any" and self.endpoint != endpoint:
            return False
        if self.page is not None and page != self.page:
            return False
        if self.kind == "invalid_locator" and (page is None or page < 2):
            return False
        if self.object is not None and (
            object_name is None or object_name.lower() != self.object.lower()
        ):
            return False
        return True


class Faults:
    """The faults of one running org; safe to change while it serves."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def add(self, kind, /, *, times="default", page=None, object=None, **options):
        """Add a fault and return it (its `.fired` counts its firings)."""
        if kind not in KINDS:
            raise FaultError(
                f"Unknown fault {kind!r}; choose one of {', '.join(sorted(KINDS))}."
            )
        unknown = set(options) - OPTIONS.get(kind, set())
        if unknown:
            allowed = ", ".join(sorted(OPTIONS.get(kind, ()))) or "none"
            raise FaultError(
                f"The fault {kind!r} takes no option {', '.join(sorted(unknown))} "
                f"(its options: {allowed}; all faults take times, page, object)."
            )
        if times == "default":
            times = None if kind == "slow" else 1
        if times is not None and (not isinstance(times, int) or times < 1):
            raise FaultError("times must be a whole number of 1 or more, or None.")
        if page is not None and (not isinstance(page, int) or page < 1):
            raise FaultError("page must be 1 (the first page) or more.")
        _check_options(kind, options)

        fault = Fault(kind=kind, times=times, page=page, object=object, options=options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self):
        with self._lock:
            self._faults.clear()

    def __iter__(self):
        with self._lock:
            return iter(list(self._faults))

    def __len__(self):
        with self._lock:
            return len(self._faults)

    def take(self, endpoint, *, page=None, object_name=None, kinds=None):
        """The first matching fault, counted as fired; None when none applies."""
        with self._lock:
            for fault in self._faults:
                if kinds is not None and fault.kind not in kinds:
                    continue
                if fault.kind in ("expire_token", "slow"):
                    continue
                if fault.matches(endpoint, page, object_name):
                    fault.fired += 1
                    return fault
        return None

    def delay(self, endpoint):
        """Seconds every response to `endpoint` waits (the `slow` faults)."""
        total = 0.0
        with self._lock:
            for fault in self._faults:
                if fault.kind == "slow" and fault.matches(endpoint):
                    fault.fired += 1
                    total += fault.options.get("seconds", 0.1)
        return total

    def expire_now(self):
        """Count one authenticated call; True when a token fault fires on it."""
        with self._lock:
            for fault in self._faults:
                if fault.kind != "expire_token" or fault.spent:
                    continue
                if fault.seen < fault.options.get("after", 0):
                    fault.seen += 1
                    continue
                fault.seen = 0
                fault.fired += 1
                return True
        return False


def _check_options(kind, options):
    if kind == "status":
        code = options.setdefault("code", 503)
        if not isinstance(code, int) or not 400 <= code <= 599:
            raise FaultError("status code must be an HTTP error code (400 to 599).")
        if options.setdefault("body", "json") not in ("json", "html"):
            raise FaultError('status body must be "json" or "html".')
    if kind in ENDPOINT_KINDS:
        if options.setdefault("endpoint", "query") not in ENDPOINTS:
            raise FaultError('endpoint must be "query", "token" or "versions".')
    if kind in ("hang", "slow"):
        seconds = options.setdefault("seconds", 5.0 if kind == "hang" else 0.1)
        number = isinstance(seconds, (int, float))
        if not number or not 0 <= seconds <= MAX_HANG_SECONDS:
            raise FaultError(f"seconds must be between 0 and {MAX_HANG_SECONDS:g}.")
    if kind == "limit" and options.setdefault("kind", "daily") not in (
        "daily",
        "concurrent",
    ):
        raise FaultError('limit kind must be "daily" or "concurrent".')
    if kind == "expire_token":
        after = options.setdefault("after", 0)
        if not isinstance(after, int) or after < 0:
            raise FaultError("after must be a whole number of 0 or more.")


def parse_fault(text):
    """Parse the command line's `KIND[:key=value,...]` into add() arguments."""
    kind, _, rest = text.partition(":")
    arguments = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise FaultError(f"Write fault options as key=value, not {item!r}.")
        arguments[key.strip()] = _value(value.strip())
    if arguments.get("times") == "always":
        arguments["times"] = None
    return kind.strip(), arguments


def _value(text):
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text
