"Paper presets: the official values, value by value; dry runs; the official backbone freezing; one step of each preset."
import json, subprocess, sys
from pathlib import Path
import pytest, torch
from mlcstudy.config import PRESETS, resolve
from mlcstudy.experiment import train
from mlcstudy.train import main

Q2L_OFFICIAL = {   # main_mlc.py and its README command
    "lr": 1e-4, "batch_size": 64, "epochs": 80, "img_size": 448, "weight_decay": 1e-2, "ema_decay": 0.9997, "patience": 8,
    "labels": "full", "protocol": "finetune", "recipe": "q2l", "head": "q2l", "loss": "asl", "backbone": "resnet101",
    "rows": "all", "freeze": "layer1", "frozen_bn": True,
    "head_params": {"hidden_dim": 2048, "dim_feedforward": 8192, "enc_layers": 1, "dec_layers": 2, "nheads": 4, "dropout": 0.1},
    "loss_params": {"gamma_neg": 2, "gamma_pos": 0, "clip": 0.0, "eps": 1e-5}}
COLE_OFFICIAL = {  # train.py, end_to_end
    "backbone": "resnet50", "img_size": 448, "batch_size": 8, "lr": 1e-5, "epochs": 10, "protocol": "finetune", "recipe": "cole",
    "head": "linear", "labels": "single", "rows": "annotated", "val_frac": 0.2, "label_seed": 1200, "val_labels": "clean",
    "freeze": None, "frozen_bn": False}

@pytest.mark.parametrize("name,expected", [
    ("q2l-r101-448", Q2L_OFFICIAL), ("q2l-r101-576", Q2L_OFFICIAL | {"img_size": 576}),
    ("q2l-tresnetl-448", Q2L_OFFICIAL | {"backbone": "tresnet_l", "freeze": None, "frozen_bn": False,
                                        "head_params": Q2L_OFFICIAL["head_params"] | {"hidden_dim": 2432}}),
    ("cole-an", COLE_OFFICIAL | {"loss": "an", "loss_params": {}}), ("cole-an_ls", COLE_OFFICIAL | {"loss": "an_ls", "loss_params": {"ls": 0.1}}),
    ("cole-wan", COLE_OFFICIAL | {"loss": "wan"}), ("cole-epr", COLE_OFFICIAL | {"loss": "epr", "loss_params": {}}),    # k: the data set's
    ("cole-role", COLE_OFFICIAL | {"loss": "role", "loss_params": {"lr_mult": 10}}),
    ("cole-role-linear-init", COLE_OFFICIAL | {"protocol": "linear_init", "loss": "role", "epochs": 25, "finetune_epochs": 10, "finetune_lr": 1e-5}),
    ("cole-linear", COLE_OFFICIAL | {"protocol": "linear", "loss": "role", "epochs": 25, "lr": 1e-4, "batch_size": 16}),
    # the other tables: the same recipes with each benchmark's splits and reader options
    ("q2l-r101-448-voc2007", Q2L_OFFICIAL | {"train_split": "trainval", "test_split": "test", "dataset_params": {"difficult": "positive"}}),
    ("q2l-tresnetl-448-voc2007", Q2L_OFFICIAL | {"backbone": "tresnet_l", "freeze": None, "frozen_bn": False, "train_split": "trainval",
                                                 "test_split": "test", "dataset_params": {"difficult": "positive"},
                                                 "head_params": Q2L_OFFICIAL["head_params"] | {"hidden_dim": 2432}}),
    ("cole-voc2012-an_ls", COLE_OFFICIAL | {"loss": "an_ls", "loss_params": {"ls": 0.1}, "train_split": "train", "test_split": "val", "dataset_params": {}}),
    ("cole-nuswide-role", COLE_OFFICIAL | {"loss": "role", "loss_params": {"lr_mult": 10}, "train_split": "train", "test_split": "test"}),
    ("cole-cub-role-linear-init", COLE_OFFICIAL | {"protocol": "linear_init", "loss": "role", "epochs": 25, "finetune_epochs": 10,
                                                   "train_split": "train", "test_split": "test", "rows": "all"}),
])
def test_preset_is_the_official_configuration(name, expected, capsys):
    data = [str(Path(__file__).parent / "fixtures" / "layouts" / "voc2007")] if "voc2007" in name else []   # its reader's options
    main(["--preset", name, *(["--dataset", *data] if data else []), "--dry_run"])   # as python -m mlcstudy.train prints it
    cfg = json.loads(capsys.readouterr().out)
    assert {k: cfg[k] for k in expected} == expected
    assert cfg["dataset"] == (data[0] if data else "coco-mini")   # no data set in a preset: the default until one is given

def test_a_preset_with_reader_options_needs_its_data_set():
    with pytest.raises(SystemExit, match="the reader of dataset 'coco-mini' takes no option 'difficult'"):
        main(["--preset", "q2l-r101-448-voc2007", "--dry_run"])

def test_given_parameters_override_a_preset_and_a_dry_run_does_no_work(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mlcstudy.train", "--preset", "q2l-r101-448", "--batch_size", "16", "--img_size", "224",
                        "--out_dir", str(tmp_path), "--dry_run"], capture_output=True, text=True, check=True)
    cfg = json.loads(r.stdout)
    assert (cfg["batch_size"], cfg["img_size"], cfg["lr"]) == (16, 224, 1e-4) and list(tmp_path.iterdir()) == []

