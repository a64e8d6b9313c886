"""Conditions against Gatus' own test table: TwiN/gatus config/endpoint/condition_test.go
(TestCondition_evaluate), each case by its Name there, with the Result it builds and the
ExpectedSuccess it asserts. Cases where llmwatch differs on purpose are listed in DIFFERENT with
the reason (README "Health conditions"); everything else must agree. Plus the integer forms of Go's
strconv.ParseInt(s, 0, 64), which Gatus' isEqual relies on (Go's strconv/atoi_test.go forms).
"""

from __future__ import annotations

import pytest

from probes.conditions import Observation, compile_condition
from probes.gatus_text import go_json, go_parse_int

HTML = (b'<!DOCTYPE html><html lang="en"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
        b'</head><body><div id="user">john.doe</div></body></html>')

# (Name in condition_test.go, condition, Observation fields, ExpectedSuccess)
GATUS_CASES = [
    ("ip", "[IP] == 127.0.0.1", {"ip": "127.0.0.1"}, True),
    ("status", "[STATUS] == 200", {"status": 200}, True),
    ("status-failure", "[STATUS] == 200", {"status": 500}, False),
    ("status-using-less-than", "[STATUS] < 300", {"status": 201}, True),
    ("status-using-less-than-failure", "[STATUS] < 300", {"status": 404}, False),
    ("response-time-using-less-than", "[RESPONSE_TIME] < 500", {"response_time_ms": 50}, True),
    ("response-time-using-less-than-with-duration", "[RESPONSE_TIME] < 1s", {"response_time_ms": 50}, True),
    ("response-time-using-less-than-invalid", "[RESPONSE_TIME] < potato", {"response_time_ms": 50}, False),
    ("response-time-using-greater-than", "[RESPONSE_TIME] > 500", {"response_time_ms": 750}, True),
    ("response-time-using-greater-than-with-duration", "[RESPONSE_TIME] > 1s", {"response_time_ms": 2000}, True),
    ("response-time-using-greater-than-or-equal-to-equal", "[RESPONSE_TIME] >= 500", {"response_time_ms": 500}, True),
    ("response-time-using-greater-than-or-equal-to-failure", "[RESPONSE_TIME] >= 500", {"response_time_ms": 499},
     False),
    ("response-time-using-less-than-or-equal-to-equal", "[RESPONSE_TIME] <= 500", {"response_time_ms": 500}, True),
    ("response-time-using-less-than-or-equal-to-less", "[RESPONSE_TIME] <= 500", {"response_time_ms": 25}, True),
    ("response-time-using-less-than-or-equal-to-failure", "[RESPONSE_TIME] <= 500", {"response_time_ms": 750}, False),
    ("body", "[BODY] == test", {"body": b"test"}, True),
    ("body-numerical-less-than", "[BODY] < 124", {"body": b"123"}, True),
    ("body-numerical-greater-than", "[BODY] > 122", {"body": b"123"}, True),
    ("body-numerical-greater-than-failure", "[BODY] > 123", {"body": b"100"}, False),
    ("body-jsonpath", "[BODY].status == UP", {"body": b'{"status":"UP"}'}, True),
    ("body-jsonpath-complex", "[BODY].data.name == john", {"body": b'{"data": {"id": 1, "name": "john"}}'}, True),
    ("body-jsonpath-complex-invalid", "[BODY].data.name == john", {"body": b'{"data": {"id": 1}}'}, False),
    ("body-jsonpath-complex-len-invalid", "len([BODY].data.name) == john", {"body": b'{"data": {"id": 1}}'}, False),
    ("body-jsonpath-double-placeholder", "[BODY].user.firstName != [BODY].user.lastName",
     {"body": b'{"user": {"firstName": "john", "lastName": "doe"}}'}, True),
    ("body-jsonpath-double-placeholder-failure", "[BODY].user.firstName == [BODY].user.lastName",
     {"body": b'{"user": {"firstName": "john", "lastName": "doe"}}'}, False),
    ("body-jsonpath-when-body-is-array", "[BODY][0].id == 1", {"body": b'[{"id": 1}, {"id": 2}]'}, True),
    ("body-jsonpath-when-body-has-null-parameter", "[BODY].data == OK", {"body": b'{"data": null}"'}, False),
    ("body-jsonpath-when-body-has-array-with-null", "[BODY].items[0] == OK", {"body": b'{"items": [null, null]}"'},
     False),
    ("body-jsonpath-when-body-is-null", "[BODY].data == OK", {"body": b"null"}, False),
    ("body-jsonpath-when-body-is-array-but-actual-body-is-not", "[BODY][0].name == test",
     {"body": b'{"statusCode": 500, "message": "Internal Server Error"}'}, False),
    ("body-jsonpath-complex-int", "[BODY].data.id == 1", {"body": b'{"data": {"id": 1}}'}, True),
    ("body-jsonpath-complex-array-int", "[BODY].data[1].id == 2",
     {"body": b'{"data": [{"id": 1}, {"id": 2}, {"id": 3}]}'}, True),
    ("body-jsonpath-complex-int-using-greater-than", "[BODY].data.id > 0", {"body": b'{"data": {"id": 1}}'}, True),
    ("body-jsonpath-hexadecimal-int-using-greater-than", "[BODY].data > 0", {"body": b'{"data": "0x1"}'}, True),
    ("body-jsonpath-hexadecimal-int-using-equal-to-0x1", "[BODY].data == 1", {"body": b'{"data": "0x1"}'}, True),
    ("body-jsonpath-hexadecimal-int-using-equals", "[BODY].data == 0x1", {"body": b'{"data": "0x1"}'}, True),
    ("body-jsonpath-hexadecimal-int-using-equal-to-0x2", "[BODY].data == 2", {"body": b'{"data": "0x2"}'}, True),
    ("body-jsonpath-hexadecimal-int-using-equal-to-0xF", "[BODY].data == 15", {"body": b'{"data": "0xF"}'}, True),
    ("body-jsonpath-hexadecimal-int-using-equal-to-0xC0ff33", "[BODY].data == 12648243",
     {"body": b'{"data": "0xC0ff33"}'}, True),
    ("body-jsonpath-hexadecimal-int-len", "len([BODY].data) == 3", {"body": b'{"data": "0x1"}'}, True),
    ("body-jsonpath-hexadecimal-int-greater", "[BODY].data >= 1", {"body": b'{"data": "0x01"}'}, True),
    ("body-jsonpath-hexadecimal-int-0x01-len", "len([BODY].data) == 4", {"body": b'{"data": "0x01"}'}, True),
    ("body-jsonpath-octal-int-using-greater-than", "[BODY].data > 0", {"body": b'{"data": "0o1"}'}, True),
    ("body-jsonpath-octal-int-using-equal", "[BODY].data == 2", {"body": b'{"data": "0o2"}'}, True),
    ("body-jsonpath-octal-int-using-equals", "[BODY].data == 0o2", {"body": b'{"data": "0o2"}'}, True),
    ("body-jsonpath-binary-int-using-greater-than", "[BODY].data > 0", {"body": b'{"data": "0b1"}'}, True),
    ("body-jsonpath-binary-int-using-equal", "[BODY].data == 2", {"body": b'{"data": "0b0010"}'}, True),
    ("body-jsonpath-binary-int-using-equals", "[BODY].data == 0b10", {"body": b'{"data": "0b0010"}'}, True),
    ("body-jsonpath-complex-int-using-greater-than-failure", "[BODY].data.id > 5", {"body": b'{"data": {"id": 1}}'},
     False),
    ("body-jsonpath-complex-int-using-less-than", "[BODY].data.id < 5", {"body": b'{"data": {"id": 2}}'}, True),
    ("body-jsonpath-complex-int-using-less-than-failure", "[BODY].data.id < 5", {"body": b'{"data": {"id": 10}}'},
     False),
    ("connected", "[CONNECTED] == true", {"connected": True}, True),
    ("connected-failure", "[CONNECTED] == true", {"connected": False}, False),
    ("certificate-expiration-not-set", "[CERTIFICATE_EXPIRATION] == 0", {}, True),
    ("certificate-expiration-greater-than-numerical", "[CERTIFICATE_EXPIRATION] > 2419200000",
     {"certificate_expires_in_ms": 60 * 86400_000}, True),
    ("certificate-expiration-greater-than-numerical-failure", "[CERTIFICATE_EXPIRATION] > 2419200000",
     {"certificate_expires_in_ms": 14 * 86400_000}, False),
    ("certificate-expiration-greater-than-duration", "[CERTIFICATE_EXPIRATION] > 12h",
     {"certificate_expires_in_ms": 86400_000}, True),
    ("certificate-expiration-greater-than-duration", "[CERTIFICATE_EXPIRATION] > 48h",
     {"certificate_expires_in_ms": 86400_000}, False),
    ("no-placeholders", "1 == 2", {}, False),
    ("len-body-jsonpath-complex", "len([BODY].data.name) == 4", {"body": b'{"data": {"name": "john"}}'}, True),
    ("len-body-array", "len([BODY]) == 3", {"body": b'[{"id": 1}, {"id": 2}, {"id": 3}]'}, True),
    ("len-body-keyed-array", "len([BODY].data) == 3", {"body": b'{"data": [{"id": 1}, {"id": 2}, {"id": 3}]}'}, True),
    ("len-body-array-invalid", "len([BODY].data) == 8", {"body": b'{"name": "john.doe"}'}, False),
    ("len-body-string", "len([BODY]) == 8", {"body": b"john.doe"}, True),
    ("len-body-keyed-string", "len([BODY].name) == 8", {"body": b'{"name": "john.doe"}'}, True),
    ("len-body-keyed-int", "len([BODY].age) == 2", {"body": b'{"age":18}'}, True),
    ("len-body-keyed-bool", "len([BODY].adult) == 4", {"body": b'{"adult":true}'}, True),
    ("len-body-object-inside-array", "len([BODY][0]) == 23", {"body": b'[{"age":18,"adult":true}]'}, True),
    ("len-body-object-keyed-int-inside-array", "len([BODY][0].age) == 2", {"body": b'[{"age":18,"adult":true}]'},
     True),
    ("len-body-keyed-bool-inside-array", "len([BODY][0].adult) == 4", {"body": b'[{"age":18,"adult":true}]'}, True),
    ("len-body-object", "len([BODY]) == 20", {"body": b'{"name": "john.doe"}'}, True),
    ("pat-body-1", "[BODY] == pat(*john*)", {"body": b'{"name": "john.doe"}'}, True),
    ("pat-body-2", "[BODY].name == pat(john*)", {"body": b'{"name": "john.doe"}'}, True),
    ("pat-body-failure", "[BODY].name == pat(bob*)", {"body": b'{"name": "john.doe"}'}, False),
    ("pat-body-html", '[BODY] == pat(*<div id="user">john.doe</div>*)', {"body": HTML}, True),
    ("pat-body-html-failure", '[BODY] == pat(*<div id="user">john.doe</div>*)',
     {"body": HTML.replace(b"john.doe", b"jane.doe")}, False),
    ("pat-body-html-failure-alt", 'pat(*<div id="user">john.doe</div>*) == [BODY]',
     {"body": HTML.replace(b"john.doe", b"jane.doe")}, False),
    ("pat-body-in-array", "[BODY].data == pat(*Whatever*)", {"body": b'{"data": ["hello", "world", "Whatever"]}'},
     True),
    ("pat-ip", "[IP] == pat(10.*)", {"ip": "10.0.0.0"}, True),
    ("pat-ip-failure", "[IP] == pat(10.*)", {"ip": "255.255.255.255"}, False),
    ("pat-status", "[STATUS] == pat(4*)", {"status": 404}, True),
    ("pat-status-failure", "[STATUS] == pat(4*)", {"status": 200}, False),
    ("any-body-1", "[BODY].name == any(john.doe, jane.doe)", {"body": b'{"name": "john.doe"}'}, True),
    ("any-body-2", "[BODY].name == any(john.doe, jane.doe)", {"body": b'{"name": "jane.doe"}'}, True),
    ("any-body-failure", "[BODY].name == any(john.doe, jane.doe)", {"body": b'{"name": "bob"}'}, False),
    ("any-status-1", "[STATUS] == any(200, 429)", {"status": 200}, True),
    ("any-status-2", "[STATUS] == any(200, 429)", {"status": 429}, True),
    ("any-status-reverse", "any(200, 429) == [STATUS]", {"status": 429}, True),
    ("any-status-failure", "[STATUS] == any(200, 429)", {"status": 404}, False),
    ("has", "has([BODY].errors) == false", {"body": b"{}"}, True),
    ("has-key-of-map", "has([BODY].article) == true",
     {"body": b'{\n "article": {\n "id": 123,\n "title": "Hello, world!",\n "author": "John Doe"\n }\n}'}, True),
    ("has-failure", "has([BODY].errors) == false", {"body": b'{"errors": ["1"]}'}, False),
]

