"""The shared contract smoke check (shared/contract_smoke.py, from the project's steering folder) against the e2e shop."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMOKE = next((p for p in (REPO.parent / "shared" / "contract_smoke.py", REPO / "shared" / "contract_smoke.py")
              if p.exists()), None)


@pytest.mark.skipif(SMOKE is None, reason="shared/contract_smoke.py is not beside the repository")
def test_the_shared_contract_smoke_check_passes(shop):
    env = {**os.environ, "SHOP_ADMIN_EMAIL": shop.admin_email, "SHOP_ADMIN_PASSWORD": shop.admin_password}
    result = subprocess.run([sys.executable, str(SMOKE), shop.base_url], env=env, text=True,
                            capture_output=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
