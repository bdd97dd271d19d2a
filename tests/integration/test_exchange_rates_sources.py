"""ECB, BNM and BI clients over real HTTP on 127.0.0.1: headers, paths, 404s, retries, timeouts and garbage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests

from shared.config import HttpPolicy
from shared.errors import SourceError
from shared.local.fx_sources import (
    BNM_NOT_FOUND,
    LocalHttpServer,
    Reply,
    SeenRequest,
    bnm_month_path,
    bnm_reply,
    demo_fallback,
    start_fx_sources,
    xml_reply,
)
from shared.sources.bank_indonesia import JISDOR_PATH, BankIndonesiaClient
from shared.sources.bnm import ACCEPT, ALL_PATH, BnmClient
from shared.sources.ecb import DAILY_PATH, HIST_90D_PATH, EcbClient
from shared.sources.http import RetryingHttp

FAST = HttpPolicy(connect_timeout=1.0, read_timeout=1.0, max_attempts=3, backoff_base=0.01)


def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer(fallback=demo_fallback) as running:
        yield running


def http(source: str, policy: HttpPolicy = FAST) -> RetryingHttp:
    return RetryingHttp(source, policy, sleep=no_sleep)


def sample(reference_data: Path, name: str) -> bytes:
    folder = "fx-recorded" if name.startswith("bnm-exchange-rate-all") or "year" in name else "fx-samples"
    return (reference_data / folder / name).read_bytes()


def test_ecb_daily_and_history_at_their_real_paths(server: LocalHttpServer, reference_data: Path) -> None:
    # Given the ECB files served at the real paths
    server.routes[DAILY_PATH] = xml_reply(sample(reference_data, "ecb-daily.xml"))
    server.routes[HIST_90D_PATH] = xml_reply(sample(reference_data, "ecb-hist-90d-excerpt.xml"))
    client = EcbClient(http("ECB"), server.base_url + "/")
    # When fetched; Then parsed
    assert [d.day for d in client.daily()] == [date(2026, 3, 18)]
    assert len(client.history_90d()) == 4


def test_bnm_sends_its_accept_header_and_names_the_session(server: LocalHttpServer, reference_data: Path) -> None:
    # Given BNM's behaviour: HTML 404 without its Accept header; records only for the recorded session
    server.routes[ALL_PATH] = bnm_reply(sample(reference_data, "bnm-exchange-rate-all-0900-2026-03-19.json"), "0900")
    # When asked without the header (as a naive client would); Then BNM's HTML 404
    bare = requests.get(server.base_url + ALL_PATH, params={"session": "0900"}, timeout=5)
    assert bare.status_code == 404 and b"BNM.API" in bare.content
    # When our client asks; Then the header and session were sent and USD comes back
    (usd,) = BnmClient(http("BNM"), server.base_url, "0900").latest("USD")
    assert usd.middle is not None and usd.day == date(2026, 3, 19)
    (request,) = server.requests_to(ALL_PATH)[-1:]
    assert request.headers["accept"] == ACCEPT
    assert request.query == {"session": ["0900"], "quote": ["rm"]}


def test_bnm_month_and_date_404_mean_no_records(server: LocalHttpServer, reference_data: Path) -> None:
    # Given a recorded month and nothing else (weekends, holidays and other months answer BNM's JSON 404)
    server.routes[bnm_month_path(2026, 3)] = bnm_reply(
        sample(reference_data, "bnm-exchange-rate-usd-year-2026-month-3-0900.json"), "0900"
    )
    client = BnmClient(http("BNM"), server.base_url, "0900")
    assert len(client.month("USD", 2026, 3)) == 14
    assert client.month("USD", 2026, 2) == []
    assert client.on_date("USD", date(2026, 3, 21)) == []  # a Saturday
    (saturday,) = server.requests_to("/public/exchange-rate/USD/date/2026-03-21")
    assert saturday.query == {"session": ["0900"]}


def test_bnm_answer_for_another_session_is_refused(server: LocalHttpServer, reference_data: Path) -> None:
    # Given BNM answering with session 1130 (middle rate null) although 1700 was asked
    server.routes[ALL_PATH] = Reply(200, sample(reference_data, "bnm-exchange-rate-usd-no-session-1130.json"))
    # Then the client refuses the payload
    with pytest.raises(SourceError, match="session"):
        BnmClient(http("BNM"), server.base_url, "1700").latest()


def test_bnm_latest_404_is_a_failure_not_an_empty_day(server: LocalHttpServer) -> None:
    server.routes[ALL_PATH] = Reply(404, BNM_NOT_FOUND, "application/json")
    with pytest.raises(SourceError):
        BnmClient(http("BNM"), server.base_url, "1700").latest()


def test_bi_jisdor_query_uses_camel_case_dates(server: LocalHttpServer, reference_data: Path) -> None:
    server.routes[JISDOR_PATH] = xml_reply(sample(reference_data, "bi-jisdor-usd.xml"))
    rows = BankIndonesiaClient(http("BI"), server.base_url).jisdor(date(2026, 9, 25), date(2026, 9, 25))
    assert [r.day for r in rows] == [date(2026, 9, 25)]
    (request,) = server.requests_to(JISDOR_PATH)
    assert request.query == {"mts": ["USD"], "startDate": ["2026-09-25"], "endDate": ["2026-09-25"]}


def test_a_500_is_retried_then_succeeds(server: LocalHttpServer, reference_data: Path) -> None:
    # Given BI failing twice with 500 (it does, intermittently) before answering
    answers = [Reply(500, b"Kendala akses API Kurs", "text/plain")] * 2 + [
        xml_reply(sample(reference_data, "bi-jisdor-usd.xml"))
    ]

    def flaky(_: SeenRequest) -> Reply:
        return answers.pop(0)

    server.routes[JISDOR_PATH] = flaky
    client = BankIndonesiaClient(http("BI"), server.base_url)
    # When fetched; Then the third attempt's rows, two retries counted
    assert len(client.jisdor(date(2026, 9, 25), date(2026, 9, 25))) == 1
    assert (client.http.stats.requests, client.http.stats.retries) == (3, 2)


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (Reply(500, b"error", "text/plain"), "HTTP 500"),
        (Reply(200, b"", "text/xml"), "empty"),
        (Reply(200, b"<html><body>Maintenance</body></html>", "text/html"), "not a eurofxref"),
        (Reply(302, b"", "text/html", headers={"Location": "/elsewhere"}), "HTTP 302"),
    ],
    ids=["500", "empty-body", "html", "redirect"],
)
def test_ecb_failures_leave_as_source_errors(server: LocalHttpServer, reply: Reply, problem: str) -> None:
    server.routes[DAILY_PATH] = reply
    client = EcbClient(http("ECB"), server.base_url)
    with pytest.raises(SourceError, match=problem):
        client.daily()


def test_a_slow_source_times_out_after_bounded_attempts(server: LocalHttpServer) -> None:
    # Given ECB answering slower than the read timeout
    server.routes[DAILY_PATH] = Reply(200, b"<late/>", delay=0.6)
    policy = HttpPolicy(connect_timeout=0.5, read_timeout=0.15, max_attempts=2, backoff_base=0.0)
    client = EcbClient(http("ECB", policy), server.base_url)
    # When fetched; Then a SourceError after exactly two attempts
    with pytest.raises(SourceError, match="Timeout"):
        client.daily()
    assert client.http.stats.requests == 2


def test_demo_sources_serve_the_bundled_recordings() -> None:
    # Given the local-mode FX server; When the three clients read it; Then the recorded payloads come back
    sources = start_fx_sources()
    try:
        env = sources.environment
        assert env["ECB_BASE_URL"] == env["BNM_BASE_URL"] == env["BI_BASE_URL"] == sources.base_url
        assert sources.base_url.startswith("http://127.0.0.1:")
        assert EcbClient(http("ECB"), env["ECB_BASE_URL"]).daily()[0].day == date(2026, 3, 18)
        assert len(EcbClient(http("ECB"), env["ECB_BASE_URL"]).history_90d()) == 4
        bnm = BnmClient(http("BNM"), env["BNM_BASE_URL"], env["BNM_SESSION"])
        assert bnm.latest()[0].day == date(2026, 3, 19)
        assert len(bnm.month("USD", 2026, 3)) == 14 and bnm.month("USD", 2026, 2) == []
        bi = BankIndonesiaClient(http("BI"), env["BI_BASE_URL"]).jisdor(date(2026, 9, 1), date(2026, 9, 30))
        assert bi[0].buying == 17917
    finally:
        sources.close()
