"""The exchange-rate worker end to end: its Lambda handler, moto DynamoDB and local ECB/BNM/BI servers (real HTTP)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

import shared.services.exchange_rates as service
from functions.fetch_exchange_rates.handler import handler
from shared.cli import rates as rates_cli
from shared.config import Settings, get_settings, reset_settings
from shared.dal import registry
from shared.dal.exchange_rates import ExchangeRateModel, ExchangeRateRepository, exchange_rate_repository
from shared.domain.fx import SOURCE_BI, SOURCE_BNM, SOURCE_ECB
from shared.errors import InvalidInputError
from shared.local.fx_sources import (
    LocalHttpServer,
    Reply,
    SeenRequest,
    bnm_month_path,
    bnm_reply,
    demo_fallback,
    start_fx_sources,
    xml_reply,
)
from shared.local.lambda_context import LocalLambdaContext
from shared.sources.bank_indonesia import JISDOR_PATH
from shared.sources.bnm import ALL_PATH
from shared.sources.ecb import DAILY_PATH, HIST_90D_PATH, parse_eurofxref

D = Decimal
RECORDED_AT = datetime(2026, 3, 20, 10, 44, tzinfo=UTC)  # when BNM was recorded (a Malaysian holiday, a Friday)
TARGET_HOLIDAYS = {date(2025, 12, 25), date(2025, 12, 26), date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6)}
ECB_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
\t<gesmes:subject>Reference rates</gesmes:subject>
\t<gesmes:Sender>
\t\t<gesmes:name>European Central Bank</gesmes:name>
\t</gesmes:Sender>
\t<Cube>
"""
ECB_TAIL = "\t</Cube>\n</gesmes:Envelope>\n"


# --- payload builders ---------------------------------------------------------------------------------------------


def ecb_xml(days: Mapping[date, Mapping[str, str]]) -> bytes:
    """An eurofxref file in ECB's layout (newest first, tabs, single quotes)."""
    cubes = []
    for day in sorted(days, reverse=True):
        quotes = "".join(f"\t\t\t<Cube currency='{c}' rate='{r}'/>\n" for c, r in days[day].items())
        cubes.append(f"\t\t<Cube time='{day.isoformat()}'>\n{quotes}\t\t</Cube>\n")
    return (ECB_HEAD + "".join(cubes) + ECB_TAIL).encode()


def business_days(first: date, last: date, holidays: set[date] = TARGET_HOLIDAYS) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5 and day not in holidays:
            days.append(day)
        day += timedelta(days=1)
    return days


def ecb_history(reference_data: Path, last: date, span: int = 90) -> dict[date, dict[str, str]]:
    """About ``span`` calendar days of ECB business days ending ``last``: the real 2026-03-13..18 quotes where the
    excerpt has them, other days the real 2026-03-18 quotes nudged by at most ±0.25 % (ECB decimals kept)."""
    excerpt = parse_eurofxref((reference_data / "fx-samples" / "ecb-hist-90d-excerpt.xml").read_bytes())
    real = {d.day: {c: str(v) for c, v in d.rates.items()} for d in excerpt}
    base = real[date(2026, 3, 18)]
    history = {}
    for day in business_days(last - timedelta(days=span), last):
        if day in real:
            history[day] = real[day]
            continue
        nudge = 1 + D(day.toordinal() % 11 - 5) / 2000
        history[day] = {c: str((D(v) * nudge).quantize(D(v), rounding=ROUND_HALF_UP)) for c, v in base.items()}
    return history


def jisdor_xml(rows: Mapping[date, str]) -> bytes:
    tables = "".join(
        f"""<Table diffgr:id="Table{i}" msdata:rowOrder="{i}"><id_subkursasing>{i}</id_subkursasing>
<nil_subkursasing>1.00</nil_subkursasing><beli_subkursasing>{v}</beli_subkursasing>
<jual_subkursasing>{v}</jual_subkursasing><tgl_subkursasing>{d.isoformat()}T00:00:00+07:00</tgl_subkursasing>
<mts_subkursasing>USD  </mts_subkursasing></Table>"""
        for i, (d, v) in enumerate(sorted(rows.items(), reverse=True))
    )
    return f"""<?xml version="1.0" encoding="utf-8"?><DataSet xmlns="http://tempuri.org/">
<diffgr:diffgram xmlns:msdata="urn:schemas-microsoft-com:xml-msdata"
 xmlns:diffgr="urn:schemas-microsoft-com:xml-diffgram-v1"><NewDataSet xmlns="">{tables}</NewDataSet>
</diffgr:diffgram></DataSet>""".encode()


