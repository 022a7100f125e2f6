"Analysis: run folders from anywhere, the explorer driven through its widgets, models rebuilt from runs, study notebooks under papermill."
import shutil, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch
import mlcstudy.analysis as A
from mlcstudy.config import TrainConfig
from mlcstudy.experiment import train

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    "Small coco-mini runs of the study's kinds: four single-positive losses and a Query2Label head"
    out = tmp_path_factory.mktemp("runs")
    specs = [{"loss": l, "epochs": 3} for l in ("an", "an_ls", "epr", "role", "ll_r")]
    specs.append({"head": "q2l", "recipe": "q2l", "loss": "asl", "labels": "full", "epochs": 3, "lr": 1e-3,
                  "head_params": {"hidden_dim": 64, "dim_feedforward": 128, "nheads": 2, "dec_layers": 2}})
    return out, A.study_runs(specs, out_dir=out)

def test_runs_copied_elsewhere_are_found_and_rebuilt(runs, tmp_path):
    out, made = runs
    q2l = made[-1]
    copied = tmp_path / "from-gpu" / "batch1" / q2l.name
    shutil.copytree(q2l.path, copied)
    found = A.find_runs(tmp_path)
    assert [r.name for r in found] == [q2l.name] and found[0].config["head"] == "q2l"
    model = A.load_model(found[0])
    test = A.run_test_set(found[0])
    with torch.no_grad():
        x = A._images(model, test, [0, 1], 224)
        probs, maps = A.attention(model, x)
    np.testing.assert_allclose(probs.numpy(), q2l.predictions["test_scores"][:2], atol=1e-5)   # the saved test scores
    assert len(maps) == 2 and maps[0].shape == (2, 80, 7, 7)
    torch.testing.assert_close(maps[0].sum((-1, -2)), torch.ones(2, 80))                      # attention over positions
    (copied / "predictions.npz").unlink()
    with pytest.raises(A.RunError, match="predictions.npz is missing"): A.load_run(copied)
    assert A.find_runs(tmp_path) == []

def test_finetuned_model_is_rebuilt_from_its_run(tmp_path, few_images):
    real = few_images
    cfg = TrainConfig(out_dir=str(tmp_path), run_name="ft", protocol="finetune", head="q2l", recipe="q2l", epochs=1,
                      img_size=64, batch_size=8, lr=1e-3, progress=False, head_params={"hidden_dim": 64, "nheads": 2})
    run = A.load_run(train(cfg, log=lambda m: None))
    model = A.load_model(run)
    test = real(run.train_config).test.subset(range(16))
    probs, _ = A.attention(model, A._images(model, test, range(4), 64))
    np.testing.assert_allclose(probs.numpy(), run.predictions["test_scores"][:4], atol=1e-5)

def test_explorer_widgets_drive_table_and_figure(runs):
    _, made = runs
    ex = A.APExplorer(made[:2])
    ex.widget()
    table_ap, data_ap = ex.out_table.value, ex.figure_data()
    ex.w_sort.value = "train frequency"                                         # as a click on the toggle does
    assert ex.out_table.value != table_ap
    assert ex.figure_data()["bar_label"] == "train count" and ex.figure_data()["bar_classes"][0] == "person"
    assert "person" in ex.out_table.value.split("<tbody>")[1].split("</tr>")[0]
    ex.w_sort.value = "AP gain (A - B)"                                          # needs run B: falls back to AP
    assert ex.w_sort.value == "AP" and ex.sort_by == "AP"
    ex.w_b.value = made[1].name; ex.w_sort.value = "AP gain (A - B)"
    gain = ex.table()["AP gain (A - B)"].dropna()
    assert gain.is_monotonic_increasing and set(ex.figure_data()["scatter"]) == {made[0].name, made[1].name}
    ex.w_class.value = "dog"
    assert "class: dog" in ex.info.value and "AP (VOC) (A)" in ex.info.value and "AP (B)" in ex.info.value
    info = ex.class_info()
    assert info["train count"] == int(made[0].predictions["train_labels"][:, ex.classes.index("dog")].sum())
    assert data_ap["bar_values"][0] <= data_ap["bar_values"][1]

def test_probability_groups_partition_the_training_entries(runs):
    _, made = runs
    role = next(r for r in made if r.loss == "role")
    for source in ("model", "estimator"):
        g = A.probability_groups(role, source)
        assert sum(len(v) for v in g.values()) == role.predictions["train_labels"].size
    with pytest.raises(A.RunError, match="no ROLE estimates"): A.probability_groups(made[0], "estimator")
    t = A.probability_table(made[:4])
    assert list(t.index) == ["an", "an_ls", "epr", "role", "role (estimator g)"]
    assert (t["recovery AP"] > t["hidden share of unknowns (chance AP)"]).loc[["an", "epr"]].all()

@pytest.mark.slow
@pytest.mark.parametrize("nb,params", [
    ("study_unobserved.ipynb", []), ("study_attention.ipynb", ["-p", "images", "0,1"]),
    ("explorer.ipynb", []), ("paper_tables.ipynb", [])])
