"""The page in headless Chromium (Debian's, driven by selenium through chromium-driver): upload an image,
watch the answer grow as it streams, classify and compare with the API, and see model output and reports
stay inert. Skips only where Chromium or its driver is absent (`make browser` installs both)."""

from __future__ import annotations

import shutil

import pytest
from serve_stubs import SCRIPT, png, stub_loaders, tiny_config

from steervis.errors import SteervisError
from steervis.serve.app import create_app
from steervis.serve.config import ServeConfig
from steervis.serve.load import call, serving

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
ABSENT = "Debian's chromium and chromium-driver are not installed (`make browser`)"
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason=ABSENT)
WAIT = 240  # seconds for the tiny models to load on a busy two-core machine


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    yield driver
    driver.quit()


def wait(driver, script: str, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(script))


def upload(driver, path) -> str:
    driver.find_element("id", "file").send_keys(str(path))
    return wait(driver, "return window.steervis.image")


@pytest.mark.slow  # Chromium plus three tiny models: about a minute on two cores
def test_the_page_chats_streaming_and_classifies_as_the_api_does(browser, home, runs_root, tmp_path):
    image = tmp_path / "red.png"
    image.write_bytes(png((48, 40), (210, 40, 40)))
    with serving(create_app(tiny_config(runs=str(runs_root)))) as base:
        browser.get(base)
        wait(browser, "return [...document.querySelectorAll('#models li')].every(li => "
                      "li.dataset.state === 'ready') && document.querySelectorAll('#models li').length === 3",
             WAIT)
        key = upload(browser, image)
        browser.execute_script("const t = document.getElementById('temperature'); t.value = '1';"
                               "t.dispatchEvent(new Event('input'));"
                               "document.getElementById('max-tokens').value = '24';")
        browser.find_element("id", "message").send_keys("What is in the picture?")
        browser.find_element("id", "send").click()
        meta = wait(browser, "return document.getElementById('chat-meta').textContent", 120)
        growth = browser.execute_script("return window.steervis.growth")
        answer = browser.execute_script("return document.querySelector('.answer:last-child').textContent")
        assert browser.find_element("id", "temperature-value").text == "1"
        assert "24 tokens" in meta and len(set(growth)) >= 3 and growth == sorted(growth)
        assert growth[-1] == len(answer)  # the answer grew over every piece before it ended

        browser.find_element("css selector", "[data-tab=classify]").click()
        classes = browser.find_element("id", "classes")
        classes.clear()
        classes.send_keys("red, green, blue")
        browser.find_element("id", "run-classify").click()
        wait(browser, "return document.querySelectorAll('#class-table tbody tr').length === 3")
        rows = browser.execute_script("return [...document.querySelectorAll('#class-table tbody tr')].map("
                                      "tr => [tr.cells[0].textContent, Number(tr.dataset.p)])")
        status, api = call(base, "POST", "/api/classify", {"image": key, "classes": ["red", "green", "blue"]})
        assert status == 200 and rows == [[row["name"], row["p"]] for row in api["classes"]]
        shot = tmp_path / "page.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_model_output_reports_and_bad_files_stay_inert_text(browser, runs_root, tmp_path):
    picture, bad = tmp_path / "ok.png", tmp_path / "notes.png"
    picture.write_bytes(png())
    bad.write_bytes(b"not an image at all")
    def not_built():
        raise SteervisError("No describer is built here: run `steervis setup`.")

    loaders = {**stub_loaders(pieces=["<img src=x onerror='window.pwned=2'>", SCRIPT]),
               "describe": (not_built, "conse")}
    with serving(create_app(ServeConfig(runs=str(runs_root)), loaders=loaders)) as base:
        browser.get(base)
        assert wait(browser, "return document.getElementById('notice').textContent") == (
            "describe: No describer is built here: run `steervis setup`.")
        failed = browser.find_element("css selector", "#models li[data-state=failed]")
        assert failed.text == "describe: failed"
        browser.find_element("id", "file").send_keys(str(bad))
        assert "notes.png is not a usable image" in wait(browser, "return document.getElementById('notice')"
                                                                   ".textContent")
        upload(browser, picture)
        browser.find_element("id", "message").send_keys("hi")
        browser.find_element("id", "send").click()
        wait(browser, "return document.getElementById('chat-meta').textContent")
        answer = browser.find_element("css selector", ".answer")
        assert answer.text == "<img src=x onerror='window.pwned=2'>" + SCRIPT
        assert not answer.find_elements("css selector", "*")  # text, not elements

        browser.find_element("css selector", "[data-tab=reports]").click()
        wait(browser, "return document.getElementById('runs').options.length === 3")
        browser.find_element("id", "run").send_keys("../elsewhere")
        browser.find_element("id", "open-run").click()
        notice = wait(browser, "return document.getElementById('notice').textContent")
        assert "outside the runs root" in notice
        browser.find_element("id", "run").clear()
        browser.find_element("id", "run").send_keys("dg-quick")
        browser.find_element("id", "open-run").click()
        wait(browser, "return document.getElementById('report').src.endsWith('/runs/dg-quick/report.html')")
        browser.switch_to.frame(browser.find_element("id", "report"))
        assert browser.find_element("tag name", "h1").text == "dg-quick"
        browser.switch_to.default_content()
        assert browser.execute_script("return window.pwned") is None  # no script of the answer or report ran