def jisdor_service(rows: Mapping[date, str]) -> Callable[[SeenRequest], Reply]:
    """BI's getSubKursJisdor3: the rows inside [startDate, endDate]."""

    def respond(request: SeenRequest) -> Reply:
        first = date.fromisoformat(request.query["startDate"][0])
        last = date.fromisoformat(request.query["endDate"][0])
        return xml_reply(jisdor_xml({d: v for d, v in rows.items() if first <= d <= last}))

    return respond


def bnm_latest_json(day: date, middle: str, session: str = "1700") -> bytes:
    return (
        json.dumps(
            {
                "data": [{"currency_code": "USD", "unit": 1, "rate": {"date": day.isoformat(), "middle_rate": 0}}],
                "meta": {"quote": "rm", "session": session, "last_updated": "x", "total_result": 1},
            }
        )
        .replace('"middle_rate": 0', f'"middle_rate": {middle}')
        .encode()
    )


JISDOR = {
    date(2026, 3, 16): "16960.00",
    date(2026, 3, 17): "16975.00",
    date(2026, 3, 18): "16990.00",
    date(2026, 3, 19): "17002.00",
}


# --- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture
def fx_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the exchange-rate table in moto (smaller and faster; these tests touch nothing else)."""
    monkeypatch.setattr(registry, "all_models", lambda: (ExchangeRateModel,))


@pytest.fixture
def store(fx_tables: None, aws: Settings) -> ExchangeRateRepository:
    return exchange_rate_repository()


@dataclass
class World:
    feeds: LocalHttpServer
    repository: ExchangeRateRepository
    monkeypatch: pytest.MonkeyPatch
    reference_data: Path

    def at(self, moment: datetime) -> None:
        self.monkeypatch.setattr(service, "utc_now", lambda: moment)

    def run(self, event: dict[str, Any] | None = None) -> dict[str, Any]:
        return handler(event or {}, LocalLambdaContext(function_name="muster-costs-exchange-rates"))

    def serve_recorded(self, ecb_last: date = date(2026, 3, 18), span: int = 21) -> dict[date, dict[str, str]]:
        """An ECB history of ``span`` days (90 in the real file; shorter keeps moto quick), the recorded BNM
        responses and a JISDOR service."""
        history = ecb_history(self.reference_data, ecb_last, span)
        self.feeds.routes[DAILY_PATH] = xml_reply(ecb_xml({ecb_last: history[ecb_last]}))
        self.feeds.routes[HIST_90D_PATH] = xml_reply(ecb_xml(history))
        recorded = self.reference_data / "fx-recorded"
        self.feeds.routes[ALL_PATH] = bnm_reply(
            (recorded / "bnm-exchange-rate-all-0900-2026-03-19.json").read_bytes(), "0900"
        )
        self.feeds.routes[bnm_month_path(2026, 3)] = bnm_reply(
            (recorded / "bnm-exchange-rate-usd-year-2026-month-3-0900.json").read_bytes(), "0900"
        )
        self.feeds.routes[JISDOR_PATH] = jisdor_service(JISDOR)
        return history


def last(value: Any) -> Any:
    """An EMF value: a number, or the list of values added under one name (the latest last)."""
    return value[-1] if isinstance(value, list) else value


def raw_items() -> list[dict[str, Any]]:
    """The table's items exactly as DynamoDB holds them."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    items = client.scan(TableName=get_settings().table_name("MusterExchangeRate"))["Items"]
    return sorted(items, key=lambda i: (i["currency"]["S"], i["dateSource"]["S"]))


def rows(repository: ExchangeRateRepository, currency: str, source: str | None = None) -> list[Any]:
    found = repository.rates_between(currency, date(2000, 1, 1), date(2100, 1, 1))
    return [r for r in found if source is None or r.source == source]


