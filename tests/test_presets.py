"Paper presets: the official values, value by value; dry runs; the official backbone freezing; one step of each preset."
import json
from pathlib import Path
import numpy as np
import pytest, torch
from mlcstudy.config import PRESETS, resolve
from mlcstudy.experiment import train
from mlcstudy.train import main

# The official sources: SlongLiu/query2labels at 55eb050 (Q2L), elijahcole/single-positive-multi-label at 89152d5 (Cole),
# and the model-zoo fixtures (../shared/fixtures/q2l-zoo/zoo.json, build_args of each released model).
Q2L_OFFICIAL = {
    # README.md lines 49-60, the training command: main_mlc.py --lr 1e-4 --batch-size 64 --epochs 80 --img_size 448 ...
    "lr": 1e-4, "batch_size": 64, "epochs": 80, "img_size": 448, "weight_decay": 1e-2, "ema_decay": 0.9997, "patience": 8,
    "labels": "full", "protocol": "finetune", "recipe": "q2l", "head": "q2l", "loss": "asl", "rows": "all",
    "head_params": {"hidden_dim": 2048, "dim_feedforward": 8192, "enc_layers": 1, "dec_layers": 2, "nheads": 4, "dropout": 0.1},
    "loss_params": {"gamma_neg": 2, "gamma_pos": 0, "clip": 0.0, "eps": 1e-5},
    # lib/models/backbone.py lines 111-115: torchvision resnet101(pretrained=True), the V1 weights, with FrozenBatchNorm2d
    "backbone": "resnet101.tv_in1k", "weights": "imagenet", "frozen_bn": True,
    # lib/models/backbone.py lines 86-88: every parameter outside layer2-4 frozen (conv1, bn1, layer1)
    "freeze": "layer1",
    # lib/dataset/get_dataset.py lines 8-15: ImageNet mean and std unless --orid_norm (not in the command)
    "normalization": "imagenet",
    # get_dataset.py lines 39-50: trains on all of train2014, validates on val2014; main_mlc.py lines 358-395 select
    # (best of raw and EMA, early stop) on that validation, the split reported
    "val_frac": 0.0, "select_on": "test",
    "precision": "auto"}     # --amp: fp16 autocast + GradScaler on CUDA (main_mlc.py lines 443, 476, 534), see test_precision
TRESNET = {  # backbone.py lines 120-138: the MIIL checkpoint tresnet_l_448.pth (timm tresnet_l.miil_in1k_448), frozen as above
    "backbone": "tresnet_l.miil_in1k_448", "freeze": "body.layer1", "frozen_bn": False,
    "normalization": "none",   # zoo.json Q2L-TResL-448 build_args: orid_norm true
    "head_params": Q2L_OFFICIAL["head_params"] | {"hidden_dim": 2432, "dim_feedforward": 2432}}   # zoo.json: NCDICT 2432, ffn 2432
COLE_OFFICIAL = {  # train.py: end_to_end (lines 297-301), seeds and split (lines 281-287), models.py line 50: resnet50(pretrained=True)
    "backbone": "resnet50.tv_in1k", "img_size": 448, "epochs": 10, "protocol": "finetune", "recipe": "cole",
    "head": "linear", "labels": "single", "rows": "annotated", "val_frac": 0.2, "label_seed": 1200, "val_labels": "clean",
    "select_on": "val", "freeze": None, "frozen_bn": False,
    "normalization": "imagenet",                    # datasets.py lines 44-47, 60
    "lr": 1e-5, "batch_size": 16}                   # the study's selection on COCO from train.py's grid (lines 338-339)
LINEAR_PHASE = {  # train.py lines 241-254: lookup['linear_init_params'] (data set names: pascal -> voc)
    ("an_ls", "voc"): (1e-4, 8), ("an_ls", "coco"): (1e-4, 8), ("an_ls", "nuswide"): (1e-4, 16), ("an_ls", "cub"): (1e-4, 8),
    ("role", "voc"): (1e-3, 16), ("role", "coco"): (1e-3, 16), ("role", "nuswide"): (1e-3, 16), ("role", "cub"): (1e-3, 8)}
