"""Layout defects a new user saw on the web page at 1280 px and 390 px (the system Chromium):
the search view's table past its card and the page, the view squeezed to a 20 px column on a
phone, a summary toast over the table, commands cut inside their arguments, money printed
with 3 significant figures, unreadable chart ticks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from test_web_browser import _open, _shot, browser, page, server_url
from test_web_search import _search_done

__all__ = ["browser", "page", "server_url"]  # fixtures shared with the estimate-view tests

pytestmark = pytest.mark.browser

PRICED = (
    "/?view=search&s_model=meta-llama/Llama-3.3-70B-Instruct&s_hw=h100&s_isl=1024&s_osl=512"
    "&s_ttft=&s_tpot=50&s_users=1000&s_ex=1&s_obj=cost"
)
PAGE_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# The whitespace-free runs of an element's text that the browser laid out on more than one
# line (a Range over each run, across text nodes), and how many lines the element takes.
BROKEN_WORDS = """e => {
  const nodes = [], walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  let text = "";
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, text.length]);
    text += walker.currentNode.data;
  }
  const at = (i) => {
    for (let k = nodes.length - 1; k >= 0; k--) {
      if (nodes[k][1] <= i) return [nodes[k][0], i - nodes[k][1]];
    }
  };
  const tops = (range) => new Set(
    [...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
  const broken = [];
  for (const m of text.matchAll(/\\S+/g)) {
    const range = document.createRange();
    range.setStart(...at(m.index));
    range.setEnd(...at(m.index + m[0].length - 1));
    range.setEnd(range.endContainer, range.endOffset + 1);
    if (tops(range).size > 1) broken.push(m[0]);
  }
  const all = document.createRange();
  all.selectNodeContents(e);
  return [broken, tops(all).size];
}"""
BOX = "e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("width", [1280, 390])
def test_search_view_fits_the_window_with_prices(page: Any, server_url: str, width: int) -> None:
    """With prices the top table (12 columns) ran 190 px past its card and the page scrolled
    sideways at 1280 px; at 390 px the results column was ~20 px wide (one word a line), and
    the summary line, a fixed toast, covered a table row or the form."""
    page.set_viewport_size({"width": width, "height": 900})
    _open(page, server_url + PRICED)
    _search_done(page)
    scroll_width, inner = page.evaluate(PAGE_WIDTH)
    assert scroll_width <= inner, (scroll_width, inner)
    results = page.locator("#search-results").evaluate(BOX)
    assert results[2] - results[0] >= min(700, width - 40)  # the results get the width
    table = page.locator("#top-plans").evaluate(BOX)
    panel = page.locator(".top-plans").evaluate(BOX)
    if width == 1280:  # the whole table fits its card: no hidden "$ per hour" column
        assert table[2] <= panel[2], (table, panel)
    status = page.locator("#search-status").evaluate(BOX)
    for selector in ("#top-plans tr", "#search-form", "#why-not"):
        for box in page.locator(selector).evaluate_all(f"els => els.map({BOX})"):
            assert not _overlap(status, box), (selector, status, box)
    ticks = page.locator(".pareto-chart .tick").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert min(ticks) >= 9, ticks  # readable on a phone too (were 6 px)
    _shot(page, f"20-search-priced-{width}")


def test_money_has_fixed_decimals_as_in_the_cli(page: Any, server_url: str) -> None:
    """ "$1.1" stood under "$0.896" in one column; the CLI prints 1.098 and 80.00."""
    _open(page, server_url + PRICED)
    _search_done(page)
    per_m = page.locator("#top-plans .plan-row td:nth-child(10)").all_inner_texts()
    per_hour = page.locator("#top-plans .plan-row td:nth-child(11)").all_inner_texts()
    assert per_m and all(re.fullmatch(r"\$\d+\.\d{3}", t) for t in per_m), per_m
    assert all(re.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d{2}", t) for t in per_hour), per_hour
    # 24 H100 at the example $2.50 per GPU-hour (planning/prices.py): $60.00 for plan 1
    assert per_hour[0] == "$60.00"


def test_commands_wrap_between_arguments_on_a_phone(page: Any, server_url: str) -> None:
    """The CLI command broke "--concurrency" into "--concurrenc" + "y" (word-break: break-all)
    and, without it, after every hyphen ("deepseek-" + "ai_DeepSeek-R1")."""
    page.set_viewport_size({"width": 390, "height": 900})
    plan = "model=deepseek-ai_DeepSeek-R1&hw=h200&gpus=8&tp=8&isl=1024&osl=1024&conc=64"
    _open(page, f"{server_url}/?{plan}")
    code = page.locator("#cli-command")
    assert code.inner_text() == (
        "infercast estimate --model deepseek-ai_DeepSeek-R1 --hardware h200 --gpus 8 --tp 8 "
        "--isl 1024 --osl 1024 --concurrency 64"
    )
    broken, lines = code.evaluate(BROKEN_WORDS)
    assert lines >= 3 and broken == [], (lines, broken)  # wraps, but between arguments
    page.click("#launch-box summary")
    page.select_option("#launch-engine", "sglang")
    page.wait_for_function(
        "() => document.querySelector('#launch-command').textContent.includes('sglang')"
    )
    launch = page.locator("#launch-command")
    assert launch.inner_text().startswith(
        "python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-R1 --tp-size 8"
    )
    broken, lines = launch.evaluate(BROKEN_WORDS)
    assert lines >= 3 and broken == [], (lines, broken)
    assert page.evaluate(PAGE_WIDTH)[0] <= 390
