"""``frsearch serve`` in a real headless browser: Debian's chromium driven by Selenium.

The browser is the system's (``/usr/bin/chromium`` and ``/usr/bin/chromedriver``,
installed by ``.ci/run`` when missing); Selenium is given the driver's path, so it never
downloads one. These tests skip, saying so, only when that browser is not installed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest

import frsearch
from tests.serve_support import HOSTILE_NAME, PAGED_DOCS, PAGED_WORD, build_index, running_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)",
    ),
    pytest.mark.slow,
]

FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
).split()


def start_browser(javascript: bool = True, size: tuple[int, int] = (1100, 900)) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="frsearch-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    driver.profile_dir = profile
    return driver


def stop_browser(driver: Any) -> None:
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve-browser")
    build_index(root)
    return root


@pytest.fixture(scope="module")
def base(site: Path) -> Iterator[str]:
    with frsearch.Index.open(site / "index") as index, running_server(index) as server:
        yield server.url.rstrip("/")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = start_browser()
    yield driver
    stop_browser(driver)


def wait(driver: Any, condition: Any, timeout: float = 10) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def status(driver: Any) -> str:
    # Read in one script call: the script may replace the element between two WebDriver calls.
    return str(driver.execute_script("const s = document.getElementById('status'); return s ? s.innerText : ''"))


def type_query(driver: Any, text: str, enter: bool = False) -> None:
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element("id", "q")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text + (Keys.ENTER if enter else ""))


def pwned(driver: Any) -> Any:
    return driver.execute_script("return window.pwned === undefined ? null : String(window.pwned)")


def no_alert(driver: Any) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert.text
    except NoAlertPresentException:
        return True
    return False


def test_typing_shows_highlighted_hits_then_pages(browser: Any, base: str) -> None:
    browser.get(base + "/")
    assert browser.find_element("tag name", "html").get_attribute("lang") == "fr"
    assert status(browser) == "Tapez des mots à chercher dans vos documents."
    type_query(browser, "Lei Jun blacklist")  # no Enter: search as you type
    wait(browser, lambda d: "documents — résultats 1 à" in status(d))
    marks = [m.text for m in browser.find_elements("css selector", ".hit .snippet mark")]
    assert "Lei Jun" in marks and "blacklisting" in marks
    assert browser.current_url.endswith("/?q=Lei%20Jun%20blacklist")
    # Scores on demand.
    score = browser.find_element("css selector", ".hit .score")
    assert not score.is_displayed()
    browser.find_element("id", "scores").click()
    assert score.is_displayed() and score.text.startswith("score ")
    # Three pages of ten.
    type_query(browser, PAGED_WORD, enter=True)
    wait(browser, lambda d: status(d) == f"{PAGED_DOCS} documents — résultats 1 à 10")
    browser.find_element("css selector", '.pager a[rel="next"]').click()
    wait(browser, lambda d: status(d) == f"{PAGED_DOCS} documents — résultats 11 à 20")
    assert len(browser.find_elements("css selector", ".hit")) == 10
    browser.find_element("css selector", '.pager a[data-page="3"]').click()
    wait(browser, lambda d: status(d) == f"{PAGED_DOCS} documents — résultats 21 à 25")
    assert "page=3" in browser.current_url
    browser.back()
    wait(browser, lambda d: status(d) == f"{PAGED_DOCS} documents — résultats 11 à 20")
    # Filters: a sort and a file type.
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "sort")).select_by_value("path")
    wait(browser, lambda d: status(d) == f"{PAGED_DOCS} documents — résultats 1 à 10"
         and "recette_00.md" in d.find_element("css selector", ".hit .path").text)
    Select(browser.find_element("id", "type")).select_by_value("txt")
    wait(browser, lambda d: status(d) == "Aucun document trouvé.")


def test_following_the_suggestion(browser: Any, base: str) -> None:
    browser.get(base + "/")
    type_query(browser, "gouvernemnet chinois", enter=True)
    link = wait(browser, lambda d: d.find_elements("id", "suggestion"))[0]
    assert link.text == "gouvernement chinois"
    assert link.find_element("xpath", "..").text == "Vouliez-vous dire gouvernement chinois ?"
    link.click()
    wait(browser, lambda d: d.find_element("id", "q").get_attribute("value") == "gouvernement chinois"
         and not d.find_elements("id", "suggestion") and "résultats 1 à" in status(d))
    assert "gouvernement" in [m.text for m in browser.find_elements("css selector", ".hit mark")]


def test_document_view_jumps_between_matches(browser: Any, base: str) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.get(base + "/?q=" + quote("États-Unis"))
    first = browser.find_element("css selector", ".hit h2 a")
    title = first.text
    first.click()
    wait(browser, lambda d: d.find_elements("id", "text"))
    assert browser.find_element("tag name", "h1").text == title
    marks = browser.find_elements("css selector", "#text mark")
    assert len(marks) >= 3 and {m.text for m in marks} == {"États-Unis"}
    position = browser.find_element("id", "position")
    assert position.text == f"{len(marks)} occurrences"
    body = browser.find_element("tag name", "body")
    body.send_keys("n")
    wait(browser, lambda d: position.text == f"Occurrence 1 sur {len(marks)}")
    assert "current" in marks[0].get_attribute("class")
    body.send_keys("n")
    wait(browser, lambda d: "current" in marks[1].get_attribute("class"))
    assert "current" not in marks[0].get_attribute("class") and browser.current_url.endswith("#m2")
    browser.find_element("id", "prev").click()
    wait(browser, lambda d: position.text == f"Occurrence 1 sur {len(marks)}")
    body.send_keys("p")  # wraps round to the last
    wait(browser, lambda d: position.text == f"Occurrence {len(marks)} sur {len(marks)}")
    in_view = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight;", marks[-1])
    assert in_view
    # Metadata and the original file.
    meta = browser.find_element("css selector", ".docmeta").text
    assert "Chemin" in meta and "Taille" in meta and "Modifié le" in meta
    browser.find_element("id", "original").click()
    wait(browser, lambda d: "/file?id=" in d.current_url)
    assert "Xiaomi" in browser.find_element("tag name", "body").text
    browser.back()
    browser.find_element("css selector", ".back").send_keys(Keys.ENTER)
    wait(browser, lambda d: d.find_elements("css selector", ".hit"))


def test_keyboard_alone(browser: Any, base: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.get(base + "/")
    browser.find_element("tag name", "body").click()
    browser.execute_script("document.activeElement.blur()")
    ActionChains(browser).send_keys("/").perform()
    assert browser.switch_to.active_element.get_attribute("id") == "q"
    ActionChains(browser).send_keys("xiaomi", Keys.ENTER).perform()
    wait(browser, lambda d: "résultats 1 à" in status(d))
    ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
    links = browser.find_elements("css selector", ".hit h2 a")
    assert browser.switch_to.active_element == links[0]
    ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
    assert browser.switch_to.active_element == links[1]
    ActionChains(browser).send_keys(Keys.ARROW_UP, Keys.ARROW_UP).perform()
    assert browser.switch_to.active_element.get_attribute("id") == "q"
    # Tab reaches the filters, the help panel opens with Enter, and a hit opens with Enter.
    ActionChains(browser).send_keys(Keys.TAB, Keys.TAB, Keys.TAB, Keys.TAB, Keys.TAB, Keys.TAB).perform()
    assert browser.switch_to.active_element.tag_name == "summary"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert browser.find_element("id", "help").get_attribute("open") is not None
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element == links[0]
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser, lambda d: d.find_elements("id", "text"))


def test_hostile_documents_run_nothing(browser: Any, base: str, site: Path) -> None:
    browser.get(base + "/")
    type_query(browser, "piège", enter=True)
    wait(browser, lambda d: "résultats 1 à" in status(d))
    titles = [t.text for t in browser.find_elements("css selector", ".hit h2")]
    assert "<script>window.pwned = 'title'</script> Piège dans le titre" in titles
    assert any("<img src=x onerror=alert(1)>.txt" in p.text for p in browser.find_elements("css selector", ".path"))
    assert pwned(browser) is None and no_alert(browser)
    # The same results rendered by the server.
    browser.get(base + "/?q=pi%C3%A8ge")
    assert "<script>window.pwned = 'title'</script> Piège dans le titre" in [
        t.text for t in browser.find_elements("css selector", ".hit h2")]
    assert pwned(browser) is None and no_alert(browser)
    # The document itself: its markup is text, its javascript: link is not a link.
    browser.get(base + "/doc?id=" + quote(str(site / "docs" / "hostile" / "piege.txt")) + "&q=pi%C3%A8ge")
    text = browser.find_element("id", "text").text
    assert "<img src=x onerror=\"window.pwned = 'onerror'\">" in text and "<svg onload=" in text
    assert not browser.find_elements("css selector", "#text a, #text img, #text svg, #text script, #text iframe")
    assert pwned(browser) is None and no_alert(browser)
    browser.get(base + "/doc?id=" + quote(str(site / "docs" / "hostile" / HOSTILE_NAME)))
    assert pwned(browser) is None and no_alert(browser)
    # The original HTML file opens in a sandbox: its own scripts do not run.
    browser.get(base + "/file?id=" + quote(str(site / "docs" / "hostile" / "page.html")))
    assert browser.find_element("tag name", "h1").text == "Page piégée"
    assert browser.title == "Page piégée" and no_alert(browser)


def test_inline_script_is_refused_by_the_policy(browser: Any, base: str) -> None:
    # Even markup that reached the page would not run: the CSP refuses inline script.
    browser.get(base + "/")
    ran = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const s = document.createElement('script');
        s.textContent = 'window.inlineRan = true';
        document.body.appendChild(s);
        const img = document.createElement('img');
        img.setAttribute('onerror', 'window.inlineRan = true');
        img.src = 'data:,';
        document.body.appendChild(img);
        setTimeout(() => done(window.inlineRan === true), 300);
        """
    )
    assert ran is False


