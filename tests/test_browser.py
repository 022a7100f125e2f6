"""The per-class AP explorer in a real browser: JupyterLab headless on localhost, the explorer notebook opened and run in
Debian's Chromium driven by Playwright, a widget changed, the output checked, a screenshot saved.

Needs /usr/bin/chromium (Debian package `chromium`) and the `playwright` Python package (no browser download).
Skipped when either is missing, except under CI (CI=true), where it fails instead."""
import os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

def _missing():
    if not Path(CHROMIUM).exists(): return "chromium is not installed (apt-get install chromium)"
    try: import playwright.sync_api  # noqa: F401
    except ImportError: return "playwright is not installed (pip install playwright)"

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

@pytest.fixture
def lab(tmp_path):
    "JupyterLab on localhost serving a copy of the explorer notebook; yields its base URL and token"
    shutil.copy(ROOT / "nbs" / "explorer.ipynb", tmp_path / "explorer.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    env = os.environ | {"JUPYTER_CONFIG_DIR": str(tmp_path / ".jupyter"), "JUPYTER_RUNTIME_DIR": str(tmp_path / ".runtime")}
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--allow-root",
                             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "lab.log", "w"), env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1); break
        except Exception: time.sleep(0.5)
    else:
        proc.kill(); pytest.fail(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
    yield base, token
    proc.terminate()
    try: proc.wait(10)
    except subprocess.TimeoutExpired: proc.kill()

@pytest.mark.slow
def test_explorer_in_a_real_browser(lab, tmp_path):
    why = _missing()
    if why:
        if os.environ.get("CI"): pytest.fail(f"the browser test must run in CI: {why}")
        pytest.skip(why)
    from mlcstudy.analysis import study_runs
    study_runs([{"loss": "an", "epochs": 10}, {"loss": "role", "epochs": 10}], "explorer")   # the notebook's default runs
    from playwright.sync_api import sync_playwright
    base, token = lab
    SHOTS = tmp_path / "screenshots"                # pytest's tmp dir, never the project's data/runs
    SHOTS.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/explorer.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        try:                                  # JupyterLab may ask which kernel to start: take the proposed one
            page.click(".jp-Dialog .jp-mod-accept", timeout=10_000)
        except Exception: pass
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        # JupyterLab renders only the cells in view: wait for the table to exist, read its text from the DOM
        try: page.wait_for_selector("table.mlc-worst", state="attached", timeout=180_000)
        except Exception:
            page.screenshot(path=str(SHOTS / "explorer-failed.png"))
            errors = page.eval_on_selector_all(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                                               "es => es.map(e => e.textContent)")
            pytest.fail(f"the explorer's table did not appear (screenshot {SHOTS / 'explorer-failed.png'}); errors: {errors}")
        cell = "table.mlc-worst tbody tr:first-child th"
        first = lambda: page.eval_on_selector(cell, "e => e.textContent.trim()")
        before = first()
        page.click(".widget-toggle-button:has-text('train frequency')")
        page.wait_for_function(f"b => document.querySelector('{cell}').textContent.trim() != b", arg=before, timeout=60_000)
        after = first()
        page.screenshot(path=str(SHOTS / "explorer.png"), full_page=True)
        browser.close()
    assert before != after
    assert after == "person"              # sorted by training frequency, coco-mini's most frequent class comes first
