from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# One pytest process builds hundreds of models, from lite0 to Swin-L and CvT-W24, one after another: it keeps glibc's
# own allocator settings, so that its memory follows what each test holds (and so do the processes it starts).
# The setting that runs apply by default (backbones.keep_freed_memory) is tested in nbs/03_backbones.ipynb.
import os
os.environ.setdefault("MLCSTUDY_MALLOC", "system")

@pytest.fixture(scope="session", autouse=True)
def runs_elsewhere(tmp_path_factory):
    "Every run of the tests (papermill's too, through the environment) goes under pytest's tmp dir, never into data/runs"
    import os
    old = os.environ.get("MLCSTUDY_RUNS")
    os.environ["MLCSTUDY_RUNS"] = str(tmp_path_factory.mktemp("default-runs"))
    yield
    if old is None: os.environ.pop("MLCSTUDY_RUNS", None)
    else: os.environ["MLCSTUDY_RUNS"] = old

@pytest.fixture(scope="session")
def root(): return ROOT

@pytest.fixture(scope="session")
def coco2k():
    "The coco-2k benchmark set beside the project (not embedded)"
    p = SHARED / "data" / "coco-2k"
    if not (p / "labels.csv").exists(): pytest.skip(f"coco-2k (1,907 COCO images, not in the repository) not found at {p}")
    return p

@pytest.fixture
def few_images(monkeypatch):
    "Training on coco-mini cut to 24 train, 16 val and 16 test images (for image-level protocols on a CPU)"
    import mlcstudy.experiment as E
    real = E.prepare_data
    def few(cfg):
        d = real(cfg)
        d.train, d.obs_train = d.train.subset(range(24)), d.obs_train[:24]
        d.val, d.y_val, d.test = d.val.subset(range(16)), d.y_val[:16], d.test.subset(range(16))
        return d
    monkeypatch.setattr(E, "prepare_data", few)
    return real

def cxx_available() -> bool:
    "torch.compile on the CPU needs a C++ compiler; under CI (CI=true) its absence fails the test"
    import os, shutil
    found = bool(shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++"))
    if not found and os.environ.get("CI"): pytest.fail("no C++ compiler: the compiled ROLE step must be tested in CI")
    return found

def run_main(main, args, capsys) -> tuple:
    """A command line's `main(args)` in this process: (exit code, stderr) as the process would end. One test per
    command line still runs it as a process (its exit code and traceback-free stderr from the interpreter itself)"""
    try: main(list(args)); code = 0
    except SystemExit as e: code = e.code
    err = capsys.readouterr().err
    if isinstance(code, str): err, code = err + code + "\n", 1          # sys.exit(message): printed, exit status 1
    return code or 0, err
