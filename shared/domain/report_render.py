"""The weekly report as an e-mail: a subject, an HTML part (inline CSS, tables) and a plain-text part.

Pure string work. Every value that comes from data (agent names, model names, connection names and errors) goes
through :func:`html.escape` in the HTML part and loses control characters in the text part. Amounts are rounded
here, and only here, to the currency's minor units (``shared.domain.fx.format_amount``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from shared.domain.fx import format_amount, format_rate, round_amount
from shared.domain.weekly_report import AgentLine, Change, ConnectionIssue, RateIssue, UnpricedLine, WeeklyReport

PRODUCT = "Muster Costs"
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
TENTH = Decimal("0.1")
TEXT_WIDTH = 100  # plain-text paragraphs are wrapped here; tables are as wide as they need

# Inline styles: mail clients drop <style> blocks, so every element carries its own.
FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
RULE = "#e4e7eb"
UP = "#b42318"  # spending more: red
DOWN = "#027a48"  # spending less: green
S_BODY = "margin:0;padding:0;background:#f4f5f7;"
S_WRAP = (
    f"max-width:720px;margin:0 auto;padding:24px 12px;font-family:{FONT};color:{INK};font-size:14px;line-height:1.45;"
)
S_CARD = f"background:#ffffff;border:1px solid {RULE};border-radius:8px;padding:24px;"
S_KICKER = f"margin:0;color:{MUTED};font-size:12px;text-transform:uppercase;letter-spacing:0.06em;"
S_H1 = "margin:4px 0 0;font-size:20px;font-weight:600;"
S_H2 = f"margin:28px 0 8px;font-size:15px;font-weight:600;border-bottom:1px solid {RULE};padding-bottom:4px;"
S_SUB = f"margin:2px 0 16px;color:{MUTED};"
S_BIG = "margin:0;font-size:30px;font-weight:600;font-variant-numeric:tabular-nums;"
S_P = "margin:8px 0;"
S_SMALL = f"margin:6px 0;color:{MUTED};font-size:12px;"
S_TABLE = "border-collapse:collapse;width:100%;font-size:13px;"
S_TH = (
    f"text-align:left;padding:6px 8px;border-bottom:2px solid {RULE};color:{MUTED};font-weight:600;white-space:nowrap;"
)
S_TH_NUM = S_TH.replace("text-align:left", "text-align:right")
S_TD = f"text-align:left;padding:6px 8px;border-bottom:1px solid {RULE};"
S_TD_NUM = (
    f"text-align:right;padding:6px 8px;border-bottom:1px solid {RULE};white-space:nowrap;"
    "font-variant-numeric:tabular-nums;"
)
S_TD_TOTAL = "font-weight:600;"
S_CODE = "font-family:SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace;font-size:12px;"
S_NOTE = "margin:8px 0;padding:10px 12px;background:#fff8e6;border-left:3px solid #f0b429;"


@dataclass(frozen=True)
class RenderedReport:
    subject: str
    text: str
    html: str


# --- formatting ------------------------------------------------------------------------------------------------------


def amount(value: Decimal, currency: str) -> str:
    """``1,234.57`` in the currency's minor units (half-up); never ``-0.00``."""
    rounded = round_amount(value, currency)
    return format_amount(abs(rounded) if rounded == 0 else rounded, currency, grouping=True)


def money(value: Decimal, currency: str) -> str:
    return f"{currency} {amount(value, currency)}"


def signed_money(value: Decimal, currency: str) -> str:
    """``+EUR 12.30``, ``-EUR 3.00``; ``EUR 0.00`` when it rounds to nothing."""
    rounded = round_amount(value, currency)
    if rounded == 0:
        return money(rounded, currency)
    return f"{'+' if rounded > 0 else '-'}{money(abs(rounded), currency)}"


def percent(change: Change) -> str:
    """``+12.5 %``, ``-100.0 %``, ``new`` (nothing the week before) or ``-`` (nothing in either week)."""
    value = change.percent
    if value is None:
        return "new" if change.is_new else "-"
    rounded = value.quantize(TENTH, rounding=ROUND_HALF_UP)
    if rounded == 0:
        return "0.0 %"
    return f"{'+' if rounded > 0 else ''}{rounded:,f} %"


def change_text(change: Change, currency: str) -> str:
    """``+EUR 12.30 (+5.2 %)``; ``+EUR 12.30 (new)``; ``no change``."""
    if change.current == change.previous:
        return "no change"
    return f"{signed_money(change.absolute, currency)} ({percent(change)})"


def tokens(count: int) -> str:
    return f"{count:,}"


def long_day(day: date) -> str:
    return f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def short_day(day: date) -> str:
    return f"{_DAY_NAMES[day.weekday()][:3]} {day.day} {_MONTH_NAMES[day.month - 1][:3]}"


