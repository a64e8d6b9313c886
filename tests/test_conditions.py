"""The Gatus condition language: every placeholder, operator and function, and its failure modes."""

from __future__ import annotations

import json

import pytest

from probes.conditions import Condition, Observation, compile_all, compile_condition, evaluate_all
from probes.status import Status

TINYCODE = {
    "status": "healthy",
    "timestamp": "2024-01-01T12:00:00Z",
    "checks": {
        "ollama": {"status": "healthy", "response_time_ms": 50},
        "redis": {"status": "healthy", "response_time_ms": 2},
        "rag_system": {"status": "healthy", "documents_indexed": 1500},
        "database": {"status": "healthy", "connection_pool": "8/10"},
    },
    "version": "1.0.0",
    "uptime_seconds": 3600,
    "models": [{"id": "tinyllama", "size": 1.1}, {"id": "codellama", "tags": ["7b", "13b"]}],
    "model_loaded": True,
    "empty": "",
    "nothing": None,
    "ratio": 0.25,
}


def obs(body=TINYCODE, **kw) -> Observation:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    defaults = dict(status=200, body=raw, headers={"content-type": "application/json", "x-request-id": "abc-1"},
                    response_time_ms=42.4, connected=True, certificate_expires_in_ms=30 * 86400 * 1000.0,
                    ip="127.0.0.1")
    defaults.update(kw)
    return Observation(**defaults)


def check(text: str, o: Observation | None = None):
    return compile_condition(text).evaluate(o or obs())


def ok(text: str, o: Observation | None = None) -> bool:
    r = check(text, o)
    assert r.status in (Status.OK, Status.CRITICAL), r.message
    return r.ok


# --- placeholders ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("[STATUS] == 200", True),
    ("[STATUS] == 503", False),
    ("[status] == 200", True),  # placeholder names are case-insensitive, as in Gatus
    ("[RESPONSE_TIME] < 500", True),
    ("[RESPONSE_TIME] == 42", True),  # whole milliseconds
    ("[RESPONSE_TIME] > 42", False),
    ("[CONNECTED] == true", True),
    ("[IP] == 127.0.0.1", True),
    ("[IP] == pat(127.0.0.*)", True),
    ("[IP] == 10.0.0.1", False),
    ("[HEADER].Content-Type == application/json", True),
    ("[HEADER].content-type == pat(*json*)", True),
    ("[HEADER].X-REQUEST-ID == abc-1", True),
    ("[CERTIFICATE_EXPIRATION] > 48h", True),
    ("[CERTIFICATE_EXPIRATION] > 31d", False),
    ("[CERTIFICATE_EXPIRATION] > 86400000", True),  # plain numbers are milliseconds
])
def test_placeholders(text, expected):
    assert ok(text) is expected


def test_connected_false_and_status_zero_without_a_response():
    o = Observation()
    assert ok("[CONNECTED] == false", o)
    assert ok("[STATUS] == 0", o)


def test_missing_header_fails_with_its_name():
    r = check("[HEADER].X-Missing == 1")
    assert not r.ok and r.status == Status.CRITICAL
    assert "x-missing" in r.message


def test_certificate_expiration_without_tls_fails_clearly():
    r = check("[CERTIFICATE_EXPIRATION] > 24h", obs(certificate_expires_in_ms=None))
    assert not r.ok and "no TLS certificate" in r.message


def test_certificate_expiration_shown_as_duration():
    r = check("[CERTIFICATE_EXPIRATION] > 48h", obs(certificate_expires_in_ms=49 * 3600 * 1000.0))
    assert r.ok and r.actual == "2d1h"


def test_ip_missing_when_not_connected():
    r = check("[IP] == 127.0.0.1", Observation())
    assert not r.ok and "no IP" in r.message


