"""The explorer in a real browser (Debian's chromium driven by Playwright): the server started
as `initlab explore` on a free port, the page loaded, a control moved in every view, the chart
and the table checked to change, a screenshot of each view saved under the test's tmp dir, and
the server stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"no chromium at {CHROMIUM} (apt install chromium; never "
                              "`playwright install`)"),
]
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "initlab", "explore", "initlab.lab.zoo:deep_mlp", "--no-open",
         "--no-warm", "--port", str(port), "--check", "initlab.lab.check_examples:he_init"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"the explorer did not start: {proc.communicate()[0]}")
            time.sleep(0.3)
    yield proc, url
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def page(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(server[1] + "/")
        pg.wait_for_selector("body[data-ready='1']", timeout=60_000)
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def _rev(pg, view: str) -> int:
    return int(pg.get_attribute(f"#view-{view}", "data-rev") or 0)


def _wait_rev(pg, view: str, above: int, timeout: float = 60_000) -> None:
    pg.wait_for_function(
        f"Number(document.getElementById('view-{view}').dataset.rev || 0) > {above}",
        timeout=timeout)


def _snapshot(pg, chart: str, tbl: str) -> tuple[str, str]:
    data = pg.evaluate(
        f"JSON.stringify((document.getElementById('{chart}').data || [])"
        ".map(t => [t.x, t.y, t.z]))")
    return data, pg.inner_text(f"#{tbl}")


def _open(pg, view: str) -> None:
    before = _rev(pg, view)
    pg.click(f"#tabs button[data-view={view}]")
    if before == 0 and view not in ("train", "learn"):
        _wait_rev(pg, view, 0)


def _move(pg, view, chart, tbl, act, shots: Path):
    a = _snapshot(pg, chart, tbl)
    before = _rev(pg, view)
    act()
    _wait_rev(pg, view, before)
    b = _snapshot(pg, chart, tbl)
    pg.screenshot(path=str(shots / f"{view}.png"), full_page=True)
    assert b[0] != a[0], f"{view}: the chart did not change"
    assert b[1] != a[1], f"{view}: the table did not change"
    return b


def _set_range(pg, sel: str, value) -> None:
    pg.eval_on_selector(sel, "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }",
                        str(value))


def test_every_view_answers_a_control(page, tmp_path_factory):
    shots = tmp_path_factory.mktemp("explorer-screenshots")
    pg = page
    # 1. variance through depth: He → Xavier on ReLU
    _open(pg, "variance")
    _move(pg, "variance", "variance-chart", "variance-table",
          lambda: pg.select_option("#variance-start", "xavier"), shots)
    assert "×0.5" in pg.inner_text("#variance-headline")  # Xavier on ReLU halves the variance
    # 2. weight distribution: Xavier → He at 1024 → 512
    _open(pg, "weights")
    _move(pg, "weights", "weights-chart", "weights-headline",
          lambda: pg.select_option("#weights-scheme", "he"), shots)
    assert "±0.07655" in pg.inner_text("#weights-headline")
    # 3. the signal table: depth slider
    _open(pg, "signal")
    _move(pg, "signal", "signal-chart", "signal-table",
          lambda: _set_range(pg, "#signal-depth", 5), shots)
    assert "Hidden 5" in pg.inner_text("#signal-table")
    # 4. phase diagram: a click on the map moves the point
    _open(pg, "phase")
    box = pg.locator("#phase-map .nsewdrag").first.bounding_box()
    assert box is not None
    _move(pg, "phase", "phase-chart", "phase-table",
          lambda: pg.mouse.click(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.5),
          shots)
    assert "chaotic" in pg.inner_text("#phase-table")
    # 5. train and compare: two runs with different starts, streamed
    _open(pg, "train")
    _set_range(pg, "#train-epochs", 2)
    _set_range(pg, "#train-depth", 2)
    _set_range(pg, "#train-width", 16)
    for c in pg.query_selector_all("#train-starts input"):
        if c.get_attribute("value") in ("normal", "xavier"):
            c.uncheck()
    pg.click("#train-go")
    pg.wait_for_function("document.getElementById('train-status').textContent.includes('finished')",
                         timeout=60_000)
    first = _snapshot(pg, "train-chart", "train-table")
    assert "zeros" in first[1] and "He" in first[1]
    # the live curves grew to one point per mini-batch: 2 epochs of 22 (1348 digits / 64)
    assert pg.evaluate("document.getElementById('train-chart').data.map(t => t.x.length)") == [
        44, 44]  # zeros and He
    pg.query_selector("#train-starts input[value=xavier]").check()
    pg.wait_for_function("!document.getElementById('train-go').disabled")
    pg.click("#train-go")
    pg.wait_for_function(
        "document.getElementById('train-table').innerText.includes('Xavier') && "
        "!document.getElementById('train-table').innerText.includes('…') && "
        "document.getElementById('train-status').textContent.includes('finished')",
        timeout=60_000)
    second = _snapshot(pg, "train-chart", "train-table")
    pg.screenshot(path=str(shots / "train.png"), full_page=True)
    assert second != first and "Xavier" in second[1]
    # 6. your model: re-run the doctor after a policy
    _open(pg, "model")
    _move(pg, "model", "model-chart", "model-plan",
          lambda: pg.select_option("#model-policy", "orthogonal"), shots)
    assert "orthogonal" in pg.inner_text("#model-plan")
    # check page: another learner's function
    _open(pg, "check")
    _move(pg, "check", "check-chart", "check-table",
          lambda: pg.select_option("#check-example", "kaiming_normal_no_kernel"), shots)
    assert "kernel_size_forgotten" in pg.inner_text("#check-headline")
    # 7. learn: a question's live demo sets up the signal view with all-zero weights
    pg.click("#tabs button[data-view=learn]")
    pg.wait_for_selector("#learn-zeros button.demo")
    before = _rev(pg, "signal")
    pg.click("#learn-zeros button.demo")
    _wait_rev(pg, "signal", before)
    assert pg.input_value("#signal-start") == "zeros"
    assert "Symmetric" in pg.inner_text("#signal-table")
    pg.screenshot(path=str(shots / "learn-demo.png"), full_page=True)
    assert not pg.errors, pg.errors  # type: ignore[attr-defined]
    print(f"screenshots: {shots}")


def test_bad_input_shows_the_server_message(page):
    pg = page
    pg.click("#tabs button[data-view=weights]")
    pg.eval_on_selector("#weights-fan_in", "el => { el.max = 10**9; el.value = 10**9; "
                        "el.dispatchEvent(new Event('input')); }")
    pg.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert "fan_in" in pg.inner_text("#error") and "65536" in pg.inner_text("#error")


def test_ctrl_c_stops_the_server_cleanly(server, page):
    proc, url = server
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "explorer stopped" in out and "Traceback" not in out
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/api/health", timeout=2)
