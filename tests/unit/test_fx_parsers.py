"""Source parsers against every recorded/sample FX payload in ../shared/data, and against hostile input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shared.domain.fx import RejectReason, bnm_myr_per_usd, ecb_cross_rates, jisdor_idr_per_usd
from shared.errors import SourceError
from shared.sources.bank_indonesia import parse_kurs_dataset
from shared.sources.bnm import parse_bnm
from shared.sources.ecb import checked_body, parse_eurofxref

D = Decimal
FX_SAMPLES = Path("fx-samples")
FX_RECORDED = Path("fx-recorded")

XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
  xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube><Cube time='2026-03-18'>
  <Cube currency='USD' rate='&lol3;'/></Cube></Cube></gesmes:Envelope>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<DataSet xmlns="http://tempuri.org/"><NewDataSet xmlns=""><Table>
<mts_subkursasing>&xxe;</mts_subkursasing></Table></NewDataSet></DataSet>"""

DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE gesmes:Envelope SYSTEM "http://example.invalid/eurofxref.dtd">
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"/>"""

HTML_ERROR_PAGE = (
    b"<html><head><title>Request Rejected</title></head><body>The requested URL was rejected.</body></html>"
)


def read(reference_data: Path, *parts: Path | str) -> bytes:
    return reference_data.joinpath(*parts).read_bytes()


# --- ECB ----------------------------------------------------------------------------------------------------------


def test_ecb_daily_has_29_currencies_with_exact_published_strings(reference_data: Path) -> None:
    # Given the ECB daily file of 2026-03-18; When parsed
    days = parse_eurofxref(read(reference_data, FX_SAMPLES, "ecb-daily.xml"))
    # Then one day, 29 currencies (no BGN in 2026), the published decimals kept exactly
    assert [d.day for d in days] == [date(2026, 3, 18)]
    rates = days[0].rates
    assert len(rates) == 29 and "BGN" not in rates and "HRK" not in rates
    assert str(rates["USD"]) == "1.1500"
    assert str(rates["GBP"]) == "0.86393"
    assert str(rates["IDR"]) == "19543.10"
    # and every currency Muster shows can be crossed through USD
    assert all(c.problem is None for c in ecb_cross_rates(days[0].day, rates))


def test_ecb_history_is_sorted_oldest_first_and_skips_the_weekend(reference_data: Path) -> None:
    # Given the 90-day excerpt (newest first in the file); When parsed; Then oldest first, 14-15 March absent
    days = parse_eurofxref(read(reference_data, FX_SAMPLES, "ecb-hist-90d-excerpt.xml"))
    assert [d.day.isoformat() for d in days] == ["2026-03-13", "2026-03-16", "2026-03-17", "2026-03-18"]
    assert days[0].rates["USD"] == D("1.1476")
    assert all(len(d.rates) == 29 for d in days)


@pytest.mark.parametrize("payload", [XML_BOMB, XXE, DTD_ONLY], ids=["entity-bomb", "external-entity", "dtd"])
def test_unsafe_xml_is_refused_by_every_xml_parser(payload: bytes) -> None:
    # Given a payload with a DTD (entity bomb, external entity); When parsed; Then refused before any expansion
    with pytest.raises(SourceError, match="unsafe XML"):
        parse_eurofxref(payload)
    with pytest.raises(SourceError, match="unsafe XML"):
        parse_kurs_dataset(payload)


@pytest.mark.parametrize(
    "payload",
    [
        HTML_ERROR_PAGE,
        b"<html><body><p>unclosed",
        b"<?xml version='1.0'?><Envelope/>",  # wrong namespace
        b"""<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"/>""",  # no Cube
        b"""<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
            xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube/></gesmes:Envelope>""",  # no day
        b"""<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
            xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube><Cube time='18/03/2026'>
            <Cube currency='USD' rate='1.15'/></Cube></Cube></gesmes:Envelope>""",  # unreadable date
        b"""<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
            xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube><Cube time='2026-03-18'>
            <Cube currency='USD' rate='1.15'/></Cube><Cube time='2026-03-18'/></Cube></gesmes:Envelope>""",  # twice
    ],
    ids=["html", "malformed", "wrong-root", "no-cube", "no-day", "bad-date", "duplicate-day"],
)
def test_ecb_garbage_is_a_source_error(payload: bytes) -> None:
    with pytest.raises(SourceError):
        parse_eurofxref(payload)