@pytest.fixture
def world(store: ExchangeRateRepository, monkeypatch: pytest.MonkeyPatch, reference_data: Path) -> Iterator[World]:
    with LocalHttpServer(fallback=demo_fallback) as feeds:
        for name in ("ECB_BASE_URL", "BNM_BASE_URL", "BI_BASE_URL"):
            monkeypatch.setenv(name, feeds.base_url)
        monkeypatch.setenv("BNM_SESSION", "0900")  # the session BNM was recorded in
        reset_settings()
        real_build = service.build_sources
        monkeypatch.setattr(service, "build_sources", lambda settings=None: real_build(settings, sleep=lambda _: None))
        state = World(feeds, store, monkeypatch, reference_data)
        state.at(RECORDED_AT)
        yield state
    reset_settings()


# --- end to end ---------------------------------------------------------------------------------------------------


def test_first_run_fills_90_days_of_ecb_and_the_latest_bnm_and_bi_rates(world: World) -> None:
    # Given an empty table and the three sources up, ECB's history file covering 90 days
    history = world.serve_recorded(span=90)
    # When the worker runs through its handler
    summary = world.run()
    # Then ECB filled every business day of the 90-day file (no weekends, no TARGET holidays) for all 10 currencies
    ecb_days = [r.rate_date for r in rows(world.repository, "EUR")]
    assert ecb_days == sorted(history) and len(ecb_days) >= 60
    assert date(2025, 12, 25) not in ecb_days and all(d.weekday() < 5 for d in ecb_days)
    for currency in ("GBP", "SGD", "AUD", "CHF", "SEK", "NOK", "DKK", "MYR", "IDR"):
        assert len(rows(world.repository, currency, SOURCE_ECB)) == len(ecb_days)
    # and BNM's March 2026 (session 0900) and BI's JISDOR days
    bnm = rows(world.repository, "MYR", SOURCE_BNM)
    assert [r.rate_date for r in bnm][-1] == date(2026, 3, 19) and len(bnm) == 14
    assert bnm[-1].units_per_usd == D("3.93") and dict(bnm[-1].derived_from)["session"] == "0900"
    assert [r.rate_date for r in rows(world.repository, "IDR", SOURCE_BI)] == sorted(JISDOR)
    # and the summary says which rate each currency now uses, with its source and business date
    assert summary["stored"] == 10 * len(ecb_days) + 14 + 4 and summary["rejected"] == 0
    latest = summary["latest"]
    assert (latest["EUR"]["rate"], latest["EUR"]["rateDate"], latest["EUR"]["source"]) == (
        "0.869565217391",
        "2026-03-18",
        SOURCE_ECB,
    )
    assert (latest["MYR"]["source"], latest["MYR"]["rateDate"], latest["MYR"]["fallback"]) == (
        SOURCE_BNM,
        "2026-03-19",
        False,
    )
    assert (latest["IDR"]["source"], latest["IDR"]["rate"]) == (SOURCE_BI, "17002")
    assert {s: v["status"] for s, v in summary["sources"].items()} == {"ECB": "ok", "BNM": "ok", "BI": "ok"}
    json.dumps(summary)  # JSON-able as returned by the Lambda


def test_rerun_rewrites_nothing_and_items_stay_byte_identical(world: World) -> None:
    # Given a first run
    world.serve_recorded()
    world.run()
    before = raw_items()
    # When the worker runs again later the same day, and then as a backfill of the same window
    world.at(RECORDED_AT + timedelta(hours=6))
    again = world.run()
    window = world.run({"from": "2026-03-01", "to": "2026-03-20"})
    # Then nothing was written and every item is byte-identical (fetchedAt included)
    assert again["stored"] == 0 and again["unchanged"] > 0
    assert window["stored"] == 0 and window["mode"] == "backfill"
    assert raw_items() == before
    # and items are deterministic: key, business date, exact value, provenance, fetch time
    item = next(i for i in before if i["currency"]["S"] == "EUR" and i["dateSource"]["S"] == "2026-03-18#ECB")
    assert item == {
        "currency": {"S": "EUR"},
        "dateSource": {"S": "2026-03-18#ECB"},
        "rateDate": {"S": "2026-03-18"},
        "source": {"S": "ECB"},
        "unitsPerUsd": {"N": "0.869565217391"},
        "fetchedAt": {"S": "2026-03-20T10:44:00Z"},
        "derivedFrom": {"S": '{"USD":"1.1500","base":"EUR"}'},
    }


