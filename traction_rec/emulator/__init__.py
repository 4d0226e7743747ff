"""A local stand-in for a Traction Rec org: a real HTTP server on 127.0.0.1.

- org.py: the org's data (JSON files, dates made current, the Id index).
- soql.py: the SOQL subset, parsed and compiled against the org.
- auth.py: the JWT bearer grant and its tokens.
- faults.py: switchable faults (the API is documented there).
- server.py: the HTTP endpoints and query pages.
- testing.py: `running_org(...)`, for tests and the demo.
"""