LINEAR_INIT = {"protocol": "linear_init", "epochs": 25, "finetune_epochs": 10,   # train.py lines 302-303, 349
               "finetune_lr": 1e-5, "finetune_batch_size": 16}                    # the study's fine-tuning selection on COCO

def _linear_init(loss, data):
    lr, bs = LINEAR_PHASE[loss, data]
    return LINEAR_INIT | {"loss": loss, "lr": lr, "batch_size": bs}

@pytest.mark.parametrize("name,expected", [
    ("q2l-r101-448", Q2L_OFFICIAL), ("q2l-r101-576", Q2L_OFFICIAL | {"img_size": 576}),
    ("q2l-tresnetl-448", Q2L_OFFICIAL | TRESNET),
    # backbone.py lines 35-37 and 120-138: 'tresnetl_v2' = tresnet_l_v2_miil_21k.pth; zoo.json Q2L-TResL_22k-448: 2048 / 2048, orid_norm
    ("q2l-tresnetl22k-448", Q2L_OFFICIAL | TRESNET | {"backbone": "tresnet_v2_l.miil_in21k",
                                                      "head_params": Q2L_OFFICIAL["head_params"] | {"hidden_dim": 2048, "dim_feedforward": 2048}}),
    # backbone.py lines 184-197: swin_L_384_22k, every parameter trained; zoo.json Q2L-SwinL-384: 1536 / 6144
    ("q2l-swinl-384", Q2L_OFFICIAL | {"backbone": "swin_large_patch4_window12_384.ms_in22k", "img_size": 384, "freeze": None,
                                      "frozen_bn": False, "head_params": Q2L_OFFICIAL["head_params"] | {"hidden_dim": 1536, "dim_feedforward": 6144}}),
    # backbone.py lines 198-210: CvT_w24, every parameter trained; zoo.json Q2L-CvT_w24-384: 1024 / 4096
    ("q2l-cvt-w24-384", Q2L_OFFICIAL | {"backbone": "cvt_w24_384", "weights": __file__, "img_size": 384, "freeze": None, "frozen_bn": False,
                                        "head_params": Q2L_OFFICIAL["head_params"] | {"hidden_dim": 1024, "dim_feedforward": 4096}}),
    ("cole-an", COLE_OFFICIAL | {"loss": "an", "loss_params": {}}), ("cole-an_ls", COLE_OFFICIAL | {"loss": "an_ls", "loss_params": {"ls": 0.1}}),
    ("cole-wan", COLE_OFFICIAL | {"loss": "wan"}), ("cole-epr", COLE_OFFICIAL | {"loss": "epr", "loss_params": {}}),    # k: the data set's
    ("cole-role", COLE_OFFICIAL | {"loss": "role", "loss_params": {"lr_mult": 10}}),   # train.py line 274: lr_mult 10
    ("cole-role-linear-init", COLE_OFFICIAL | _linear_init("role", "coco")),
    ("cole-an_ls-linear-init", COLE_OFFICIAL | _linear_init("an_ls", "coco")),
    # linear_fixed_features (train.py lines 307-311); ROLE on COCO at the lookup's 1e-3 / 16, what the study selected too
    ("cole-linear", COLE_OFFICIAL | {"protocol": "linear", "loss": "role", "epochs": 25, "lr": 1e-3, "batch_size": 16}),
    # the other tables: the same recipes with each benchmark's splits and reader options
    ("q2l-r101-448-voc2007", Q2L_OFFICIAL | {"train_split": "trainval", "test_split": "test", "dataset_params": {"difficult": "positive"},
                                             "ignore_difficult": True}),
    ("q2l-tresnetl-448-voc2007", Q2L_OFFICIAL | TRESNET | {"train_split": "trainval", "test_split": "test",
                                                           "dataset_params": {"difficult": "positive"}, "ignore_difficult": True}),
    ("cole-voc2012-an_ls", COLE_OFFICIAL | {"loss": "an_ls", "loss_params": {"ls": 0.1}, "train_split": "train", "test_split": "val", "dataset_params": {}}),
    ("cole-voc2012-role-linear-init", COLE_OFFICIAL | _linear_init("role", "voc") | {"train_split": "train", "test_split": "val"}),
    ("cole-nuswide-role", COLE_OFFICIAL | {"loss": "role", "loss_params": {"lr_mult": 10}, "train_split": "train", "test_split": "test"}),
    ("cole-nuswide-an_ls-linear-init", COLE_OFFICIAL | _linear_init("an_ls", "nuswide") | {"train_split": "train", "test_split": "test"}),
    ("cole-cub-role-linear-init", COLE_OFFICIAL | _linear_init("role", "cub") | {"train_split": "train", "test_split": "test", "rows": "all"}),
])
def test_preset_is_the_official_configuration(name, expected, capsys):
    from mlcstudy.config import PRESET_DATA
    bench = next((f for t, f in BENCHMARKS.items() if t in name), None) if name in PRESET_DATA else None
    data = [str(Path(__file__).parent / "fixtures" / "layouts" / bench)] if bench else []   # its reader's options
    weights = ["--weights", __file__] if "cvt" in name else []     # CvT has no hub weights: the official file is given (any path here)
    main(["--preset", name, *(["--dataset", *data] if data else []), *weights, "--dry_run"])   # as python -m mlcstudy.train prints it
    cfg = json.loads(capsys.readouterr().out)
    assert {k: cfg[k] for k in expected} == expected
    assert cfg["dataset"] == (data[0] if data else "coco-mini")   # no data set in a preset: the default until one is given

