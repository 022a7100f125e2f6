"python -m mlcstudy.predict: a run or a released checkpoint on a folder of images, as the README shows it."
import argparse, shutil, subprocess, sys
import numpy as np, pandas as pd, pytest, torch
from mlcstudy.config import TrainConfig
from mlcstudy.data import load_embedded
from mlcstudy.experiment import train
from conftest import SHARED, run_main

@pytest.fixture(scope="module")
def run_and_images(tmp_path_factory):
    d = tmp_path_factory.mktemp("predict")
    run = train(TrainConfig(epochs=2, out_dir=str(d), run_name="r", progress=False), log=lambda m: None)
    photos = d / "photos"; photos.mkdir()
    val = load_embedded("coco-mini", "val")
    for p in val.paths[:3]: shutil.copy(p, photos)
    return run, photos, val

def test_the_readme_command_writes_probabilities_and_labels(run_and_images, tmp_path):
    run, photos, val = run_and_images
    out = tmp_path / "my_photos.csv"
    r = subprocess.run([sys.executable, "-m", "mlcstudy.predict", "--run", str(run), "--images", str(photos), "--out", str(out),
                        "--threshold", "val", "--progress", "false"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out)
    table, saved = pd.read_csv(out), np.load(run / "predictions.npz")
    assert list(table.columns) == ["path", *saved["classes"], "labels"] and len(table) == 3
    rows = [list(saved["test_image_ids"]).index(i) for i in sorted(val.image_ids[:3], key=lambda i: f"{i:012d}")]
    np.testing.assert_allclose(table[saved["classes"]].to_numpy(), saved["test_scores"][rows], atol=1e-4)

def test_a_missing_image_is_one_line(run_and_images, tmp_path, capsys):
    from mlcstudy.predict import main
    run, photos, _ = run_and_images
    code, err = run_main(main, ["--run", str(run), "--images", f"{photos}/nope.jpg", "--out", str(tmp_path / "x.csv")], capsys)
    lines = err.strip().splitlines()         # (a warning another test's thread leaves on stderr may come first)
    assert code == 1 and lines[-1] == f"error: 1 of 1 images are missing: {photos}/nope.jpg" and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()

@pytest.mark.slow
def test_a_released_model_with_attention_overlays(run_and_images, tmp_path):
    "The README's second command, on the official R101-448 architecture rebuilt from the model-zoo fixtures"
    from mlcstudy.zoo import fixture_checkpoint
    fixtures = SHARED / "fixtures" / "q2l-zoo"
    if not (fixtures / "zoo.json").exists(): pytest.skip(f"the model-zoo fixtures are not at {fixtures}")
    _, photos, _ = run_and_images
    photo = sorted(photos.iterdir())[0]                                  # one image: a 448-px ResNet-101 takes a second
    ckpt = tmp_path / "Q2L-R101-448.pth"
    torch.save({"state_dict": fixture_checkpoint("q2l-r101-448", fixtures), "args": argparse.Namespace(img_size=448)}, ckpt)
    r = subprocess.run([sys.executable, "-m", "mlcstudy.predict", "--zoo", "q2l-r101-448", "--checkpoint", str(ckpt), "--images",
                        str(photo), "--out", str(tmp_path / "p.csv"), "--overlays", str(tmp_path / "attention")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(tmp_path / "p.csv")) == 1
    assert [p.stem for p in (tmp_path / "attention").glob("*.png")] == [photo.stem]
