"""GET / in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by Selenium uploads a
fixture through the page's file picker, waits for the bars, and checks that the labels are /classify's for the
same image. The screenshot is saved (SCREENSHOT_DIR, default the test's tmp dir); docs/web-page.png is one."""
import json
import os
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness import ServiceProcess, fixture

IMAGE = fixture("images/cat-444.jpg")


@pytest.fixture(scope="module")
def service(binary):
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"))
    yield process
    assert process.stop() == 0


def chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,760"):
        options.add_argument(argument)
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=ChromeService(executable_path=driver_path), options=options)


def test_root_answers_json_to_non_browsers(service):
    status, headers, body = service.get("/")
    assert status == 200 and headers["Content-Type"] == "application/json"
    document = json.loads(body)
    assert document["status"] == "alive" and "classify" in document["endpoints"]


def test_page_classifies_an_upload_like_classify(service, tmp_path):
    status, _, body = service.post("/classify?top_k=5", IMAGE.read_bytes())
    assert status == 200
    expected = [p["label"] for p in json.loads(body)["predictions"]]

    driver = chromium()
    try:
        driver.get(f"http://127.0.0.1:{service.port}/")
        assert driver.title == "seresnet"
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_element(By.ID, "state").text == "ready")
        wait.until(lambda d: d.find_element(By.ID, "model").text not in ("…", "not loaded"))
        driver.find_element(By.ID, "file").send_keys(str(IMAGE))
        wait.until(lambda d: d.find_element(By.ID, "bars").get_attribute("data-done") == "true")
        labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#bars .bar .name")]
        assert labels == expected
        assert driver.find_element(By.ID, "error").text == ""
        assert "inference" in driver.find_element(By.ID, "timing").text
        assert driver.find_element(By.ID, "model").text == "seresnet50_tiny_test.random_test_weights"
        directory = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
        directory.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(directory / "web-page.png"))
    finally:
        driver.quit()


def test_page_overlays_the_heat_map_when_asked(service, tmp_path):
    status, _, body = service.post(f"/v1/models/seresnet50_tiny_test.random_test_weights:explain",
                                   json.dumps({"instances": [{"image": {"b64": __import__("base64").b64encode(
                                       IMAGE.read_bytes()).decode()}}]}).encode())
    assert status == 200
    crop = json.loads(body)["explanations"][0]["crop"]

    driver = chromium()
    try:
        driver.get(f"http://127.0.0.1:{service.port}/")
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_element(By.ID, "model").text not in ("…", "not loaded"))
        driver.find_element(By.ID, "explain").click()
        driver.find_element(By.ID, "file").send_keys(str(IMAGE))
        wait.until(lambda d: d.find_element(By.ID, "heat").get_attribute("data-done") == "true")
        wait.until(lambda d: d.find_element(By.ID, "bars").get_attribute("data-done") == "true")
        heat = driver.find_element(By.ID, "heat")
        assert heat.get_attribute("src").startswith("blob:") and heat.is_displayed()
        # The overlay covers the crop's part of the shown photo (451×300 here), to the pixel.
        photo = driver.find_element(By.ID, "preview")
        natural = driver.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", photo)
        scale = photo.rect["width"] / natural[0]
        assert abs(heat.rect["x"] - photo.rect["x"] - crop["x"] * scale) < 1.5
        assert abs(heat.rect["width"] - crop["width"] * scale) < 1.5
        assert abs(heat.rect["height"] - crop["height"] * photo.rect["height"] / natural[1]) < 1.5
        # The browser decoded the PNG: its natural size is the model input's.
        assert driver.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", heat) == [224, 224]
        assert driver.find_element(By.ID, "error").text == ""
        # Unticked, the overlay goes.
        driver.find_element(By.ID, "explain").click()
        wait.until(lambda d: not d.find_element(By.ID, "heat").is_displayed())
        driver.find_element(By.ID, "explain").click()
        wait.until(lambda d: d.find_element(By.ID, "heat").get_attribute("data-done") == "true")
        directory = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
        directory.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(directory / "web-page-explain.png"))
    finally:
        driver.quit()