def test_the_linear_phase_lookup_is_cole_et_al_s():
    from mlcstudy.config import COLE_LINEAR_PHASE, COLE_GRID, cole_linear_phase
    assert COLE_LINEAR_PHASE == LINEAR_PHASE
    assert COLE_GRID == {"lrs": (1e-2, 1e-3, 1e-4, 1e-5), "batch_sizes": (8, 16)}       # train.py lines 338-339
    with pytest.raises(ValueError, match="fixes the linear phase for an_ls on coco.*not an on coco"): cole_linear_phase("an", "coco")

def test_table_i_presets_have_the_released_models_heads():
    "Every Table I preset's head is the released model's (zoo.json build_args), its backbone the zoo's"
    from conftest import SHARED
    from mlcstudy.zoo import ZOO
    zoo = {e["name"]: e["build_args"] for e in json.loads((SHARED / "fixtures" / "q2l-zoo" / "zoo.json").read_text())["entries"]}
    for name, entry in ZOO.items():
        cfg, official = resolve(name), zoo[entry.zoo_name]
        assert {k: cfg.head_params[k] for k in ("hidden_dim", "dim_feedforward", "enc_layers", "dec_layers", "nheads", "dropout")} == \
               {k: official[k] for k in ("hidden_dim", "dim_feedforward", "enc_layers", "dec_layers", "nheads", "dropout")}, name
        assert (cfg.img_size, cfg.backbone.split(".")[0]) == (official["img_size"], entry.backbone), name
        assert cfg.normalization == ("none" if official["orid_norm"] else "imagenet"), name

def test_selecting_on_the_test_split_is_refused_with_a_held_out_split():
    with pytest.raises(SystemExit, match="val_frac must be 0 with --select_on test"):     # the command line's spelling
        main(["--preset", "q2l-r101-448", "--val_frac", "0.2", "--dry_run"])
    with pytest.raises(SystemExit, match="--val_frac 0 needs --select_on test"): main(["--val_frac", "0", "--dry_run"])

def test_a_preset_with_reader_options_needs_its_data_set():
    with pytest.raises(SystemExit, match="the reader of dataset 'coco-mini' takes no option 'difficult'"):
        main(["--preset", "q2l-r101-448-voc2007", "--dataset", "coco-mini", "--dry_run"])

