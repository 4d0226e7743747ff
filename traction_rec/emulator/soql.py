"""The SOQL the local org understands: a tokenizer, a recursive-descent parser,
and a compiler that checks names against the org and turns the query into
plain Python functions, so a query is evaluated once over the records.

Supported: SELECT of fields and relationship paths (`A__r.B__r.Name`, also
qualified by the FROM object or its alias), FROM one object, WHERE with AND,
OR (mixing them needs parentheses, as in Salesforce), NOT, parentheses,
`= != <> < <= > >=`, `[NOT] IN (...)`, LIKE, INCLUDES / EXCLUDES, null,
true / false, numbers, quoted strings with SOQL escapes, ISO dates and
date-times, the date literals TODAY, YESTERDAY and TOMORROW; ORDER BY (ASC,
DESC, NULLS FIRST / LAST), LIMIT and OFFSET.

Not supported (answered with MALFORMED_QUERY saying so): subqueries,
aggregate functions, GROUP BY, bind variables, date literals with ranges
(LAST_N_DAYS:n and the like). A date literal on a date-time field compares
with the value's date part only.

Names are case-insensitive; the output uses each field's API casing. String
comparisons are case-insensitive, as Salesforce's are; Ids compare on their
first 15 characters (the case-sensitive part); `!=` and NOT IN match null
values, `<`, `>` and LIKE never do.
"""

import datetime as dt
import gc
import re
from operator import itemgetter
from dataclasses import dataclass, field

KEYWORDS = {
    "select", "from", "where", "and", "or", "not", "in", "null", "true",
    "false", "order", "by", "asc", "desc", "nulls", "first", "last", "limit",
    "offset", "like", "includes", "excludes", "today", "yesterday", "tomorrow",
    "group", "having", "with",
}
DATE_LITERALS = {"today": 0, "yesterday": -1, "tomorrow": 1}
COMPARISONS = {"=", "!=", "<>", "<", "<=", ">", ">="}
ESCAPES = {
    "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f",
    '"': '"', "'": "'", "\\": "\\",
}
HEX_DIGITS = "0123456789abcdefABCDEF"
# Kept as written: LIKE reads them as literal % and _.
LIKE_ESCAPES = {"%", "_"}

TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2}(?![\d:T]))
    |(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<op>!=|<>|<=|>=|=|<|>)
    |(?P<punct>[(),])
    """,
    re.VERBOSE,
)


class SOQLError(Exception):
    """A query the org refuses; `code` is the Salesforce errorCode."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Token:
    kind: str  # name, keyword, string, number, date, datetime, op, punct, eof
    value: object
    pos: int
    text: str = ""


def _located(soql, pos, message):
    """Salesforce's message shape: the query, a caret, row and column."""
    row = soql.count("\n", 0, pos) + 1
    line_start = soql.rfind("\n", 0, pos) + 1
    line_end = soql.find("\n", pos)
    line = soql[line_start : line_end if line_end != -1 else len(soql)]
    column = pos - line_start + 1
    caret = " " * (column - 1) + "^"
    return f"\n{line}\n{caret}\nERROR at Row:{row}:Column:{column}\n{message}"


def tokenize(soql):
    tokens = []
    pos = 0
    length = len(soql)
    while pos < length:
        char = soql[pos]
        if char == "'":
            value, end = _read_string(soql, pos)
            tokens.append(Token("string", value, pos, soql[pos:end]))
            pos = end
            continue
        if char == ":":
            raise SOQLError(
                "MALFORMED_QUERY",
                _located(
                    soql,
                    pos,
                    "unexpected token: ':' (bind variables and date literals with "
                    "a range, such as LAST_N_DAYS:n, are not supported by the "
                    "local org)",
                ),
            )
        match = TOKEN_RE.match(soql, pos)
        if match is None:
            raise SOQLError(
                "MALFORMED_QUERY", _located(soql, pos, f"unexpected token: '{char}'")
            )
        kind = match.lastgroup
        text = match.group()
        if kind == "name":
            lowered = text.lower()
            if lowered in KEYWORDS:
                tokens.append(Token("keyword", lowered, pos, text))
            else:
                tokens.append(Token("name", text, pos, text))
        elif kind == "number":
            value = float(text) if "." in text else int(text)
            tokens.append(Token("number", value, pos, text))
        elif kind == "date":
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                raise SOQLError(
                    "MALFORMED_QUERY", _located(soql, pos, f"invalid date: {text}")
                ) from None
            tokens.append(Token("date", text, pos, text))
        elif kind != "space":
            tokens.append(Token(kind, text, pos, text))
        pos = match.end()
    tokens.append(Token("eof", None, length, "<EOF>"))
    return tokens


