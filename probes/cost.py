"""Cost from token counters and the config's [prices] table, written as PromQL.

Why PromQL and not Python arithmetic on fetched numbers: the dashboard draws cost over time with
query_range, and `llmwatch check` alerts on the instant value; if the multiplication lived in
Python, each caller would have to repeat it per point. Instead the price table becomes part of
the query:

    sum by (model) (
        label_replace(rate(tokens{job="x", type="input",  model="gpt-4o"}[1m]) * 2.5e-06, "llmwatch_part", "0", "__name__", ".*")
     or label_replace(rate(tokens{job="x", type="output", model="gpt-4o"}[1m]) * 1e-05, "llmwatch_part", "1", "__name__", ".*")
     or ...) * 3600

Each term keeps its series' labels; the `llmwatch_part` label keeps the union (`or`) from
dropping a term whose labels equal another's (vLLM's prompt and generation counters carry the
same labels once rate() drops the metric name). Models without a price add nothing: the doctor
lists them so the user sees what is not counted.
"""

from __future__ import annotations

from typing import Mapping

from probes.config import Price
from probes.profiles import SignalSpec
from probes.promql import quote

TOKENS_PER_PRICE = 1e6  # prices are USD per million tokens (divide: 30/1e6 prints 3e-05)


class NoPrices(ValueError):
    """The signal needs prices the config does not have; the message says what to add."""


def _with_matcher(selector: str, label: str, value: str) -> str:
    """`name{a="b"}` + model="m" -> `name{a="b", model="m"}`; works for `name` alone too."""
    sel = selector.strip()
    matcher = f'{label}="{quote(value)}"'
    if sel.endswith("}"):
        inner = sel[sel.index("{") + 1:-1].strip()
        return sel[:sel.index("{")] + "{" + (f"{inner}, {matcher}" if inner else matcher) + "}"
    return f"{sel}{{{matcher}}}"


def _term(selector: str, price_per_token: float, part: int, over: str) -> str:
    window = "$today" if over == "today" else "$window"
    fn = "increase" if over == "today" else "rate"
    return (f'label_replace({fn}({selector}[{window}]) * {price_per_token!r}, '
            f'"llmwatch_part", "{part}", "__name__", ".*")')


def priced_template(spec: SignalSpec, prices: Mapping[str, Price], reference: str | None) -> str:
    """The PromQL template (still holding $scope, $window, $by...) for a priced signal.

    price = "table": every [prices] model's input and output tokens at its own price.
    price = "reference": the selected tokens (e.g. local ones) at the cloud reference's price.
    over = "window": USD per hour; over = "today": USD since local midnight.
    """
    terms: list[str] = []
    if spec.price == "reference":
        if not reference or reference not in prices:
            raise NoPrices("set routing.cloud_reference to a [prices] model to estimate what local routing saves")
        p = prices[reference]
        pairs = [(spec.input, p.input), (spec.output, p.output)]
        for selector, price in pairs:
            if selector:
                terms.append(_term(selector, price / TOKENS_PER_PRICE, len(terms), spec.over))
    else:
        if not prices:
            raise NoPrices("add [prices] (USD per million input and output tokens) for this system's models")
        for model in sorted(prices):
            p = prices[model]
            for selector, price in ((spec.input, p.input), (spec.output, p.output)):
                if selector:
                    sel = _with_matcher(selector, spec.model_label, model)
                    terms.append(_term(sel, price / TOKENS_PER_PRICE, len(terms), spec.over))
    body = " or ".join(terms)
    expr = f"sum by ($by) ({body})"
    return expr if spec.over == "today" else f"{expr} * 3600"

