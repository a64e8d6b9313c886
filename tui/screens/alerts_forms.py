"""The alerts screen's dialogs: the silence form (with its confirmation step) and a yes/no confirm.

Why separate: they hold no data of their own; AlertsScreen decides what to ask and what to write.
Nothing here talks to Alertmanager: the form returns a validated SilenceSpec, or None.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from probes.amtool_matchers import MatcherError, parse_matchers, split_args
from probes.alerts import DEFAULT_SILENCE, SilenceSpec, default_author, span_text, validate_silence
from tui.output import plain

__all__ = ["ConfirmScreen", "SilenceForm"]


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no before anything is written to Alertmanager."""

    CSS_PATH = "alerts.tcss"
    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel")]

    def __init__(self, question: Text | str, yes: str = "Yes") -> None:
        super().__init__(classes="alerts-modal")
        self.question, self.yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, markup=False, id="confirm-question")
            with Horizontal(classes="buttons"):
                yield Button(self.yes, variant="warning", id="confirm-yes")
                yield Button("Cancel", id="confirm-no")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


class SilenceForm(ModalScreen["SilenceSpec | None"]):
    """Matchers (prefilled from the alert's labels), duration, comment (required), author; then a
    confirmation step that shows exactly what will be POSTed."""

    CSS_PATH = "alerts.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, matchers: str, clock) -> None:
        super().__init__(classes="alerts-modal")
        self.matchers_text, self.clock = matchers, clock
        self.spec: SilenceSpec | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="silence-form"):
            yield Label("New silence (Alertmanager)", classes="title")
            yield Label("Matchers (amtool syntax; remove labels to widen)")
            yield Input(self.matchers_text, id="silence-matchers")
            yield Label("Duration")
            yield Input(DEFAULT_SILENCE, id="silence-duration")
            yield Label("Comment (required)")
            yield Input("", placeholder="why: deploying fix, ticket…", id="silence-comment")
            yield Label("Author")
            yield Input(default_author(), id="silence-author")
            yield Static("", id="silence-error", markup=False)
            yield Static("", id="silence-review", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Review", variant="primary", id="silence-review-btn")
                yield Button("Create silence", variant="warning", id="silence-create", disabled=True)
                yield Button("Cancel", id="silence-cancel")

    def on_mount(self) -> None:
        # Matchers come prefilled; the comment is what a person must type.
        self.query_one("#silence-comment" if self.matchers_text else "#silence-matchers", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Changed)
    def _edited(self) -> None:  # any edit invalidates the reviewed silence
        self.spec = None
        self.query_one("#silence-create", Button).disabled = True
        self.query_one("#silence-review", Static).update("")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.review()

    @on(Button.Pressed, "#silence-review-btn")
    def review(self) -> None:
        val = {k: self.query_one(f"#silence-{k}", Input).value for k in ("matchers", "duration", "comment", "author")}
        error = self.query_one("#silence-error", Static)
        try:
            matchers = parse_matchers(split_args(val["matchers"]))
            self.spec = validate_silence(matchers, val["duration"], val["comment"], val["author"], self.clock())
        except (MatcherError, ValueError) as exc:
            self.spec = None
            error.update(Text(plain(exc, 300), style="bold"))
            return
        error.update("")
        spec = self.spec
        review = Text("Will create: {" + ", ".join(plain(m, 200) for m in spec.matchers) + "}\n")
        review.append(f"for {span_text((spec.ends_at - spec.starts_at).total_seconds())}, until "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(spec.ends_at.timestamp()))}, "
                      f"by {plain(spec.author, 60)}: {plain(spec.comment, 200)}\nPress 'Create silence' to POST it.")
        self.query_one("#silence-review", Static).update(review)
        create = self.query_one("#silence-create", Button)
        create.disabled = False
        create.focus()

    @on(Button.Pressed, "#silence-create")
    def _create(self) -> None:
        if self.spec is not None:
            self.dismiss(self.spec)

    @on(Button.Pressed, "#silence-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