def _read_string(soql, start):
    """Read a quoted literal from `start` (the opening quote); return the value
    and the index after the closing quote."""
    out = []
    pos = start + 1
    length = len(soql)
    while pos < length:
        char = soql[pos]
        if char == "'":
            return "".join(out), pos + 1
        if char == "\\":
            if pos + 1 >= length:
                break
            code = soql[pos + 1]
            if code.lower() in ESCAPES or code in ESCAPES:
                out.append(ESCAPES.get(code, ESCAPES.get(code.lower())))
                pos += 2
                continue
            if code in LIKE_ESCAPES:
                out.append("\\" + code)
                pos += 2
                continue
            if code in "uU":
                digits = soql[pos + 2 : pos + 6]
                if len(digits) == 4 and all(c in HEX_DIGITS for c in digits):
                    out.append(chr(int(digits, 16)))
                    pos += 6
                    continue
            raise SOQLError(
                "MALFORMED_QUERY",
                _located(
                    soql,
                    pos,
                    "Invalid string literal '"
                    + soql[start + 1 : pos + 2]
                    + "'. Illegal character sequence '\\"
                    + code
                    + "' in string literal.",
                ),
            )
        out.append(char)
        pos += 1
    raise SOQLError(
        "MALFORMED_QUERY", _located(soql, start, "unterminated string literal")
    )


# The syntax tree.


@dataclass
class Path:
    parts: list  # as written, e.g. ["TREX1__Location__r", "Name"]
    pos: int


@dataclass
class Literal:
    kind: str  # string, number, boolean, null, date, datetime, date_literal
    value: object
    pos: int


@dataclass
class Comparison:
    path: Path
    op: str  # = != < <= > >= in notin like includes excludes
    value: object  # a Literal, or a list of Literals for the list operators


@dataclass
class Logical:
    op: str  # and, or
    items: list


@dataclass
class Not:
    item: object


@dataclass
class Order:
    path: Path
    descending: bool
    nulls_first: bool


@dataclass
class Query:
    fields: list
    object_name: str
    object_pos: int
    alias: str | None = None
    where: object = None
    order: list = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