# --- [BODY] ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("[BODY].status == healthy", True),
    ("[BODY].status == unhealthy", False),
    ("[BODY].checks.ollama.status == healthy", True),
    ("[BODY].checks.rag_system.documents_indexed > 1000", True),
    ("[BODY].checks.database.connection_pool == 8/10", True),
    ("[BODY].models[0].id == tinyllama", True),
    ("[BODY].models[1].id == codellama", True),
    ("[BODY].models[1].tags[1] == 13b", True),
    ("[BODY].models[-1].id == codellama", True),
    ("[BODY].models.0.id == tinyllama", True),  # dotted index, as Gatus users write it
    ('[BODY]["checks"].redis["status"] == healthy', True),
    ("[BODY].models[0].size == 1.1", True),
    ("[BODY].model_loaded == true", True),
    ("[BODY].model_loaded == TRUE", True),
    ("[BODY].model_loaded != false", True),
    ("[BODY].nothing == null", True),
    ("[BODY].empty == ''", True),
    ("[BODY].uptime_seconds >= 3600", True),
    ("[BODY].uptime_seconds > 3600", False),
    ("[BODY].ratio < 0.3", True),
])
def test_json_paths(text, expected):
    assert ok(text) is expected


@pytest.mark.parametrize("text, fragment", [
    ("[BODY].missing == x", "no key 'missing'"),
    ("[BODY].checks.kafka.status == healthy", "[BODY].checks has no key 'kafka'"),
    ("[BODY].models[5].id == x", "[BODY].models has 2 items, no [5]"),
    ("[BODY].status.deeper == x", "[BODY].status is not an object"),
    ("[BODY].checks[0] == x", "[BODY].checks is not a list"),
])
def test_missing_paths_fail_and_say_where(text, fragment):
    r = check(text)
    assert not r.ok and r.status == Status.CRITICAL
    assert fragment in r.message
    assert text in r.message


def test_missing_path_fails_even_with_not_equal():
    # Gatus would compare "(INVALID)" != x and pass; a missing field must not read as healthy.
    assert not ok("[BODY].missing != x")


def test_body_not_json():
    o = obs(b"<html><title>502 Bad Gateway</title></html>", status=502, headers={"content-type": "text/html"})
    r = check("[BODY].status == healthy", o)
    assert not r.ok and "body is not JSON" in r.message
    assert ok("[BODY] == pat(*Bad Gateway*)", o)


def test_empty_body():
    r = check("[BODY].status == ok", obs(b""))
    assert not r.ok and "body is empty" in r.message
    assert ok("[BODY] == ''", obs(b""))


def test_whole_body_text_and_json_string_body():
    assert ok("[BODY] == Ollama is running", obs(b"Ollama is running\n"))
    # LiteLLM liveliness answers the JSON string "I'm alive!"; both spellings work.
    alive = obs(b'"I\'m alive!"')
    assert ok("[BODY] == I'm alive!", alive)
    assert ok('[BODY] == "I\'m alive!"', alive)
    assert ok("[BODY] == pat(I'm*)", alive)


def test_body_unavailable_reason_is_reported():
    o = Observation(status=200, connected=True, body_error="body over the 1 MB limit")
    r = check("[BODY].status == ok", o)
    assert not r.ok and "1 MB" in r.message
    assert ok("[STATUS] == 200", o)


def test_object_values_compare_as_compact_json():
    assert ok('[BODY].models[1].tags == ["7b","13b"]')


