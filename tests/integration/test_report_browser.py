"""The interactive report in a real browser: headless Chromium (Debian chromium and
chromium-driver, installed by scripts/_setup.sh under `scripts/test --all` when root)
opens report.html from disk with networking off, and the dose slider is moved with the
keyboard as a reader would: the displayed dose and the band of the time course change."""

import shutil

import pytest

from workbench.cli import main

pytestmark = pytest.mark.slow

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync")


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    if not chromium or not driver_bin:
        pytest.skip("Debian chromium and chromium-driver are not installed "
                    "(scripts/test --all installs them when run as root)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for f in FLAGS:
        opts.add_argument(f)
    opts.add_argument("--window-size=1300,1000")
    from selenium.common.exceptions import WebDriverException

    try:
        drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
    except WebDriverException:  # a loaded 2-core machine can miss the start-up deadline once
        drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
    try:
        yield drv
    finally:
        drv.quit()


def test_dose_slider_moves_dose_and_band(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    out = tmp_path / "mabel"
    assert main(["mabel", "--quick", "--out", str(out)]) == 0
    browser.get((out / "report.html").as_uri())
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script("return typeof Plotly !== 'undefined' && "
                                   "document.getElementById('slider-profile').data !== undefined"))
    # the static-looking figures are Plotly graphs too (hover, zoom)
    for div in ("fig-profiles", "fig-dose-response", "fig-ladder"):
        assert browser.execute_script(f"return document.getElementById('{div}').data.length") > 0

    def state():
        return (browser.find_element(By.ID, "dose-value").text,
                browser.execute_script("var g = document.getElementById('slider-profile');"
                                       "return [g.data[1].y, g.data[2].y];"),
                browser.execute_script("return document.getElementById('slider-effect')"
                                       ".layout.title.text"))

    text0, band0, title0 = state()
    assert "ug/kg" in text0 and "(start)" in text0
    slider = browser.find_element(By.ID, "dose-slider")
    k0 = int(slider.get_attribute("value"))
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    WebDriverWait(browser, 20).until(lambda d: state()[0] != text0)
    text1, band1, title1 = state()
    assert int(slider.get_attribute("value")) == k0 + 3
    assert "(start)" not in text1 and text1.split()[0] != text0.split()[0]
    assert band1 != band0            # the 5th percentile and median curves were redrawn
    assert title1 != title0 and text1.split()[0] in title1
    # the dose shown is the grid dose three steps up: the study's grid is log-spaced from
    # 1e-4 ug/kg to 10 mg/kg (8 decades) in N doses
    import re

    d0, d1 = float(text0.split()[0]), float(text1.split()[0])
    n = int(re.search(r"of (\d+)", text1).group(1))
    assert d1 / d0 == pytest.approx(1e8 ** (3 / (n - 1)), rel=0.01)
    assert not browser.execute_script(  # nothing fetched from a network
        "return performance.getEntriesByType('resource').filter("
        "function(e) { return !e.name.startsWith('file:') && !e.name.startsWith('data:'); })"
        ".map(function(e) { return e.name; })")