def test_ecb_unreadable_rate_is_missing_not_guessed() -> None:
    # Given a day with an unreadable GBP rate and a NaN SEK rate; When parsed and crossed; Then only those are missing
    payload = b"""<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
        xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube><Cube time='2026-03-18'>
        <Cube currency='USD' rate='1.1500'/><Cube currency='GBP' rate='0,86393'/><Cube currency='SEK' rate='NaN'/>
        <Cube currency='NOK' rate='11.0205'/></Cube></Cube></gesmes:Envelope>"""
    (day,) = parse_eurofxref(payload)
    assert day.rates["GBP"] is None and day.rates["SEK"] is None
    problems = {c.currency: c.problem for c in ecb_cross_rates(day.day, day.rates)}
    assert problems["GBP"] is RejectReason.MISSING and problems["SEK"] is RejectReason.MISSING
    assert problems["NOK"] is None


def test_empty_or_oversized_bodies_are_refused() -> None:
    with pytest.raises(SourceError, match="empty"):
        checked_body("ECB", b"")
    with pytest.raises(SourceError, match="empty"):
        checked_body("ECB", b"  \n")
    with pytest.raises(SourceError, match="exceeds"):
        checked_body("ECB", b"x" * 11, max_bytes=10)


def test_the_sdmx_csv_is_not_mistaken_for_the_xml_file(reference_data: Path) -> None:
    # Given the SDMX CSV sample (a different ECB format); When fed to the eurofxref parser; Then refused
    with pytest.raises(SourceError):
        parse_eurofxref(read(reference_data, FX_SAMPLES, "ecb-sdmx-usd.csv"))


# --- BNM ----------------------------------------------------------------------------------------------------------


def test_bnm_all_currencies_recording_with_units_per_100(reference_data: Path) -> None:
    # Given the recorded 27-currency response (session 0900, 2026-03-19)
    payload = parse_bnm(read(reference_data, FX_RECORDED, "bnm-exchange-rate-all-0900-2026-03-19.json"))
    # Then session and quote are read, and units are 1 or 100 as published
    assert (payload.session, payload.quote, len(payload.rates)) == ("0900", "rm", 27)
    by_code = {r.currency: r for r in payload.rates}
    assert {"SEK", "NOK", "DKK"}.isdisjoint(by_code)
    assert by_code["IDR"].unit == 100 and by_code["JPY"].unit == 100 and by_code["USD"].unit == 1
    # numbers are Decimals straight from the JSON text (float noise visible, never a float)
    assert by_code["USD"].middle == D("3.9300000000000002")
    assert by_code["IDR"].middle == D("0.023099999999999999")
    assert by_code["SDR"].buying is None and by_code["SDR"].middle == D("5.3537999999999997")
    assert {r.day for r in payload.rates} == {date(2026, 3, 19)}
    # and the USD row gives 3.93 MYR per USD
    usd = by_code["USD"]
    assert bnm_myr_per_usd(usd.day, usd.middle, usd.unit, "0900", usd.buying, usd.selling).units_per_usd == D("3.93")


def test_bnm_excerpt_sample_parses_like_the_recording(reference_data: Path) -> None:
    payload = parse_bnm(read(reference_data, FX_SAMPLES, "bnm-exchange-rate.json"))
    assert len(payload.rates) == 9
    assert {r.currency: r.unit for r in payload.rates}["JPY"] == 100


def test_bnm_month_series(reference_data: Path) -> None:
    # Given the USD month endpoint (data.rate is a list); When parsed; Then 14 business days of March 2026
    payload = parse_bnm(read(reference_data, FX_RECORDED, "bnm-exchange-rate-usd-year-2026-month-3-0900.json"))
    assert len(payload.rates) == 14 and {r.currency for r in payload.rates} == {"USD"}
    assert payload.rates[0].day == date(2026, 3, 2) and payload.rates[-1].day == date(2026, 3, 19)
    assert all(d.day.weekday() < 5 for d in payload.rates)


def test_bnm_single_day_session_1700(reference_data: Path) -> None:
    payload = parse_bnm(read(reference_data, FX_SAMPLES, "bnm-exchange-rate-usd-date-1700.json"))
    (usd,) = payload.rates
    assert (payload.session, usd.day) == ("1700", date(2026, 10, 8))
    made = bnm_myr_per_usd(usd.day, usd.middle, usd.unit, payload.session, usd.buying, usd.selling)
    assert made.units_per_usd == D("4.09")


def test_bnm_without_session_serves_1130_with_a_null_middle_rate(reference_data: Path) -> None:
    # Given the answer BNM gives when the session is left out; Then session 1130 and no middle rate to use
    payload = parse_bnm(read(reference_data, FX_SAMPLES, "bnm-exchange-rate-usd-no-session-1130.json"))
    (usd,) = payload.rates
    assert payload.session == "1130" and usd.middle is None and usd.buying == D("4.0650000000000004")
    made = bnm_myr_per_usd(usd.day, usd.middle, usd.unit, payload.session)
    assert made.problem is RejectReason.MISSING


def test_bnm_404_body_is_not_a_rates_payload(reference_data: Path) -> None:
    # The 404 body ({"message":"No records found.","code":404}) has no data: if it ever came with a 200, refuse it
    with pytest.raises(SourceError):
        parse_bnm(read(reference_data, FX_SAMPLES, "bnm-404-no-records.json"))