def test_daily_run_reads_only_the_daily_files_when_nothing_was_missed(world: World) -> None:
    # Given a table filled up to the sources' latest days
    world.serve_recorded()
    world.run()
    seen = len(world.feeds.seen)
    # When the worker runs again; Then ECB's history and BNM's months are not fetched again
    world.run()
    paths = [r.path for r in world.feeds.seen[seen:]]
    assert sorted(paths) == sorted([DAILY_PATH, ALL_PATH, JISDOR_PATH])


def test_a_source_outage_falls_back_to_the_ecb_cross_rate_and_blocks_nothing(world: World) -> None:
    # Given BNM failing with 500s and BI answering an HTML maintenance page
    world.serve_recorded()
    world.feeds.routes[ALL_PATH] = Reply(500, b"oops", "text/plain")
    world.feeds.routes[JISDOR_PATH] = Reply(200, b"<html><body>Sedang pemeliharaan</body></html>", "text/html")
    # When the worker runs
    summary = world.run()
    # Then ECB's rates landed, and MYR and IDR use the ECB cross rate, saying so
    assert summary["sources"]["ECB"]["status"] == "ok"
    assert summary["sources"]["BNM"]["status"] == "failed" and summary["sources"]["BNM"]["retries"] == 3
    assert summary["sources"]["BI"]["status"] == "failed" and "not a DataSet" in summary["sources"]["BI"]["errors"][0]
    for currency, value in (("MYR", "3.91652173913"), ("IDR", "16994")):
        latest = summary["latest"][currency]
        assert (latest["source"], latest["fallback"], latest["rate"]) == (SOURCE_ECB, True, value)
    assert rows(world.repository, "MYR", SOURCE_BNM) == [] and rows(world.repository, "IDR", SOURCE_BI) == []
    # When BNM and BI recover on the next run; Then their rates take over again (resolved at read time)
    world.serve_recorded()
    recovered = world.run()
    assert recovered["latest"]["MYR"]["source"] == SOURCE_BNM
    assert recovered["latest"]["IDR"]["source"] == SOURCE_BI


def test_garbage_from_every_source_leaves_stored_rates_untouched_and_is_counted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a filled table
    world.serve_recorded()
    world.run()
    before = raw_items()
    # When the next day every source sends garbage: ECB a zero USD rate, BNM a 10× middle rate for a stored day and
    # a null one for the next, BI a negative JISDOR value
    world.at(datetime(2026, 3, 23, 16, 30, tzinfo=UTC))
    broken_day = {"USD": "0", "GBP": "0.86", "MYR": "4.50"}
    world.feeds.routes[DAILY_PATH] = xml_reply(ecb_xml({date(2026, 3, 23): broken_day}))
    world.feeds.routes[ALL_PATH] = bnm_reply(bnm_latest_json(date(2026, 3, 19), "39.300000000000001", "0900"), "0900")
    world.feeds.routes[JISDOR_PATH] = xml_reply(jisdor_xml({date(2026, 3, 23): "-17002.00"}))
    world.monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()
    summary = world.run()
    # Then nothing changed in the table
    assert raw_items() == before
    assert summary["stored"] == 0
    # and every rejection is counted with its reason
    reasons = {(r["source"], r["currency"], r["reason"]) for r in summary["rejections"]}
    assert ("ECB", "EUR", "not_positive") in reasons and ("ECB", "SEK", "missing") in reasons
    assert ("BNM", "MYR", "out_of_band") in reasons and ("BI", "IDR", "not_positive") in reasons
    assert summary["rejected"] == 10 + 1 + 1
    assert summary["sources"]["ECB"]["rejected"] == 10
    # and the rates in use are still the last good ones
    assert summary["latest"]["MYR"]["rate"] == "3.93" and summary["latest"]["EUR"]["rateDate"] == "2026-03-18"
    # and the metrics carry the rejections per source and reason (EMF on stdout)
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    by_reason = {
        (d["source"], d["reason"]): last(d["ExchangeRatesRejected"])
        for d in documents
        if "ExchangeRatesRejected" in d and "reason" in d
    }
    assert by_reason == {
        ("ECB", "not_positive"): 3,  # EUR, GBP, MYR: quoted, but no usable USD to cross through
        ("ECB", "missing"): 7,
        ("BNM", "out_of_band"): 1,
        ("BI", "not_positive"): 1,
    }
    totals = [d for d in documents if "ExchangeRatesStored" in d]
    assert totals and last(totals[-1]["ExchangeRatesRejected"]) == 12