def test_official_freezing_of_a_resnet():
    "Query2Label: conv1, bn1 and layer1 frozen, every BatchNorm frozen; Cole et al.: everything trains"
    from mlcstudy.heads import build_model
    q2l = build_model("resnet50", "linear", 80, freeze_upto=resolve("q2l-r101-448").freeze, frozen_bn=True).backbone.body
    frozen = {n.split(".")[0] for n, p in q2l.named_parameters() if not p.requires_grad}
    trains = {n.split(".")[0] for n, p in q2l.named_parameters() if p.requires_grad}
    assert frozen == {"conv1", "layer1"} and trains == {"layer2", "layer3", "layer4"}
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in q2l.modules()) and type(q2l.bn1).__name__ == "FrozenBatchNorm2d"
    cole = build_model("resnet50", "linear", 80, freeze_upto=resolve("cole-role").freeze).backbone.body
    assert all(p.requires_grad for p in cole.parameters()) and any(isinstance(m, torch.nn.BatchNorm2d) for m in cole.modules())

SMALL = {"weights": "random", "img_size": 64, "epochs": 1, "finetune_epochs": 1, "batch_size": 8, "progress": False}

FAST = ("cole-an", "cole-linear", "cole-role-linear-init")      # the others take the same paths with other losses or larger models
BENCHMARKS = {"voc2007": "voc2007", "voc2012": "voc2012", "nuswide": "nus-wide", "cub": "cub"}   # preset token: fixture folder
COCO_PRESETS = [n for n in PRESETS if not any(t in n for t in BENCHMARKS)]

def test_every_preset_of_another_benchmark_is_listed():
    "The other tables: 2 Query2Label VOC 2007 presets, 6 Cole et al. rows for each of VOC 2012, NUS-WIDE and CUB"
    others = [n for n in PRESETS if n not in COCO_PRESETS]
    assert len(others) == 20 and all(PRESETS[n]["test_split"] != "val" or "voc2012" in n for n in others)

@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in COCO_PRESETS])
def test_one_step_of_each_preset(name, tmp_path, few_images):
    "Each preset trains on a few coco-mini images at 64 px for one epoch (of each phase) and writes a finished run"
    small_head = {"head_params": {"hidden_dim": 64, "dim_feedforward": 128, "nheads": 4}} if name.startswith("q2l") else {}
    cfg = resolve(name, **SMALL, **small_head, out_dir=str(tmp_path), run_name=name)
    m = json.loads((train(cfg, log=lambda m: None) / "metrics.json").read_text())
    assert m["finished"] and all(len(h) == 1 for h in m["history"].values())
    ck = torch.load(tmp_path / name / f"checkpoint-{list(m['history'])[-1]}.pt", weights_only=False)
    if cfg.freeze:                                                  # frozen weights are not saved again, trained ones are
        assert "backbone.body.layer1.0.conv1.weight" not in ck["model"] and "backbone.body.layer2.0.conv1.weight" in ck["model"]

BENCHMARK_FAST = ("q2l-r101-448-voc2007", "cole-voc2012-an", "cole-nuswide-role", "cub-epr")

@pytest.mark.parametrize("name", [n if n.endswith(BENCHMARK_FAST) else pytest.param(n, marks=pytest.mark.slow)
                                  for n in PRESETS if n not in COCO_PRESETS])
def test_one_step_of_each_benchmark_preset(name, tmp_path):
    "Each preset of another table trains one epoch on its benchmark's fixture (the native layout), with its splits and k"
    from pathlib import Path
    import warnings
    fixture = Path(__file__).parent / "fixtures" / "layouts" / next(f for t, f in BENCHMARKS.items() if t in name)
    small_head = {"head_params": {"hidden_dim": 64, "dim_feedforward": 128, "nheads": 4}} if name.startswith("q2l") else {}
    cfg = resolve(name, **SMALL, **small_head, dataset=str(fixture), out_dir=str(tmp_path), run_name=name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                         # the fixtures' splits are small on purpose
        m = json.loads((train(cfg, log=lambda m: None) / "metrics.json").read_text())
    assert m["finished"] and all(len(h) == 1 for h in m["history"].values())
    if cfg.loss in ("epr", "role"): assert m["loss_hparams"]["k"] == {"voc2012": 1.5, "nuswide": 1.9, "cub": 31.4}[fixture.name.replace("-", "")]

def test_precision(tmp_path):
    "bf16 autocast on the CPU when asked; fp32 (and the fast linear step) otherwise; CUDA's choice is bf16, else fp16"
    from mlcstudy.loop import amp_dtype
    assert amp_dtype(resolve(precision="bf16"), "cpu") == torch.bfloat16 and amp_dtype(resolve("q2l-r101-448"), "cpu") is None
    assert amp_dtype(resolve("q2l-r101-448", precision="fp32"), "cuda") is None
    cfg = resolve(head="q2l", recipe="q2l", loss="asl", labels="full", epochs=2, precision="bf16", progress=False, out_dir=str(tmp_path),
                  head_params={"hidden_dim": 64, "dim_feedforward": 128, "nheads": 4})
    m = json.loads((train(cfg, log=lambda m: None) / "metrics.json").read_text())
    assert m["finished"] and 0 < m["test_map"] < 100