# --- functions -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("len([BODY].models) == 2", True),
    ("len([BODY].models) > 0", True),
    ("len([BODY].checks) == 219", True),     # an object: bytes of its json.Marshal text, as Gatus
    ("len([BODY].checks) == 4", False),      # (not its number of keys)
    ("len([BODY].status) == 7", True),
    ("len([BODY].missing) == 0", False),
    ("has([BODY].status) == true", True),
    ("has([BODY].missing) == false", True),
    ("has([BODY].nothing) == true", True),  # present, even if null
    ("has([BODY].missing) == true", False),
    ("has([HEADER].X-Request-Id) == true", True),
    ("has([HEADER].X-Nope) == false", True),
    ("[BODY].status == pat(heal*)", True),
    ("[BODY].status == pat(*thy)", True),
    ("[BODY].status == pat(sick*)", False),
    ("[BODY].status != pat(sick*)", True),
    ("pat(heal*) == [BODY].status", True),
    ("[STATUS] == pat(2??)", True),
    ("[BODY].status == any(ok, healthy, up)", True),
    ("[BODY].status == any(ok, up)", False),
    ("[BODY].status != any(ok, up)", True),
    ("[STATUS] == any(200, 204)", True),
    ("[STATUS] == any(0xC8, 201)", True),   # integer equality inside any(): 0xC8 is 200
    ("[STATUS] == any(200.0, 201)", False),  # 200.0 is no integer: compared as text, as in Gatus
    ('[BODY].checks.database.connection_pool == any("8/10", "9/10")', True),
])
def test_functions(text, expected):
    assert ok(text) is expected


def test_len_of_whole_body_counts_items_or_characters():
    assert ok("len([BODY]) == 3", obs([1, 2, 3]))
    assert ok("len([BODY]) == 5", obs(b"hello"))
    assert ok("len([BODY]) == 20", obs(b'{"name": "john.doe"}'))  # an object body: its bytes
    assert ok("has([BODY]) == false", obs(b""))
    assert ok("has([BODY]) == true", obs(b"x"))


# --- comparison semantics ---------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("[BODY].version == 1.0.0", True),        # not a number: string comparison
    ("[STATUS] == 200.0", False),             # Gatus: 200.0 is no integer, so text: "200" != "200.0"
    ("[STATUS] == 0200", False),              # a leading 0 is octal (0200 = 128), as Go's ParseInt
    ("[STATUS] == 0310", True),               # ... so this one holds
    ("[STATUS] == 0xc8", True),
    ("[STATUS] != 200", False),
    ("[STATUS] < 300", True),
    ("[STATUS] <= 200", True),
    ("[STATUS] >= 201", False),
    ("[STATUS] > 199", True),
    ("[BODY].status == Healthy", False),      # strings are case-sensitive, as in Gatus
    ("[RESPONSE_TIME] < 1s", True),           # durations are milliseconds
    ("[RESPONSE_TIME] < 40ms", False),
    ("[RESPONSE_TIME] <= 1m30s", True),
    ("[BODY].checks.ollama.response_time_ms < 100", True),
    ("1 < 2", True),
    ("b == b", True),
])
def test_comparisons(text, expected):
    assert ok(text) is expected


def test_ordering_needs_numbers():
    r = check("[BODY].status > 5")
    assert not r.ok and r.status == Status.CRITICAL
    assert "not a number" in r.message and "healthy" in r.message


def test_failure_message_shows_resolved_value_gatus_style():
    r = check("[STATUS] == 200", obs(status=503))
    assert r.message == "[STATUS] (503) == 200 is false"
    assert r.actual == "503"


def test_placeholder_on_both_sides():
    r = check("[BODY].checks.redis.response_time_ms < [BODY].checks.ollama.response_time_ms")
    assert r.ok and r.actual == "2 vs 50"


def test_quoted_literals_keep_operators_and_spaces():
    o = obs({"msg": "a == b", "txt": " padded "})
    assert ok('[BODY].msg == "a == b"', o)
    assert ok("[BODY].txt == ' padded '", o)
    assert ok('[BODY].msg == "a == \\"b"', obs({"msg": 'a == "b'}))


def test_spaced_operator_wins_over_symbols_in_bare_literals():
    o = obs({"html": "<b>"})
    assert ok("[BODY].html == <b>", o)


def test_operator_without_spaces_is_accepted():
    assert ok("[STATUS]==200")
    assert ok("[RESPONSE_TIME]<500")


def test_hostile_values_are_cleaned_in_messages():
    o = obs({"status": "\x1b[2Jbad\x1b]0;title\x07"})
    r = check("[BODY].status == healthy", o)
    assert "\x1b" not in r.message and "\x07" not in r.message
    assert "bad" in r.message


