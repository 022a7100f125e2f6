from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

@pytest.fixture(scope="session")
def root(): return ROOT

@pytest.fixture(scope="session")
def coco2k():
    "The coco-2k benchmark set beside the project (not embedded)"
    p = SHARED / "data" / "coco-2k"
    if not (p / "labels.csv").exists(): pytest.skip(f"coco-2k not found at {p}")
    return p
