"The six released Query2Label models: each official architecture, rebuilt from the model-zoo fixtures, reproduces the official outputs."
import argparse
import pytest, torch
from mlcstudy.zoo import ZOO, load_released, fixture_checkpoint, fixture_outputs
from mlcstudy.backbones import WeightsError
from conftest import SHARED

FIXTURES = SHARED / "fixtures" / "q2l-zoo"

@pytest.fixture(scope="module")
def fixtures():
    if not (FIXTURES / "zoo.json").exists(): pytest.skip(f"the model-zoo fixtures are not at {FIXTURES}")
    return FIXTURES

FAST = ("q2l-r101-448", "q2l-tresnetl22k-448")      # the others take 30 s to 2 minutes each on a 2-core CPU

@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in ZOO])
def test_a_released_model_gives_the_official_outputs(name, fixtures, tmp_path):
    out = fixture_outputs(name, fixtures)
    path = tmp_path / "checkpoint.pth"                # as released: wrapped, DDP prefixes, the run's arguments beside
    torch.save({"state_dict": {f"module.{k}": v for k, v in fixture_checkpoint(name, fixtures).items()},
                "args": argparse.Namespace(img_size=ZOO[name].img_size)}, path)
    model = load_released(name, path)
    assert not model.training and model.backbone.input_size == ZOO[name].img_size
    with torch.no_grad():
        feats = model.backbone(out["x"])
        logits, maps = model(out["x"], return_attn="mean")
    torch.testing.assert_close(logits, out["logits"], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(maps[-1].flatten(2), out["attn_last_layer"], atol=1e-6, rtol=0)
    assert (feats - out["features"]).abs().max() <= 1e-4 * out["features"].abs().max()
    assert (logits - out["logits_alt_norm"]).abs().max() > 1e-3 or name.startswith("q2l-tresnet")   # the other normalisation differs

def test_the_evaluation_normalisation_is_the_entrys_unless_overridden(fixtures):
    sd = fixture_checkpoint("q2l-tresnetl22k-448", fixtures)
    assert load_released("q2l-tresnetl22k-448", sd).backbone.std == (1.0, 1.0, 1.0)
    assert load_released("q2l-tresnetl22k-448", sd, normalization="imagenet").backbone.std == (0.229, 0.224, 0.225)

def test_a_checkpoint_of_another_model_is_refused_in_one_line(fixtures, tmp_path):
    sd = fixture_checkpoint("q2l-tresnetl22k-448", fixtures)
    with pytest.raises(WeightsError) as e: load_released("q2l-tresnetl-448", sd)
    assert "does not fit q2l-tresnetl-448" in str(e.value) and "\n" not in str(e.value)
    (tmp_path / "x.pkl").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match=r"x.pkl: cannot read as a torch checkpoint"): load_released("q2l-r101-448", tmp_path / "x.pkl")
    with pytest.raises(ValueError, match="the released Query2Label models are"): load_released("q2l-r50-224", sd)