def moment(value: datetime | None) -> str:
    return "never" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def plain(text: str) -> str:
    """Text for the plain part: control characters (newlines in a name, escape codes) become spaces."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def _numeric(index: int, count: int, text_last: bool) -> bool:
    """Whether a table column holds figures (right-aligned): all but the first, and the last with ``text_last``."""
    return index > 0 and not (text_last and index == count - 1)


def _direction_colour(change: Change) -> str:
    if change.current > change.previous:
        return UP
    if change.current < change.previous:
        return DOWN
    return MUTED


# --- subject ---------------------------------------------------------------------------------------------------------


def render_subject(report: WeeklyReport) -> str:
    if report.is_empty:
        return f"{PRODUCT} weekly report {report.week}: no costs recorded"
    total = report.total
    versus = f" ({percent(total)} vs {report.previous_week})" if total.previous != 0 else ""
    return f"{PRODUCT} weekly report {report.week}: {money(total.current, report.currency)}{versus}"


# --- sentences shared by both parts ----------------------------------------------------------------------------------


def empty_sentence(report: WeeklyReport) -> str:
    return f"No costs were recorded in {report.week}: no LLM calls and no cloud spend."


def week_span(report: WeeklyReport) -> str:
    return f"{long_day(report.first_day)} to {long_day(report.last_day)} (UTC)"


def fx_sentence(report: WeeklyReport) -> str:
    fx = report.fx
    if fx.unavailable:
        return (
            f"No {fx.unavailable} exchange rate is stored yet, so amounts are in USD, as recorded. "
            "The exchange-rate worker stores rates daily."
        )
    if fx.is_identity:
        return "Amounts are in USD, as recorded (no conversion)."
    text = (
        f"Amounts are in {fx.currency}, converted from USD at the latest stored rate: "
        f"1 USD = {format_rate(fx.rate)} {fx.currency} ({fx.source}, rate of {fx.rate_date.isoformat()})."
    )
    if fx.fallback:
        text += " The preferred source had no rate for that day, so the ECB cross rate was used."
    if fx.stale:
        age = (report.generated_at.date() - fx.rate_date).days
        text += f" This rate is {age} days old: the exchange-rate worker may be failing."
    return text


def unpriced_sentence(report: WeeklyReport) -> str:
    return (
        "These models were used but have no price, so their calls are not in the totals. "
        "Add a price with `muster-costs pricing set`, then run "
        f"`muster-costs reprice --from {report.first_day.isoformat()} --to {report.last_day.isoformat()}`."
    )


def connection_sentence(issue: ConnectionIssue) -> str:
    error = issue.last_error or "no error recorded"
    return (
        f"{issue.name} ({issue.connection_id}) {issue.status}: {error} "
        f"(at {moment(issue.last_error_at)}; last success {moment(issue.last_success_at)}). "
        "Its cloud costs may be missing or out of date."
    )


def rate_sentences(issues: Sequence[RateIssue]) -> list[str]:
    """One line per stale currency, and one line naming every currency with no rate at all."""
    lines = [
        f"{i.currency}: newest rate {i.rate_date.isoformat()} ({i.source}, {i.age_days} days old)"
        for i in issues
        if i.rate_date is not None
    ]
    missing = [i.currency for i in issues if i.rate_date is None]
    if missing:
        lines.append(f"No rate stored yet: {', '.join(missing)}")
    return lines


FOOTNOTE = (
    "Cloud costs come from Cost Explorer, which can still revise the most recent days. "
    "LLM costs are priced from Langfuse token counts with your configured prices."
)


def generated_sentence(report: WeeklyReport) -> str:
    return f"Generated {moment(report.generated_at)} by {PRODUCT}."


# --- plain text ------------------------------------------------------------------------------------------------------


def _wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(text, TEXT_WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, text_last: bool = False) -> list[str]:
    """Columns padded to their widest cell; figures (all but the first column, and the last with ``text_last``)
    right-aligned."""
    count = len(headers)
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(count)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if _numeric(i, count, text_last) else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  " + "  ".join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def _agent_rows(lines: Sequence[AgentLine], currency: str, text: Callable[[str], str]) -> list[list[str]]:
    return [
        [
            text(line.name),
            amount(line.llm, currency),
            amount(line.cloud, currency),
            amount(line.total, currency),
            change_text(line.change, currency),
        ]
        for line in lines
    ]


def render_text(report: WeeklyReport) -> str:
    cur = report.currency
    total = report.total
    out = [f"{PRODUCT}: weekly report {report.week}", week_span(report), ""]
    if report.is_empty:
        out.append(empty_sentence(report))
        if total.previous != 0:
            out.append(f"The week before ({report.previous_week}) cost {money(total.previous, cur)}.")
    else:
        out += [
            f"Total   {money(total.current, cur)}",
            f"        {change_text(total, cur)} against {report.previous_week} ({money(total.previous, cur)})",
            "",
            *_text_table(
                ["", "this week", report.previous_week, "change"],
                [
                    [label, money(c.current, cur), money(c.previous, cur), change_text(c, cur)]
                    for label, c in (("LLM", report.llm), ("Cloud", report.cloud), ("Total", total))
                ],
            ),
            "",
            f"LLM usage: {tokens(report.observations)} calls, {tokens(report.input_tokens)} input tokens, "
            f"{tokens(report.output_tokens)} output tokens.",
            "",
            f"Top agents ({cur})",
            *_text_table(
                ["agent", "LLM", "cloud", "total", f"vs {report.previous_week}"],
                _agent_rows(report.top_agents, cur, plain)
                + (
                    [
                        [
                            f"{report.other_agents} other agent{'s' if report.other_agents != 1 else ''}",
                            "",
                            "",
                            amount(report.others.current, cur),
                            change_text(report.others, cur),
                        ]
                    ]
                    if report.other_agents
                    else []
                ),
            ),
        ]
        if report.risers:
            out += [
                "",
                f"Biggest increases against {report.previous_week} ({cur})",
                *_text_table(
                    ["agent", report.previous_week, report.week, "change"],
                    [
                        [
                            plain(line.name),
                            amount(line.previous_total, cur),
                            amount(line.total, cur),
                            change_text(line.change, cur),
                        ]
                        for line in report.risers
                    ],
                ),
            ]
        out += [
            "",
            f"By day ({cur})",
            *_text_table(
                ["day", "LLM", "cloud", "total"],
                [
                    [short_day(d.day), amount(d.llm, cur), amount(d.cloud, cur), amount(d.total, cur)]
                    for d in report.days
                ],
            ),
        ]
    out += _text_attention(report)
    out += ["", *_wrap(fx_sentence(report)), *_wrap(FOOTNOTE), generated_sentence(report), ""]
    return "\n".join(out)


def _text_attention(report: WeeklyReport) -> list[str]:
    if not (report.unpriced or report.failed_connections or report.stale_rates):
        return []
    out = ["", "Needs attention"]
    if report.unpriced:
        out += [
            "",
            *_wrap("Unpriced usage. " + unpriced_sentence(report)),
            *_text_table(
                ["model", "calls", "input tokens", "output tokens", "agents"],
                [
                    [
                        plain(u.model),
                        tokens(u.observations),
                        tokens(u.input_tokens),
                        tokens(u.output_tokens),
                        plain(", ".join(u.agents)),
                    ]
                    for u in report.unpriced
                ],
                text_last=True,
            ),
        ]
    if report.failed_connections:
        out += ["", "Failed cloud connections:"]
        for issue in report.failed_connections:
            out += _wrap(plain(connection_sentence(issue)), "  - ", "    ")
    if report.stale_rates:
        out += ["", "Exchange rates (stale or missing):"]
        out += [f"  - {line}" for line in rate_sentences(report.stale_rates)]
    return out


# --- HTML ------------------------------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, text_last: bool = False, total_last: bool = False
) -> str:
    """A data table; cells are already-escaped HTML. The first column (and the last, with ``text_last``) is text;
    the others are figures, right-aligned."""
    count = len(headers)
    head = "".join(
        f'<th scope="col" style="{S_TH_NUM if _numeric(i, count, text_last) else S_TH}">{cell}</th>'
        for i, cell in enumerate(headers)
    )
    body = []
    for r, row in enumerate(rows):
        emphasis = S_TD_TOTAL if total_last and r == len(rows) - 1 else ""
        cells = "".join(
            f'<td style="{(S_TD_NUM if _numeric(i, count, text_last) else S_TD) + emphasis}">{cell}</td>'
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f'<table style="{S_TABLE}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _change_html(change: Change, currency: str) -> str:
    return f'<span style="color:{_direction_colour(change)};">{_e(change_text(change, currency))}</span>'


def _agents_html(report: WeeklyReport) -> str:
    cur = report.currency
    rows = [
        [
            _e(line.name),
            _e(amount(line.llm, cur)),
            _e(amount(line.cloud, cur)),
            _e(amount(line.total, cur)),
            _change_html(line.change, cur),
        ]
        for line in report.top_agents
    ]
    if report.other_agents:
        plural = "s" if report.other_agents != 1 else ""
        rows.append(
            [
                f'<span style="color:{MUTED};">{report.other_agents} other agent{plural}</span>',
                "",
                "",
                _e(amount(report.others.current, cur)),
                _change_html(report.others, cur),
            ]
        )
    return _table(
        ["Agent", "LLM", "Cloud", "Total", f"vs {_e(report.previous_week)}"],
        rows,
    )


def _summary_html(report: WeeklyReport) -> str:
    cur = report.currency
    rows = [
        [label, _e(money(c.current, cur)), _e(money(c.previous, cur)), _change_html(c, cur)]
        for label, c in (("LLM", report.llm), ("Cloud", report.cloud), ("Total", report.total))
    ]
    return _table(["", "This week", _e(report.previous_week), "Change"], rows, total_last=True)


def _attention_html(report: WeeklyReport) -> str:
    if not (report.unpriced or report.failed_connections or report.stale_rates):
        return ""
    parts = [f'<h2 style="{S_H2}">Needs attention</h2>']
    if report.unpriced:
        parts.append(f'<p style="{S_P}"><strong>Unpriced usage.</strong> {_e(unpriced_sentence(report))}</p>')
        parts.append(
            _table(
                ["Model", "Calls", "Input tokens", "Output tokens", "Agents"],
                [_unpriced_row(u) for u in report.unpriced],
                text_last=True,
            )
        )
    if report.failed_connections:
        items = "".join(f"<li>{_e(connection_sentence(issue))}</li>" for issue in report.failed_connections)
        parts.append(f'<p style="{S_P}"><strong>Failed cloud connections.</strong></p><ul>{items}</ul>')
    if report.stale_rates:
        items = "".join(f"<li>{_e(line)}</li>" for line in rate_sentences(report.stale_rates))
        parts.append(f'<p style="{S_P}"><strong>Exchange rates (stale or missing).</strong></p><ul>{items}</ul>')
    return "".join(parts)


def _unpriced_row(line: UnpricedLine) -> list[str]:
    return [
        f'<span style="{S_CODE}">{_e(line.model)}</span>',
        _e(tokens(line.observations)),
        _e(tokens(line.input_tokens)),
        _e(tokens(line.output_tokens)),
        _e(", ".join(line.agents)),
    ]


def render_html(report: WeeklyReport) -> str:
    cur = report.currency
    total = report.total
    body: list[str] = [
        f'<p style="{S_KICKER}">{PRODUCT} &middot; weekly report</p>',
        f'<h1 style="{S_H1}">Week {_e(report.week)}</h1>',
        f'<p style="{S_SUB}">{_e(week_span(report))}</p>',
    ]
    if report.is_empty:
        body.append(f'<p style="{S_P}">{_e(empty_sentence(report))}</p>')
        if total.previous != 0:
            body.append(
                f'<p style="{S_P}">The week before ({_e(report.previous_week)}) cost '
                f"{_e(money(total.previous, cur))}.</p>"
            )
    else:
        body += [
            f'<p style="{S_BIG}">{_e(money(total.current, cur))}</p>',
            f'<p style="{S_SUB}">{_change_html(total, cur)} against {_e(report.previous_week)} '
            f"({_e(money(total.previous, cur))})</p>",
            _summary_html(report),
            f'<p style="{S_SMALL}">LLM usage: {_e(tokens(report.observations))} calls, '
            f"{_e(tokens(report.input_tokens))} input tokens, {_e(tokens(report.output_tokens))} output tokens.</p>",
            f'<h2 style="{S_H2}">Top agents ({_e(cur)})</h2>',
            _agents_html(report),
        ]
        if report.risers:
            body += [
                f'<h2 style="{S_H2}">Biggest increases against {_e(report.previous_week)} ({_e(cur)})</h2>',
                _table(
                    ["Agent", _e(report.previous_week), _e(report.week), "Change"],
                    [
                        [
                            _e(line.name),
                            _e(amount(line.previous_total, cur)),
                            _e(amount(line.total, cur)),
                            _change_html(line.change, cur),
                        ]
                        for line in report.risers
                    ],
                ),
            ]
        body += [
            f'<h2 style="{S_H2}">By day ({_e(cur)})</h2>',
            _table(
                ["Day", "LLM", "Cloud", "Total"],
                [
                    [_e(short_day(d.day)), _e(amount(d.llm, cur)), _e(amount(d.cloud, cur)), _e(amount(d.total, cur))]
                    for d in report.days
                ],
            ),
        ]
    body.append(_attention_html(report))
    fx_style = S_NOTE if report.fx.stale or report.fx.unavailable else S_SMALL
    body += [
        f'<p style="{fx_style}">{_e(fx_sentence(report))}</p>',
        f'<p style="{S_SMALL}">{_e(FOOTNOTE)}</p>',
        f'<p style="{S_SMALL}">{_e(generated_sentence(report))}</p>',
    ]
    title = _e(render_subject(report))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head>"
        f'<body style="{S_BODY}"><div style="{S_WRAP}"><div style="{S_CARD}">'
        + "\n".join(part for part in body if part)
        + "</div></div></body></html>\n"
    )


def render_report(report: WeeklyReport) -> RenderedReport:
    return RenderedReport(render_subject(report), render_text(report), render_html(report))