def test_given_parameters_override_a_preset_and_a_dry_run_does_no_work(tmp_path, capsys):
    main(["--preset", "q2l-r101-448", "--batch_size", "16", "--img_size", "224", "--out_dir", str(tmp_path), "--dry_run"])
    cfg = json.loads(capsys.readouterr().out)
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

def test_official_freezing_of_a_tresnet():
    "TResNet-L (timm, built without weights): conv1 and layer1 frozen as backbone.py lines 86-88 freeze the official one"
    from mlcstudy.heads import build_model
    for name in ("q2l-tresnetl-448", "q2l-tresnetl22k-448"):
        cfg = resolve(name)
        body = build_model(cfg.backbone, "linear", 80, freeze_upto=cfg.freeze, frozen_bn=cfg.frozen_bn).backbone.body
        official_frozen = lambda n: not ("layer2" in n or "layer3" in n or "layer4" in n)      # backbone.py line 87
        assert all(p.requires_grad != official_frozen(n) for n, p in body.named_parameters()), name
        assert {n.split(".")[1] for n, p in body.named_parameters() if not p.requires_grad} == {"conv1", "layer1"}

SMALL = {"weights": "random", "img_size": 64, "epochs": 1, "finetune_epochs": 1, "batch_size": 8, "progress": False}

FAST = ("cole-an", "cole-linear", "cole-role-linear-init")      # the others take the same paths with other losses or larger models
BENCHMARKS = {"voc2007": "voc2007", "voc2012": "voc2012", "nuswide": "nus-wide", "cub": "cub"}   # preset token: fixture folder
COCO_PRESETS = [n for n in PRESETS if not any(t in n for t in BENCHMARKS)]

def test_every_preset_of_another_benchmark_is_listed():
    "The other tables: 2 Query2Label VOC 2007 presets, 7 Cole et al. rows for each of VOC 2012, NUS-WIDE and CUB"
    others = [n for n in PRESETS if n not in COCO_PRESETS]
    assert len(others) == 23 and all(PRESETS[n]["test_split"] != "val" or "voc2012" in n for n in others)

FIXED_SIZE = {"q2l-swinl-384": 384}     # Swin-L takes 384 x 384 only: one image per split, a batch of one

@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in COCO_PRESETS])
def test_one_step_of_each_preset(name, tmp_path, few_images, monkeypatch):
    "Each preset trains on a few coco-mini images at 64 px for one epoch (of each phase) and writes a finished run"
    small_head = {"head_params": {"hidden_dim": 64, "dim_feedforward": 128, "nheads": 4}} if name.startswith("q2l") else {}
    size = {"img_size": FIXED_SIZE[name], "batch_size": 1} if name in FIXED_SIZE else {}
    if name in FIXED_SIZE:
        import mlcstudy.experiment as E
        few = E.prepare_data
        def one(cfg):
            d = few(cfg)
            d.train, d.obs_train, d.test = d.train.subset(range(1)), d.obs_train[:1], d.test.subset(range(1))
            d.val, d.y_val = (d.test, d.test.labels) if cfg.select_on == "test" else (d.val.subset(range(1)), d.y_val[:1])
            return d
        monkeypatch.setattr(E, "prepare_data", one)
    cfg = resolve(name, **(SMALL | size), **small_head, out_dir=str(tmp_path), run_name=name)
    m = json.loads((train(cfg, log=lambda m: None) / "metrics.json").read_text())
    assert m["finished"] and all(len(h) == 1 for h in m["history"].values())
    ck = torch.load(tmp_path / name / f"checkpoint-{list(m['history'])[-1]}.pt", weights_only=False)
    if cfg.freeze:                                                  # frozen weights are not saved again, trained ones are
        conv = lambda stage: [k for k, v in ck["model"].items() if k.startswith(f"backbone.body.{stage}.") and v.ndim == 4]
        assert conv(cfg.freeze) == [] and conv(cfg.freeze.replace("layer1", "layer2")) != []

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
    """bf16 autocast on the CPU when asked; fp32 (and the fast linear step) otherwise; on CUDA the q2l recipe's 'auto' is
    the official --amp: fp16 autocast with a GradScaler (main_mlc.py lines 443, 476, 534)"""
    from mlcstudy.loop import amp_dtype
    assert amp_dtype(resolve(precision="bf16"), "cpu") == torch.bfloat16 and amp_dtype(resolve("q2l-r101-448"), "cpu") is None
    assert amp_dtype(resolve("q2l-r101-448", precision="fp32"), "cuda") is None
    assert amp_dtype(resolve("q2l-r101-448"), "cuda") == torch.float16 and amp_dtype(resolve("q2l-r101-448", precision="bf16"), "cuda") == torch.bfloat16
    assert amp_dtype(resolve("cole-role"), "cuda") is None
    with pytest.raises(ValueError, match="precision='fp16' runs on a CUDA device"): resolve(precision="fp16", device="cpu").validate()
    cfg = resolve(head="q2l", recipe="q2l", loss="asl", labels="full", epochs=2, precision="bf16", progress=False, out_dir=str(tmp_path),
                  head_params={"hidden_dim": 64, "dim_feedforward": 128, "nheads": 4})
    m = json.loads((train(cfg, log=lambda m: None) / "metrics.json").read_text())
    assert m["finished"] and 0 < m["test_map"] < 100

