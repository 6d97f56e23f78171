"""The "Find the best plan" view in the system Chromium: SLA inputs, the Pareto chart (hover,
click → estimate view), the top table, why-not, downloads, launch command and URL state."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest

import infercast
from test_web_browser import _open, _ready, _shot, _wait_for_update, browser, page, server_url

__all__ = ["browser", "page", "server_url"]  # fixtures shared with the estimate-view tests

pytestmark = pytest.mark.browser

QUERY = (
    "/?view=search&s_model=meta-llama/Llama-3.1-8B-Instruct&s_max=2&s_isl=1024&s_osl=256"
    "&s_ttft=600&s_tpot=20"
)


def _search_done(page: Any) -> None:
    page.wait_for_function("() => Number(document.body.dataset.searchReady || 0) > 0")


def test_search_view_from_the_url(page: Any, server_url: str) -> None:
    _open(page, server_url + QUERY)
    _search_done(page)
    assert page.locator("#search-view").is_visible()
    assert not page.locator("main.layout").is_visible()
    assert page.locator("#s-tpot").input_value() == "20"
    rows = page.locator("#top-plans .plan-row")
    assert rows.count() >= 1
    assert "evaluated" in page.locator("#search-status").inner_text()
    assert page.locator(".pareto-point").count() >= 2
    _shot(page, "10-search")


def test_hover_shows_the_plan_and_click_loads_it(page: Any, server_url: str) -> None:
    _open(page, server_url + QUERY)
    _search_done(page)
    point = page.locator(".pareto-point").last  # the fastest per user: apart from the rest
    label = point.get_attribute("aria-label")
    point.hover()
    tip = page.locator("#pareto-tip")
    assert tip.is_visible() and label in tip.inner_text()
    before = _ready(page)
    point.click()
    _wait_for_update(page, before)
    assert (
        page.locator("main.layout").is_visible() and not page.locator("#search-view").is_visible()
    )
    query = parse_qs(page.evaluate("location.search")[1:])
    assert query["model"] == ["meta-llama_Llama-3.1-8B-Instruct"]
    # The estimate view now shows the plan's own figures: the point's C and layout.
    conc = label.rsplit("C=", 1)[1]
    assert page.locator("#concurrency").input_value() == conc
    assert "view" not in query


def test_editing_the_sla_searches_again_and_names_the_limit(page: Any, server_url: str) -> None:
    _open(page, server_url + QUERY)
    _search_done(page)
    page.fill("#s-tpot", "0.5")
    assert parse_qs(page.evaluate("location.search")[1:])["s_tpot"] == ["0.5"]
    page.click("#s-run")
    page.wait_for_function("() => document.body.dataset.searchReady === '2'")
    text = page.locator("#why-not").inner_text()
    assert "no plan meets TPOT ≤ 0.5 ms" in text
    assert page.locator("#top-plans").count() == 0


def test_bad_input_is_shown_not_thrown(page: Any, server_url: str) -> None:
    _open(page, server_url + QUERY.replace("s_max=2", "s_max=0"))
    _search_done(page)
    error = page.locator("#search-error")
    assert error.is_visible() and "max_gpus" in error.inner_text()


def test_downloads_and_launch_command(page: Any, server_url: str, tmp_path: Any) -> None:
    _open(page, server_url + QUERY)
    _search_done(page)
    with page.expect_download() as info:
        page.click("#s-download-csv")
    csv_path = tmp_path / "plans.csv"
    info.value.save_as(csv_path)
    header, first, *_ = csv_path.read_text().splitlines()
    assert header.startswith("hardware,gpus,tp,dp,pp,ep,moe_tp")
    with page.expect_download() as info:
        page.click("#s-download-json")
    json_path = tmp_path / "search.json"
    info.value.save_as(json_path)
    data = json.loads(json_path.read_text())
    assert set(data) >= {"plans", "pareto", "evaluated", "rejected"}
    plan = data["plans"][0]
    assert first.startswith(f"{plan['hardware']},{plan['gpus']},{plan['tp']},{plan['dp']}")
    assert plan["tpot_ms"] == infercast.estimate(**plan["estimate_args"]).tpot_ms
    page.locator("#top-plans .plan-row").first.click()
    page.wait_for_function("() => document.body.dataset.launchReady === '0'")
    page.select_option("#s-engine", "sglang")
    page.wait_for_function(
        "() => document.querySelector('#s-launch-command').textContent.includes('sglang')"
    )
    command = page.locator("#s-launch-command").inner_text()
    assert command.startswith("python -m sglang.launch_server --model-path meta-llama/")
    assert f"--tp-size {plan['tp']}" in command


def test_estimate_view_launch_box(page: Any, server_url: str) -> None:
    _open(page, server_url + "/?model=meta-llama_Llama-3.1-8B-Instruct&gpus=2&tp=2&conc=32")
    page.click("#launch-box summary")
    page.wait_for_function(
        "() => document.querySelector('#launch-command').textContent.includes('vllm serve')"
    )
    command = page.locator("#launch-command").inner_text()
    assert "--tensor-parallel-size 2" in command and "--max-num-seqs 32" in command
    page.select_option("#launch-engine", "trtllm")
    page.wait_for_function(
        "() => document.querySelector('#launch-command').textContent.includes('trtllm-serve')"
    )
    assert "--tp_size 2" in page.locator("#launch-command").inner_text()


def test_the_search_view_opens_on_the_model_on_screen(page: Any, server_url: str) -> None:
    """With Qwen3-8B estimated, "Find the best plan" offered meta-llama/Llama-3.1-8B-Instruct
    (the view's own default): a new user searched another model than the one on screen."""
    _open(page, server_url + "/?model=Qwen_Qwen3-8B&hw=h200")
    page.click("#tab-search")
    assert page.locator("#s-model").input_value() == "Qwen/Qwen3-8B"
    assert parse_qs(page.evaluate("location.search")[1:])["s_model"] == ["Qwen/Qwen3-8B"]
    page.select_option("#s-model", "openai/gpt-oss-20b")  # a choice made here is kept
    page.click("#tab-estimate")
    page.click("#tab-search")
    assert page.locator("#s-model").input_value() == "openai/gpt-oss-20b"
    _open(page, server_url + "/?model=Qwen_Qwen3-8B&s_model=Qwen/Qwen3-32B")  # a link's choice
    page.click("#tab-search")
    assert page.locator("#s-model").input_value() == "Qwen/Qwen3-32B"