def test_study_notebooks_under_papermill_with_a_runs_folder(runs, tmp_path, nb, params):
    out, made = runs
    env_out = tmp_path / f"out-{nb}"
    subprocess.run([sys.executable, "-m", "papermill", str(ROOT / "nbs" / nb), str(env_out), "-p", "runs_dir", str(out),
                    *params, "--cwd", str(ROOT / "nbs")], check=True, capture_output=True, timeout=600)
    text = env_out.read_text()
    assert "Traceback" not in text
    shown = (lambda m: str(round(m, 1))) if nb == "paper_tables.ipynb" else (lambda m: f"{m:.6f}")   # as the tables print it
    assert any(shown(r.metrics["test_map"]) in text for r in made)                # it shows the given runs' test mAP
    if nb == "study_attention.ipynb": assert "pointing game accuracy" in text
    if nb == "paper_tables.ipynb": assert "no matching run" in text and "not comparable" in text

Q2L_TINY = {"hidden_dim": 32, "dim_feedforward": 64, "nheads": 2, "dec_layers": 1}

def test_a_run_with_frozen_stages_is_rebuilt_from_its_weights_source(tmp_path, few_images):
    "Query2Label's way (conv stem and first stages frozen, frozen BatchNorm): the checkpoint leaves the frozen tensors out"
    from mlcstudy.backbones import Backbone
    real = few_images
    weights = tmp_path / "lite0.pth"
    torch.save(Backbone("tf_efficientnet_lite0", pretrained=True).body.state_dict(), weights)
    cfg = TrainConfig(out_dir=str(tmp_path), run_name="frozen", protocol="finetune", head="q2l", recipe="q2l", loss="asl",
                      labels="full", freeze="blocks.1", frozen_bn=True, weights=str(weights), epochs=1, img_size=64,
                      batch_size=8, lr=1e-3, progress=False, head_params=Q2L_TINY)
    run = A.load_run(train(cfg, log=lambda m: None))
    saved = torch.load(run.path / "checkpoint-finetune.pt", weights_only=False)["state"]["best"]["model"]
    assert not any(k.startswith("backbone.body.conv_stem") for k in saved)              # the frozen stem is not in it
    model = A.load_model(run)
    test = real(run.train_config).test.subset(range(16))
    probs, maps = A.attention(model, A._images(model, test, range(4), 64))
    np.testing.assert_allclose(probs.numpy(), run.predictions["test_scores"][:4], atol=1e-5)
    assert maps[0].shape == (4, 80, 2, 2)
    other = torch.load(weights); other["conv_stem.weight"] += 0.01; torch.save(other, weights)
    with pytest.raises(A.RunError, match=r"frozen tensors of checkpoint-finetune.pt come from weights='.*lite0.pth', but those "
                                         r"weights are not the ones the run trained with"):
        A.load_model(run)
    weights.unlink()
    with pytest.raises(A.RunError, match=r"come from weights='.*lite0.pth', which cannot be loaded"): A.load_model(run)

def test_a_linear_run_names_backbone_weights_that_changed(tmp_path):
    from mlcstudy.backbones import Backbone
    weights = tmp_path / "lite0.pth"
    torch.save(Backbone("tf_efficientnet_lite0", pretrained=True).body.state_dict(), weights)
    run = A.load_run(train(TrainConfig(out_dir=str(tmp_path), run_name="lin", weights=str(weights), epochs=1, loss="an",
                                       progress=False), log=lambda m: None))
    assert A.load_model(run).head.fc.weight.shape == (80, 1280)
    other = torch.load(weights); other["conv_stem.weight"] *= 2; torch.save(other, weights)
    with pytest.raises(A.RunError, match=r"the backbone's weights .* are not the ones the run trained with"): A.load_model(run)

@pytest.mark.slow
def test_train_and_study_attention_run_to_their_end_on_a_frozen_stage_run(tmp_path):
    "The README's Query2Label path at a tiny size: train.ipynb (its last cell draws attention) and study_attention.ipynb"
    out = tmp_path / "runs"
    params = ["-p", "protocol", "finetune", "-p", "head", "q2l", "-p", "recipe", "q2l", "-p", "loss", "asl", "-p", "labels", "full",
              "-p", "freeze", "blocks.1", "-p", "frozen_bn", "True", "-p", "epochs", "1", "-p", "img_size", "64", "-p", "batch_size", "32",
              "-p", "head_params", '{"hidden_dim": 32, "dim_feedforward": 64, "nheads": 2, "dec_layers": 1}',
              "-p", "out_dir", str(out), "-p", "run_name", "q2l-frozen"]
    for nb, extra in (("train.ipynb", params), ("study_attention.ipynb", ["-p", "runs_dir", str(out), "-p", "images", "0,1"])):
        r = subprocess.run([sys.executable, "-m", "papermill", str(ROOT / "nbs" / nb), str(tmp_path / nb), *extra,
                            "--cwd", str(ROOT / "nbs")], capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-2000:]
    assert "pointing game accuracy" in (tmp_path / "study_attention.ipynb").read_text()
    assert "Missing key" not in (tmp_path / "train.ipynb").read_text()