@pytest.mark.parametrize(
    "payload",
    [
        HTML_ERROR_PAGE,
        b"",
        b"[]",
        b'{"data": [], "meta": {"quote": "rm"}}',
        b'{"data": {"currency_code": "USD", "unit": 1, "rate": {"date": "2026-03-19", "middle_rate": NaN}},'
        b' "meta": {"session": "1700", "quote": "rm"}}',
        b'{"data": {"currency_code": "US", "unit": 1, "rate": {"date": "2026-03-19"}},'
        b' "meta": {"session": "1700", "quote": "rm"}}',
        b'{"data": {"currency_code": "USD", "unit": 0, "rate": {"date": "2026-03-19"}},'
        b' "meta": {"session": "1700", "quote": "rm"}}',
        b'{"data": {"currency_code": "USD", "unit": 1, "rate": {"date": "19/03/2026"}},'
        b' "meta": {"session": "1700", "quote": "rm"}}',
    ],
    ids=["html", "empty", "list", "no-session", "nan", "bad-code", "zero-unit", "bad-date"],
)
def test_bnm_garbage_is_a_source_error(payload: bytes) -> None:
    with pytest.raises(SourceError):
        parse_bnm(payload)


def test_bnm_string_number_is_missing_not_parsed() -> None:
    payload = parse_bnm(
        b'{"data": {"currency_code": "USD", "unit": 1, "rate": {"date": "2026-03-19", "middle_rate": "3.93"}},'
        b' "meta": {"session": "1700", "quote": "rm"}}'
    )
    assert payload.rates[0].middle is None


# --- Bank Indonesia -----------------------------------------------------------------------------------------------


def test_bi_jisdor_sample(reference_data: Path) -> None:
    # Given the JISDOR DataSet for 2026-09-25; When parsed; Then USD (padding stripped), the local date, 17917
    (row,) = parse_kurs_dataset(read(reference_data, FX_SAMPLES, "bi-jisdor-usd.xml"))
    assert (row.currency, row.day, row.unit, row.buying, row.selling) == (
        "USD",
        date(2026, 9, 25),
        D("1.00"),
        D("17917.00"),
        D("17917.00"),
    )
    assert jisdor_idr_per_usd(row.day, row.buying, row.selling, row.unit).units_per_usd == D("17917")


def test_bi_kurs_transaksi_sample_keeps_the_plus_seven_date(reference_data: Path) -> None:
    # Given Kurs Transaksi rows dated 2026-02-0xT00:00:00+07:00 (newest first, "USD  " padded)
    rows = parse_kurs_dataset(read(reference_data, FX_SAMPLES, "bi-kurs-transaksi-usd.xml"))
    # Then the business dates are the +07:00 dates (not the UTC day before), oldest first
    assert [r.day.isoformat() for r in rows] == ["2026-02-03", "2026-02-04", "2026-02-05", "2026-02-06"]
    assert {r.currency for r in rows} == {"USD"}
    assert rows[-1].buying == D("16741.87") and rows[-1].selling == D("16910.13")


def test_bi_empty_result_has_no_rows() -> None:
    payload = b"""<?xml version="1.0" encoding="utf-8"?><DataSet xmlns="http://tempuri.org/">
      <diffgr:diffgram xmlns:diffgr="urn:schemas-microsoft-com:xml-diffgram-v1"/></DataSet>"""
    assert parse_kurs_dataset(payload) == []


def test_bi_web_page_is_not_the_web_service(reference_data: Path) -> None:
    # Given BI's HTML page (SharePoint; scraping it is a documented last resort, not implemented); Then refused
    with pytest.raises(SourceError):
        parse_kurs_dataset(read(reference_data, FX_SAMPLES, "bi-kurs-transaksi-web-excerpt.html"))


@pytest.mark.parametrize(
    "payload",
    [
        HTML_ERROR_PAGE,
        b"<DataSet xmlns='http://tempuri.org/'><Table><tgl_x>2026-09-25T00:00:00+07:00</tgl_x></Table></DataSet>",
        b"<DataSet xmlns='http://tempuri.org/'><Table><mts_x>USD</mts_x><tgl_x>25/09/2026</tgl_x></Table></DataSet>",
        b"<DataSet xmlns='http://tempuri.org/'><Table><mts_x>USD</mts_x><nil_x>0</nil_x>"
        b"<tgl_x>2026-09-25T00:00:00+07:00</tgl_x></Table></DataSet>",
    ],
    ids=["html", "no-currency", "bad-date", "zero-unit"],
)
def test_bi_garbage_is_a_source_error(payload: bytes) -> None:
    with pytest.raises(SourceError):
        parse_kurs_dataset(payload)
