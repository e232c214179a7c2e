"""The storefront and staff console in real Chromium (frontend/e2e/run.mjs), against the e2e shop's gateway."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "frontend" / "e2e" / "run.mjs"
ARTIFACTS = REPO / "test-artifacts" / "browser"


def test_customer_and_staff_journeys_pass_in_chromium(shop, tmp_path):
    assert RUNNER.exists(), "frontend/e2e/run.mjs is missing"
    assert shutil.which("node"), "node is required for the browser tests"
    assert (REPO / "frontend" / "dist" / "index.html").exists(), "build the frontend first (make test does)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    results_file = tmp_path / "journeys.json"
    env = {**os.environ, "SHOP_BASE_URL": shop.base_url, "SHOP_ADMIN_EMAIL": shop.admin_email,
           "SHOP_ADMIN_PASSWORD": shop.admin_password, "SCREENSHOT_DIR": str(ARTIFACTS),
           "SHOP_MAILBOX_URL": f"http://127.0.0.1:{shop.env['SHOP_MAILBOX_PORT']}", "RESULTS_FILE": str(results_file),
           "RABBITMQ_URL": shop.env["RABBITMQ_URL"]}  # the operations journey publishes a poison event there
    env.pop("E2E_ONLY", None)  # every journey, always
    result = subprocess.run(["node", str(RUNNER)], cwd=REPO / "frontend", env=env, text=True,
                            capture_output=True, timeout=600)
    output = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    journeys = json.loads(results_file.read_text())["journeys"]
    # every journey the runner declares ran, and each one passed
    declared = re.findall(r'^journey\("([^"]+)"', RUNNER.read_text(), flags=re.MULTILINE)
    assert declared and [j["name"] for j in journeys] == declared, output
    assert [j["name"] for j in journeys if not j["ok"]] == [], output
    assert any(ARTIFACTS.glob("*.png")), "the runner saved no screenshots"