class Parser:
    def __init__(self, soql):
        self.soql = soql
        self.tokens = tokenize(soql)
        self.at = 0

    # Token helpers.

    @property
    def token(self):
        return self.tokens[self.at]

    def advance(self):
        token = self.tokens[self.at]
        self.at += 1
        return token

    def is_keyword(self, *words):
        return self.token.kind == "keyword" and self.token.value in words

    def accept_keyword(self, word):
        if self.is_keyword(word):
            return self.advance()
        return None

    def expect_keyword(self, word):
        if not self.is_keyword(word):
            self.fail()
        return self.advance()

    def expect_punct(self, char):
        if not (self.token.kind == "punct" and self.token.value == char):
            self.fail()
        return self.advance()

    def fail(self, token=None, message=None):
        token = token or self.token
        raise SOQLError(
            "MALFORMED_QUERY",
            _located(
                self.soql, token.pos, message or f"unexpected token: '{token.text}'"
            ),
        )

    def unsupported(self, what):
        raise SOQLError(
            "MALFORMED_QUERY",
            _located(
                self.soql,
                self.token.pos,
                f"{what} is not supported by the local org.",
            ),
        )

    # Grammar.

    def parse(self):
        self.expect_keyword("select")
        fields = [self.select_item()]
        while self.token.kind == "punct" and self.token.value == ",":
            self.advance()
            fields.append(self.select_item())
        self.expect_keyword("from")
        if self.token.kind != "name" or "." in self.token.value:
            self.fail()
        object_token = self.advance()
        query = Query(
            fields=fields, object_name=object_token.value, object_pos=object_token.pos
        )
        if self.token.kind == "name" and "." not in self.token.value:
            query.alias = self.advance().value
        if self.accept_keyword("where"):
            query.where = self.condition()
        if self.is_keyword("group", "having", "with"):
            self.unsupported(self.token.text.upper())
        if self.accept_keyword("order"):
            self.expect_keyword("by")
            query.order.append(self.order_item())
            while self.token.kind == "punct" and self.token.value == ",":
                self.advance()
                query.order.append(self.order_item())
        if self.accept_keyword("limit"):
            query.limit = self.count()
        if self.accept_keyword("offset"):
            query.offset = self.count()
        if self.token.kind != "eof":
            self.fail()
        return query

    def select_item(self):
        token = self.token
        if token.kind == "punct" and token.value == "(":
            self.unsupported("A subquery")
        if token.kind != "name":
            self.fail()
        self.advance()
        if self.token.kind == "punct" and self.token.value == "(":
            self.unsupported(f"The function {token.text}()")
        return Path(token.value.split("."), token.pos)

    def path(self):
        token = self.token
        if token.kind != "name":
            self.fail()
        self.advance()
        if self.token.kind == "punct" and self.token.value == "(":
            self.unsupported(f"The function {token.text}()")
        return Path(token.value.split("."), token.pos)

    def count(self):
        token = self.token
        whole = token.kind == "number" and isinstance(token.value, int)
        if not whole or token.value < 0:
            self.fail()
        return self.advance().value

    def order_item(self):
        path = self.path()
        descending = False
        if self.accept_keyword("desc"):
            descending = True
        else:
            self.accept_keyword("asc")
        nulls_first = not descending
        if self.accept_keyword("nulls"):
            if self.accept_keyword("first"):
                nulls_first = True
            else:
                self.expect_keyword("last")
                nulls_first = False
        return Order(path, descending, nulls_first)

    def condition(self):
        first = self.unary()
        if not self.is_keyword("and", "or"):
            return first
        op = self.token.value
        items = [first]
        while self.is_keyword("and", "or"):
            if self.token.value != op:
                # Salesforce refuses `a AND b OR c`: the grouping must be written.
                self.fail()
            self.advance()
            items.append(self.unary())
        return Logical(op, items)

    def unary(self):
        if self.accept_keyword("not"):
            return Not(self.unary())
        if self.token.kind == "punct" and self.token.value == "(":
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self):
        path = self.path()
        token = self.token
        if token.kind == "op":
            self.advance()
            op = "!=" if token.value == "<>" else token.value
            return Comparison(path, op, self.value())
        if self.accept_keyword("not"):
            self.expect_keyword("in")
            return Comparison(path, "notin", self.value_list())
        if self.accept_keyword("in"):
            return Comparison(path, "in", self.value_list())
        if self.accept_keyword("like"):
            return Comparison(path, "like", self.value())
        if self.is_keyword("includes", "excludes"):
            op = self.advance().value
            return Comparison(path, op, self.value_list())
        self.fail()

    def value_list(self):
        if self.is_keyword("select"):
            self.unsupported("A semi-join subquery")
        self.expect_punct("(")
        if self.is_keyword("select"):
            self.unsupported("A semi-join subquery")
        values = [self.value()]
        while self.token.kind == "punct" and self.token.value == ",":
            self.advance()
            values.append(self.value())
        self.expect_punct(")")
        return values

    def value(self):
        token = self.token
        if token.kind == "string":
            self.advance()
            return Literal("string", token.value, token.pos)
        if token.kind == "number":
            self.advance()
            return Literal("number", token.value, token.pos)
        if token.kind in ("date", "datetime"):
            self.advance()
            return Literal(token.kind, token.value, token.pos)
        if token.kind == "keyword":
            if token.value in ("true", "false"):
                self.advance()
                return Literal("boolean", token.value == "true", token.pos)
            if token.value == "null":
                self.advance()
                return Literal("null", None, token.pos)
            if token.value in DATE_LITERALS:
                self.advance()
                return Literal("date_literal", DATE_LITERALS[token.value], token.pos)
        self.fail()


def parse(soql):
    return Parser(soql).parse()


# Compiling against the org.