def test_phone_sized_window(base: str) -> None:
    driver = start_browser(size=(375, 740))
    try:
        driver.get(base + "/?q=" + quote("Lei Jun blacklist"))
        width = driver.execute_script("return document.documentElement.clientWidth")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        box = driver.find_element("id", "q").rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert driver.find_elements("css selector", ".hit mark")
        driver.get(base + "/doc?id=" + quote(driver_first_id(base)))
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
    finally:
        stop_browser(driver)


def driver_first_id(base: str) -> str:
    import json
    import urllib.request

    with urllib.request.urlopen(base + "/api/search?q=xiaomi&limit=1", timeout=10) as answer:
        return str(json.load(answer)["hits"][0]["id"])


def test_javascript_off_still_shows_results(base: str) -> None:
    driver = start_browser(javascript=False)
    try:
        driver.get(base + "/")
        box = driver.find_element("id", "q")
        box.send_keys("Lei Jun blacklist\n")
        wait(driver, lambda d: "documents — résultats 1 à" in status(d))
        assert "Lei Jun" in [m.text for m in driver.find_elements("css selector", ".hit mark")]
        driver.get(base + f"/?q={PAGED_WORD}")
        driver.find_element("css selector", '.pager a[rel="next"]').click()
        wait(driver, lambda d: status(d) == f"{PAGED_DOCS} documents — résultats 11 à 20")
        driver.find_element("css selector", ".hit h2 a").click()
        wait(driver, lambda d: d.find_elements("id", "text"))
        assert driver.find_elements("css selector", "#text mark")
        assert not driver.find_element("id", "next").is_displayed()  # buttons need the script
        driver.find_element("link text", "1").click()  # the links that stand in for them
        assert driver.current_url.endswith("#m1")
    finally:
        stop_browser(driver)