def test_a_sweep_from_a_preset_tunes_linear_init_s_fine_tuning(tmp_path, few_images):
    "Cole et al.'s grid from the preset: the linear phase at the lookup's values, the fine-tuning phase varied and selected"
    from mlcstudy.sweeps import sweep
    runs, table = sweep(preset="cole-role-linear-init", lrs=(1e-3, 1e-4), batch_sizes=(8,), log=lambda m: None, out_dir=str(tmp_path),
                        backbone="tf_efficientnet_lite0", weights="random", img_size=64, epochs=1, finetune_epochs=1)
    assert len(runs) == 2 and list(table["loss"]) == ["role"] and table["lr"].iloc[0] in (1e-3, 1e-4)
    cfgs = [json.loads((Path(r) / "config.json").read_text())["config"] for r in runs["run"]]
    assert [(c["lr"], c["batch_size"], c["finetune_lr"], c["finetune_batch_size"]) for c in cfgs] == [(1e-3, 16, 1e-3, 8), (1e-3, 16, 1e-4, 8)]
    assert all(c["loss_params"] == {"lr_mult": 10} for c in cfgs)
    best = runs.loc[runs["val_map"].idxmax()]
    assert (table["lr"].iloc[0], table["val mAP"].iloc[0]) == (best["lr"], best["val_map"])

def test_cvt_takes_the_official_imagenet_22k_layout():
    "Microsoft's CvT checkpoints (the q2l-cvt-w24-384 preset's weights) hold the backbone's keys and an ImageNet head: it is left out"
    from mlcstudy.backbones import CvT, load_weights
    small, twin = CvT(dims=(16, 32, 48), depths=(1, 1, 1), heads=(1, 2, 3)), CvT(dims=(16, 32, 48), depths=(1, 1, 1), heads=(1, 2, 3))
    sd = dict(small.state_dict()) | {"head.weight": torch.zeros(21841, 48), "head.bias": torch.zeros(21841)}
    assert load_weights(twin, sd, "CvT-w24-384x384-IN-22k.pth") == "by name"
    assert all(torch.equal(v, twin.state_dict()[k]) for k, v in small.state_dict().items())
    with pytest.raises(Exception, match="unexpected \\['stage9.x'\\]"): load_weights(twin, sd | {"stage9.x": torch.zeros(1)})

def test_a_backbone_without_hub_weights_needs_its_file(capsys):
    with pytest.raises(SystemExit, match="no package or hub weights exist for cvt_w24_384; pass --weights PATH"):
        main(["--preset", "q2l-cvt-w24-384", "--dry_run"])