@dataclass
class Compiled:
    """A query checked against the org, ready to run on a snapshot."""

    object_name: str
    predicate: object  # record -> bool, or None
    sort_keys: list  # (key function, descending) pairs
    limit: int | None
    offset: int | None
    shape: list  # the output tree, see _build_shape
    soql: str = ""


class Compiler:
    def __init__(self, org, soql, query, today):
        self.org = org
        self.soql = soql
        self.query = query
        self.today = today
        self.index = org.index

    def error(self, code, pos, message):
        raise SOQLError(code, _located(self.soql, pos, message))

    def compile(self):
        query = self.query
        name = self.org.object_name(query.object_name)
        if name is None:
            self.error(
                "INVALID_TYPE",
                query.object_pos,
                f"sObject type '{query.object_name}' is not supported. If you are "
                "attempting to use a custom object, be sure to append the '__c' "
                "after the entity name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        self.object_name = name

        shape = self._build_shape(query.fields)
        predicate = self._condition(query.where) if query.where is not None else None
        sort_keys = [self._sort_key(order) for order in query.order]
        return Compiled(
            object_name=name,
            predicate=predicate,
            sort_keys=sort_keys,
            limit=query.limit,
            offset=query.offset,
            shape=shape,
            soql=self.soql,
        )

    # Paths.

    def _strip_qualifier(self, path):
        parts = path.parts
        if len(parts) > 1:
            head = parts[0].lower()
            if head == self.object_name.lower() or (
                self.query.alias and head == self.query.alias.lower()
            ):
                return parts[1:]
        return parts

    def resolve(self, path):
        """Return ([(relationship name, lookup field, target object)], field
        API name, field type) for a path, or raise INVALID_FIELD."""
        parts = self._strip_qualifier(path)
        hops = []
        current = self.org.sobject(self.object_name)
        for part in parts[:-1]:
            if current is None:
                # A lookup that is empty everywhere: nothing to check against.
                hops.append((part, None, None))
                continue
            relationship = current.relationships.get(part.lower())
            if relationship is None:
                self.error(
                    "INVALID_FIELD",
                    path.pos,
                    f"Didn't understand relationship '{part}' in field path. If you "
                    "are attempting to use a custom relationship, be sure to append "
                    "the '__r' after the custom relationship name. Please reference "
                    "your WSDL or the describe call for the appropriate names.",
                )
            hops.append((relationship.name, relationship.lookup, relationship.target))
            current = (
                self.org.sobject(relationship.target) if relationship.target else None
            )
        last = parts[-1]
        if current is None:
            return hops, last, None
        name = current.fields.get(last.lower())
        if name is None:
            self.error(
                "INVALID_FIELD",
                path.pos,
                f"No such column '{last}' on entity '{current.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after "
                "the custom field name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        return hops, name, current.types.get(name)

    def getter(self, hops, name):
        index = self.index
        lookups = [lookup for _, lookup, _ in hops]
        if not lookups:
            return lambda record: record.get(name)
        if any(lookup is None for lookup in lookups):
            return lambda record: None
        if len(lookups) == 1:
            (lookup,) = lookups

            def get_one(record):
                related = index.get(record.get(lookup))
                return None if related is None else related.get(name)

            return get_one

        def get(record):
            for lookup in lookups:
                record = index.get(record.get(lookup))
                if record is None:
                    return None
            return record.get(name)

        return get

    # SELECT.

    def _build_shape(self, paths):
        """The output tree: a list of ("field", API name) and
        ("relationship", name, lookup, target, subtree) in first-seen order."""
        root = []
        seen = set()
        for path in paths:
            hops, name, _ = self.resolve(path)
            key = tuple(hop[0].lower() for hop in hops) + (name.lower(),)
            if key in seen:
                written = ".".join(path.parts)
                self.error(
                    "MALFORMED_QUERY", path.pos, f"duplicate field selected: {written}"
                )
            seen.add(key)
            level = root
            for relationship, lookup, target in hops:
                for entry in level:
                    if (
                        entry[0] == "relationship"
                        and entry[1].lower() == relationship.lower()
                    ):
                        level = entry[4]
                        break
                else:
                    sub = []
                    level.append(("relationship", relationship, lookup, target, sub))
                    level = sub
            level.append(("field", name))
        return root

    # WHERE.

    def _condition(self, node):
        if isinstance(node, Logical):
            items = [self._condition(item) for item in node.items]
            if node.op == "and":
                return lambda record: all(item(record) for item in items)
            return lambda record: any(item(record) for item in items)
        if isinstance(node, Not):
            inner = self._condition(node.item)
            return lambda record: not inner(record)
        return self._comparison(node)

    def _comparison(self, node):
        hops, name, kind = self.resolve(node.path)
        get = self.getter(hops, name)
        op = node.op

        if op in ("in", "notin", "includes", "excludes"):
            values = [self._operand(literal, name, kind) for literal in node.value]
        else:
            value = self._operand(node.value, name, kind)

        if op == "like":
            if node.value.kind != "string":
                self.error(
                    "INVALID_FIELD", node.value.pos, "LIKE needs a quoted pattern."
                )
            pattern = _like_regex(node.value.value)
            return lambda record: _matches_like(get(record), pattern)

        if op in ("includes", "excludes"):
            wanted = [
                frozenset(part.strip().lower() for part in value.split(";"))
                for value in values
                if value is not None
            ]

            def includes(record):
                held = get(record)
                if held is None:
                    return False
                parts = {part.strip().lower() for part in held.split(";")}
                return any(group <= parts for group in wanted)

            if op == "includes":
                return includes
            return lambda record: get(record) is not None and not includes(record)

        normalize = _normalizer(kind)
        literals = node.value if isinstance(node.value, list) else [node.value]
        if kind == "datetime" and any(
            literal.kind == "date_literal" for literal in literals
        ):
            normalize = _date_part
        if op in ("in", "notin"):
            keys = {normalize(value) for value in values if value is not None}
            has_null = any(value is None for value in values)

            def is_in(record):
                held = get(record)
                if held is None:
                    return has_null
                return normalize(held) in keys

            if op == "in":
                return is_in
            return lambda record: not is_in(record)

        if value is None:
            if op == "=":
                return lambda record: get(record) is None
            if op == "!=":
                return lambda record: get(record) is not None
            return lambda record: False

        if kind == "boolean" and op not in ("=", "!="):
            self.error(
                "INVALID_FIELD",
                node.path.pos,
                f"invalid operator on boolean field: {name}",
            )
        target = normalize(value)
        if op == "!=":

            def not_equal(record):
                held = get(record)
                return held is None or normalize(held) != target

            return not_equal

        compare = _OPERATORS[op]

        def compare_value(record):
            held = get(record)
            if held is None:
                return False
            try:
                return compare(normalize(held), target)
            except TypeError:
                return False

        return compare_value

    def _operand(self, literal, name, kind):
        """The literal's value in the field's terms, or INVALID_FIELD when its
        type cannot be compared with the field (as Salesforce refuses it)."""
        if literal.kind == "null":
            return None
        if literal.kind == "date_literal":
            value = (self.today + dt.timedelta(days=literal.value)).isoformat()
            literal_kind = "date"
        else:
            value = literal.value
            literal_kind = literal.kind
        if kind is None:
            return value
        expected = {
            "boolean": ("boolean",),
            "double": ("number",),
            "date": ("date",),
            "datetime": ("datetime", "date"),
            "string": ("string",),
            "id": ("string",),
            "reference": ("string",),
        }.get(kind, (literal_kind,))
        if literal_kind not in expected or (
            kind == "datetime" and literal.kind == "date"
        ):
            quoted = kind in ("string", "id", "reference")
            type_name = "id" if kind == "reference" else kind
            how = "should" if quoted else "should not"
            self.error(
                "INVALID_FIELD",
                literal.pos,
                f"value of filter criterion for field '{name}' must be of type "
                f"{type_name} and {how} be enclosed in quotes",
            )
        if kind in ("id", "reference") and not _is_id(value):
            self.error(
                "INVALID_QUERY_FILTER_OPERATOR",
                literal.pos,
                f"invalid ID field: {value}",
            )
        return value

    # ORDER BY.

    def _sort_key(self, order):
        hops, name, kind = self.resolve(order.path)
        get = self.getter(hops, name)
        normalize = _normalizer(kind)
        # Salesforce's defaults: ASC puts nulls first, DESC puts them last;
        # with reverse sorting the null rank flips, so pick it per direction.
        if order.descending:
            null_key = (2,) if order.nulls_first else (0,)
        else:
            null_key = (0,) if order.nulls_first else (2,)

        def key(record):
            value = get(record)
            if value is None:
                return null_key
            return (1, normalize(value))

        return key, order.descending


_OPERATORS = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _identity(value):
    return value


def _casefold(value):
    return value.lower() if isinstance(value, str) else value


def _id15(value):
    return value[:15] if isinstance(value, str) else value


def _normalizer(kind):
    if kind in ("id", "reference"):
        return _id15
    if kind in ("string", None):
        return _casefold
    return _identity


def _date_part(value):
    return value[:10] if isinstance(value, str) else value


def _is_id(value):
    return isinstance(value, str) and len(value) in (15, 18) and value.isalnum()


def _like_regex(pattern):
    out = []
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "\\" and pos + 1 < len(pattern) and pattern[pos + 1] in LIKE_ESCAPES:
            out.append(re.escape(pattern[pos + 1]))
            pos += 2
            continue
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
        pos += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _matches_like(value, pattern):
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def compile_query(org, soql, *, today):
    """Parse and check a query against the org; raise SOQLError."""
    query = parse(soql)
    return Compiler(org, soql, query, today).compile()


def run(compiled, org, *, version):
    """Evaluate a compiled query over the org's current records and return the
    result records, built once, as Salesforce sends them."""
    records = org.records(compiled.object_name)
    if compiled.predicate is not None:
        predicate = compiled.predicate
        records = [record for record in records if predicate(record)]
    else:
        records = list(records)
    for key, descending in reversed(compiled.sort_keys):
        records.sort(key=key, reverse=descending)
    if compiled.offset:
        records = records[compiled.offset :]
    if compiled.limit is not None:
        records = records[: compiled.limit]
    build = _builder(compiled.object_name, compiled.shape, org.index, version)
    # Millions of small dicts: the cyclic collector would walk them again and
    # again while they are made, and none of them can form a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [build(record) for record in records]
    finally:
        if collecting:
            gc.enable()


def _shared(build):
    """Build each related record once per query: many options point at the
    same location, course or product, and JSON writes a shared dict as often
    as it appears."""
    built = {}

    def build_once(record):
        key = record["Id"]
        out = built.get(key)
        if out is None:
            out = built[key] = build(record)
        return out

    return build_once


def _builder(object_name, shape, index, version):
    """A function record -> output dict for one level of the shape tree.

    Runs of plain fields are copied with one itemgetter call (the org fills
    every record with every field of its object, so no key is missing);
    relationships are built by their own builders, in the SELECT's order.
    """
    prefix = f"/services/data/{version}/sobjects/{object_name}/"
    steps = []
    run_of_fields = []
    for entry in shape + [("end",)]:
        if entry[0] == "field":
            run_of_fields.append(entry[1])
            continue
        if run_of_fields:
            names = tuple(run_of_fields)
            if len(names) == 1:
                steps.append(("field", names[0], None))
            else:
                steps.append(("fields", names, itemgetter(*names)))
            run_of_fields = []
        if entry[0] == "relationship":
            _, name, lookup, target, sub = entry
            child = None
            if target and lookup:
                child = _shared(_builder(target, sub, index, version))
            steps.append(("relationship", name, (lookup, child)))

    if len(steps) == 1 and steps[0][0] == "fields":
        _, names, get_all = steps[0]

        def build_flat(record):
            out = {"attributes": {"type": object_name, "url": prefix + record["Id"]}}
            out.update(zip(names, get_all(record)))
            return out

        return build_flat

    lookup_related = index.get

    def build(record):
        out = {"attributes": {"type": object_name, "url": prefix + record["Id"]}}
        for kind, name, extra in steps:
            if kind == "fields":
                out.update(zip(name, extra(record)))
            elif kind == "field":
                out[name] = record[name]
            else:
                lookup, child = extra
                related = lookup_related(record[lookup]) if child else None
                out[name] = None if related is None else child(related)
        return out

    return build