def test_long_values_are_cut_in_messages():
    r = check("[BODY].status == healthy", obs({"status": "x" * 5000}))
    assert len(r.message) < 200 and "chars]" in r.message


# --- malformed conditions ----------------------------------------------------------------------

@pytest.mark.parametrize("text, fragment", [
    ("[BODY.status = ok", "unclosed '['"),
    ("[BODY].status = ok", "'=' is not one, use '=='"),
    ("[STATUS] 200", "no comparison operator"),
    ("", "empty condition"),
    ("[FOO] == 1", "unknown placeholder [FOO]"),
    ("[STATUS].x == 1", "[STATUS] takes no path"),
    ("[HEADER] == x", "[HEADER] needs a header name"),
    ("foo([BODY]) == 1", "unknown function foo()"),
    ("len([BODY] == 1", "unclosed '('"),
    ("[STATUS]] == 1", "unbalanced ']'"),
    ("[STATUS] == 1)", "unbalanced ')'"),
    ("[BODY].a..b == 1", "empty key"),
    ("[BODY].a[x] == 1", "bad index"),
    ("[BODY].a[0 == 1", "unclosed '['"),
    ("== 200", "nothing left of '=='"),
    ("[STATUS] ==", "nothing right of '=='"),
    ("[BODY].a == 'open", "unterminated ' quote"),
    ("[STATUS] == pat()", "pat() needs a pattern"),
    ("[STATUS] == any()", "any() needs values"),
    ("len() == 1", "len() needs an argument"),
    ("len(pat(x)) == 1", "len() takes a placeholder"),
    ("1 < 2 < 3", "more than one comparison operator"),
])
def test_malformed(text, fragment):
    c = compile_condition(text)
    assert c.malformed
    r = c.evaluate(obs())
    assert r.status == Status.UNKNOWN and not r.ok
    assert r.message.startswith(f"malformed condition {text.strip()!r}: ")
    assert fragment in r.message


@pytest.mark.parametrize("text, fragment", [
    ("[STATUS] < pat(2*)", "pat() works only with == and !="),
    ("[STATUS] >= any(1, 2)", "any() works only with == and !="),
    ("pat(a*) == any(a, b)", "both sides"),
])
def test_functions_in_the_wrong_place_fail(text, fragment):
    r = check(text)
    assert not r.ok and fragment in r.message


def test_compile_never_raises_on_garbage():
    for text in ["[[[[", "))))", "\x00\x1b[2J", "'" * 7, "[BODY]" * 500 + " == x", "len(" * 300]:
        c = compile_condition(text)
        assert isinstance(c, Condition)
        c.evaluate(obs())


# --- compile once, evaluate many ----------------------------------------------------------------

def test_compiled_condition_is_reusable_and_frozen():
    c = compile_condition("[BODY].status == healthy")
    assert c.evaluate(obs()).ok
    assert not c.evaluate(obs({"status": "down"})).ok
    assert c.evaluate(obs()).ok
    with pytest.raises(Exception):
        c.text = "x"  # type: ignore[misc]


def test_json_parsed_once_per_observation(monkeypatch):
    import probes.conditions as conditions

    calls = []
    real = conditions.json.loads
    monkeypatch.setattr(conditions.json, "loads", lambda *a, **k: calls.append(1) or real(*a, **k))
    o = obs()
    results = evaluate_all(compile_all(["[BODY].status == healthy", "len([BODY].models) == 2",
                                        "[BODY].checks.redis.status == healthy"]), o)
    assert all(r.ok for r in results)
    assert len(calls) == 1


def test_uses_reports_placeholders():
    c = compile_condition("len([BODY].models) > 0")
    assert c.uses("BODY") and not c.uses("STATUS")
    assert compile_condition("[CERTIFICATE_EXPIRATION] > 24h").uses("CERTIFICATE_EXPIRATION")


def test_misplaced_dot_inside_brackets_is_not_a_silent_literal():
    r = check("[BODY.status] == ok")
    assert r.status == Status.UNKNOWN and "unknown placeholder [BODY.status]" in r.message