def test_voc2007_difficult_labels_are_left_out_of_the_test_ap(tmp_path):
    "ML-GCN's protocol (util.py lines 238-241): a difficult entry counts in no AP; the run's metrics equal AP over the rest"
    import warnings
    from mlcstudy.metrics import mean_average_precision, ignore_entries
    fixture = Path(__file__).parent / "fixtures" / "layouts" / "voc2007"
    cfg = resolve(dataset=str(fixture), train_split="trainval", test_split="test", dataset_params={"difficult": "positive"},
                  ignore_difficult=True, val_frac=0.0, select_on="test", weights="random", img_size=64, epochs=1, progress=False,
                  out_dir=str(tmp_path), run_name="voc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                         # the fixture's splits are small on purpose
        m = json.loads((train(cfg, log=lambda m: None) / "metrics.json").read_text())
    p = np.load(tmp_path / "voc" / "predictions.npz")
    hard = p["test_ignore"]
    assert hard.any() and (p["test_labels"][hard] == 1).all()     # difficult labels are positive targets ...
    assert m["test_map"] == pytest.approx(mean_average_precision(*ignore_entries(p["test_scores"], p["test_labels"], hard), "sklearn", "skip"))
    assert m["test_map"] != pytest.approx(mean_average_precision(p["test_scores"], p["test_labels"], "sklearn", "skip"))   # ... out of AP
    with pytest.raises(Exception, match="marks no label difficult"):
        train(resolve(ignore_difficult=True, weights="random", img_size=64, epochs=1, progress=False, out_dir=str(tmp_path)), log=lambda m: None)

def test_the_q2l_recipe_drops_an_incomplete_batch():
    "main_mlc.py line 301: drop_last=True; the cole recipe keeps the last batch"
    from mlcstudy.loop import ImageSource
    from mlcstudy.run_data import prepare_data
    data = prepare_data(resolve("q2l-r101-448"))
    data.train = data.train.subset(range(25))
    norm = {"mean": (0.5,) * 3, "std": (0.5,) * 3}
    q2l, cole = (ImageSource(data, data.train.labels, resolve(p, batch_size=8, img_size=32), norm, "cpu") for p in ("q2l-r101-448", "cole-an"))
    assert (q2l.n_batches(), cole.n_batches()) == (3, 4)
    assert [len(z) for _, z, _ in q2l.batches(0)] == [8, 8, 8] and [len(z) for _, z, _ in cole.batches(0)] == [8, 8, 8, 1]
    with pytest.raises(Exception, match="fewer than one batch of 64"): ImageSource(data, data.train.labels, resolve("q2l-r101-448"), norm, "cpu")

def test_a_run_trains_and_loads_back_with_its_normalization(tmp_path):
    """normalization='none' (Query2Label's --orid_norm): the run's features are extracted with it and analysis.load_model
    takes it back: its probabilities on test images equal the saved ones, and differ under lite0's own normalisation"""
    import mlcstudy.analysis as A
    from mlcstudy.backbones import set_normalization
    run = A.load_run(train(resolve(normalization="none", img_size=64, epochs=1, progress=False, out_dir=str(tmp_path), run_name="n"),
                           log=lambda m: None))
    model, test = A.load_model(run), A.run_test_set(run)
    assert (model.backbone.cfg["mean"], model.backbone.cfg["std"]) == ((0.0,) * 3, (1.0,) * 3)
    with torch.no_grad(): probs = torch.sigmoid(model(A._images(model, test, range(4), 64))).numpy()
    np.testing.assert_allclose(probs, run.predictions["test_scores"][:4], atol=1e-4)
    set_normalization(model.backbone, "imagenet")
    with torch.no_grad(): other = torch.sigmoid(model(A._images(model, test, range(4), 64))).numpy()
    assert np.abs(other - run.predictions["test_scores"][:4]).max() > 1e-2