def test_a_source_silent_beyond_the_staleness_window_raises_the_stale_metric(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given rates stored on 2026-03-20, then BI failing for twelve days
    world.serve_recorded()
    world.run()
    world.feeds.routes[JISDOR_PATH] = Reply(500, b"", "text/plain")
    world.at(datetime(2026, 3, 31, 16, 30, tzinfo=UTC))
    world.monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()
    # When the worker runs
    summary = world.run()
    # Then BI is reported stale (12 days > 7), with a metric per source for the alarm
    assert summary["sources"]["BI"]["stale"] is True and summary["sources"]["BI"]["ageDays"] == 12
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    stale = {d["source"]: last(d["StaleExchangeRateSource"]) for d in documents if "StaleExchangeRateSource" in d}
    assert stale["BI"] == 1
    metric = next(d for d in documents if d.get("source") == "BI" and "StaleExchangeRateSource" in d)
    assert [set(d) for d in metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"]] == [{"source", "service"}]
    assert last(metric["ExchangeRateAgeDays"]) == 12 and last(metric["ExchangeRateSourceFailures"]) == 1


def test_missed_days_are_backfilled_over_easter_and_holidays_resolve_to_the_day_before(world: World) -> None:
    # Given ECB rates stored up to Wednesday 2026-04-01 (BNM and BI not served: their failures don't matter here)
    history = ecb_history(world.reference_data, date(2026, 4, 7), span=21)
    world.feeds.routes[HIST_90D_PATH] = xml_reply(ecb_xml(history))
    world.feeds.routes[DAILY_PATH] = xml_reply(ecb_xml({date(2026, 4, 1): history[date(2026, 4, 1)]}))
    world.at(datetime(2026, 4, 1, 16, 30, tzinfo=UTC))
    world.run()
    # When the next run happens on Tuesday 2026-04-07 (Thursday's run was missed; Good Friday and Easter Monday are
    # TARGET holidays)
    world.feeds.routes[DAILY_PATH] = xml_reply(ecb_xml({date(2026, 4, 7): history[date(2026, 4, 7)]}))
    world.at(datetime(2026, 4, 7, 16, 30, tzinfo=UTC))
    summary = world.run()
    # Then Thursday and Tuesday were filled, and no row exists for the holidays or the weekend
    assert summary["stored"] == 2 * 10
    days = [r.rate_date for r in rows(world.repository, "CHF") if r.rate_date >= date(2026, 4, 1)]
    assert days == [date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 7)]
    # and a lookup for any day of the long weekend takes Thursday's rate
    table = service.rate_table(["CHF"], date(2026, 4, 3), date(2026, 4, 7))
    for day in (date(2026, 4, 3), date(2026, 4, 4), date(2026, 4, 5), date(2026, 4, 6)):
        assert table.on_or_before("CHF", day).rate_date == date(2026, 4, 2)
    assert table.latest("CHF").rate_date == date(2026, 4, 7)


def test_backfill_window_from_the_cli_event(world: World) -> None:
    # Given the sources up and an empty table
    world.serve_recorded()
    # When backfilling 16-17 March (as `muster-costs run exchange-rates --from 2026-03-16 --to 2026-03-17` does)
    summary = world.run({"from": "2026-03-16", "to": "2026-03-17T00:00:00"})
    # Then only those business days are stored, from every source
    assert summary["window"] == {"from": "2026-03-16", "to": "2026-03-17"}
    for currency, source in (("EUR", SOURCE_ECB), ("MYR", SOURCE_BNM), ("IDR", SOURCE_BI), ("MYR", SOURCE_ECB)):
        assert [r.rate_date for r in rows(world.repository, currency, source)] == [
            date(2026, 3, 16),
            date(2026, 3, 17),
        ]
    (bi_request,) = world.feeds.requests_to(JISDOR_PATH)
    assert bi_request.query["startDate"] == ["2026-03-16"] and bi_request.query["endDate"] == ["2026-03-17"]


@pytest.mark.parametrize(
    "event",
    [{"from": "yesterday"}, {"from": "2026-03-18", "to": "2026-03-01"}, {"from": "2024-01-01", "to": "2026-03-01"}],
)
def test_bad_windows_are_refused(world: World, event: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError):
        world.run(event)


# --- reads for the API, CLI and demo ------------------------------------------------------------------------------


def test_rate_table_reads_one_query_per_currency(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a filled table
    world.serve_recorded()
    world.run()
    calls: list[str] = []
    real_query = ExchangeRateModel.query

    def counting_query(hash_key: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(hash_key)
        return real_query(hash_key, *args, **kwargs)

    monkeypatch.setattr(ExchangeRateModel, "query", counting_query)
    # When the API asks for EUR, MYR and USD over a week that starts on a Sunday
    table = service.rate_table(["eur", "MYR", "usd"], date(2026, 3, 15), date(2026, 3, 20))
    # Then one Query per stored currency, and the Sunday resolves to Friday the 13th
    assert sorted(calls) == ["EUR", "MYR"]
    assert table.on_or_before("EUR", date(2026, 3, 15)).rate_date == date(2026, 3, 13)
    assert table.convert(D("100"), "MYR").rate_date == date(2026, 3, 19)
    assert table.convert(D("100"), "MYR", date(2026, 3, 18)).rate == D("3.91")  # BNM's 0900 rate of that day
    assert table.convert(D("100"), "USD").fx_block() == {"rate": "1", "rateDate": "2026-03-20", "source": "USD"}


def test_rates_command_prints_the_latest_rate_per_currency(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a filled table
    world.serve_recorded()
    world.run()
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    rates_cli.register(parser.add_subparsers(dest="command"))
    # When `muster-costs rates --json` runs
    args = parser.parse_args(["rates", "--json"])
    capsys.readouterr()
    assert args.handler(args) == 0
    listing = json.loads(capsys.readouterr().out)
    # Then every supported currency with its rate, source and business date (USD first, as 1)
    assert [row["currency"] for row in listing][:3] == ["USD", "EUR", "GBP"] and len(listing) == 11
    assert listing[0]["rate"] == "1" and listing[0]["source"] == "USD"
    myr = next(row for row in listing if row["currency"] == "MYR")
    assert (myr["rate"], myr["rateDate"], myr["source"], myr["stale"]) == ("3.93", "2026-03-19", "BNM", False)
    # and as a table
    args = parser.parse_args(["rates"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "Exchange rates" in out and "0.869565217391" in out and "BNM" in out


def test_local_demo_sources_feed_the_worker(store: ExchangeRateRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the local-mode FX server and its environment (as `make demo` sets it)
    sources = start_fx_sources()
    try:
        for name, value in sources.environment.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        monkeypatch.setattr(service, "utc_now", lambda: datetime(2026, 10, 1, 6, 0, tzinfo=UTC))
        # When the worker runs through its handler
        summary = handler({}, LocalLambdaContext())
    finally:
        sources.close()
        reset_settings()
    # Then the recorded ECB days, BNM's recorded March and BI's recorded JISDOR day are stored
    latest = summary["latest"]
    assert (latest["EUR"]["rateDate"], latest["EUR"]["source"]) == ("2026-03-18", "ECB")
    assert (latest["MYR"]["rate"], latest["MYR"]["rateDate"], latest["MYR"]["source"]) == ("3.93", "2026-03-19", "BNM")
    assert (latest["IDR"]["rate"], latest["IDR"]["rateDate"], latest["IDR"]["source"]) == ("17917", "2026-09-25", "BI")
    assert len(rows(store, "EUR")) == 4 and summary["rejected"] == 0