#: Name -> why llmwatch answers otherwise (README "Health conditions", deliberate differences)
DIFFERENT = {
    "certificate-expiration-not-set": "no certificate fails the condition; Gatus compares 0 == 0",
}


@pytest.mark.parametrize("name, text, fields, expected", GATUS_CASES, ids=[c[0] for c in GATUS_CASES])
def test_gatus_condition_table(name, text, fields, expected):
    result = compile_condition(text).evaluate(Observation(**fields))
    if name in DIFFERENT:
        assert result.ok is not expected, DIFFERENT[name]
    else:
        assert result.ok is expected, result.message


@pytest.mark.parametrize("text, value", [
    ("0", 0), ("1", 1), ("-1", -1), ("+1", 1), ("12345", 12345), ("010", 8), ("0o10", 8), ("0O10", 8),
    ("0x1F", 31), ("0XaB", 171), ("0b101", 5), ("0B1", 1), ("1_000", 1000), ("0x_1F", 31), ("0_7", 7),
    ("-0x10", -16), ("9223372036854775807", 2 ** 63 - 1), ("-9223372036854775808", -2 ** 63),
    ("08", None), ("0x", None), ("0b2", None), ("1.0", None), ("1e3", None), ("", None), ("+", None),
    ("_1", None), ("1_", None), ("1__0", None), ("9223372036854775808", None), (" 1", None), ("0xg", None),
    ("\u0661", None), ("0o8", None),
])
def test_go_parse_int_base_0(text, value):
    assert go_parse_int(text) == value


def test_go_json_is_json_marshal():
    assert go_json({"b": 1, "a": [True, None, "x<y&z"]}) == '{"a":[true,null,"x\\u003cy\\u0026z"],"b":1}'
    assert go_json({"f": 1.5e-7, "g": 0.000015, "h": 1e21, "i": 1.0}) == '{"f":1.5e-7,"g":0.000015,"h":1e+21,"i":1}'
