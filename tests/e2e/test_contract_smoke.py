"""The shared contract smoke check (shared/contract_smoke.py, from the project's steering folder) against the e2e shop."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLACES = (REPO.parent / "shared" / "contract_smoke.py", REPO / "shared" / "contract_smoke.py")


def test_the_shared_contract_smoke_check_passes(shop):
    smoke = next((p for p in PLACES if p.exists()), None)
    # a missing check is a failure, never a pass: the contract would go unchecked without anyone noticing
    assert smoke is not None, f"the contract smoke check is missing; looked in {', '.join(map(str, PLACES))}"
    env = {**os.environ, "SHOP_ADMIN_EMAIL": shop.admin_email, "SHOP_ADMIN_PASSWORD": shop.admin_password}
    result = subprocess.run([sys.executable, str(smoke), shop.base_url], env=env, text=True,
                            capture_output=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
