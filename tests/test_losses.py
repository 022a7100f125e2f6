"Loss golden values of the official code, gradient flow, robustness, state, and a small training per loss."
import copy, math
import numpy as np, pytest, torch
import torch.nn.functional as F
from mlcstudy.losses import LOSSES, get_loss, neg_log, expected_positive_reg, logit_clipped

LOGITS = torch.tensor([[1.2,-0.5,0.3,-2.0,0.0],[-1.0,2.0,-0.3,0.5,-1.5],[0.8,0.1,1.5,-0.7,0.2],[-2.2,-0.4,0.6,0.0,1.1]])
OBS = torch.tensor([[1,0,0,0,0],[0,1,0,0,0],[0,0,1,0,0],[0,0,0,0,1]])
TRUE = torch.tensor([[1,0,1,0,0],[0,1,0,1,0],[1,0,1,0,1],[0,0,0,0,1]])
EST = torch.tensor([[0.9,0.2,0.6,0.1,0.5],[0.3,0.8,0.4,0.5,0.2],[0.6,0.5,0.95,0.3,0.4],[0.1,0.2,0.3,0.4,0.99]])
IDX = torch.arange(4)

@pytest.mark.parametrize("name,z,kw,value", [
    ("bce", TRUE, {}, 0.4367905), ("bce_ls", TRUE, {}, 0.5142882), ("an", OBS, {}, 0.5267886), ("an_ls", OBS, {}, 0.5862866),
    ("wan", OBS, {}, 0.1646562), ("epr", OBS, {"k": 1.5}, 0.0845688), ("pr", OBS, {}, 0.4972632)])
def test_cole_golden(name, z, kw, value):
    assert get_loss(name, **kw)(LOGITS, z).item() == pytest.approx(value, rel=1e-6)

def test_epr_and_role_golden():
    epr = get_loss("epr", k=1.5); epr(LOGITS, OBS)
    assert epr.last_reg.item() == pytest.approx(0.0406233, rel=1e-5)
    role = get_loss("role", obs=OBS, k=1.5); role.set_estimates(EST)
    assert role(LOGITS, OBS, IDX).item() == pytest.approx(0.6788883, rel=1e-6)
    assert role.last_reg.item() == pytest.approx(0.0334337, rel=1e-5)

def test_iun_uses_true_negatives():
    released = ((OBS == 1) * neg_log(torch.sigmoid(LOGITS))).sum().item() / 20
    assert released == pytest.approx(0.0439455, rel=1e-5)
    ours = get_loss("iun", labels=TRUE)(LOGITS, OBS, IDX).item()
    neg = ((TRUE == 0) * neg_log(1 - torch.sigmoid(LOGITS))).sum().item() / 20
    assert ours == pytest.approx(released + neg, rel=1e-6) and ours > released

@pytest.mark.parametrize("params,value", [((2, 0, 0), 209.402588), ((4, 0, 0.05), 154.783691), ((4, 1, 0.05), 60.141224), ((0, 0, 0), 436.806488)])
def test_asl_golden(params, value):
    gn, gp, c = params
    assert get_loss("asl", gamma_neg=gn, gamma_pos=gp, clip=c)(LOGITS, TRUE).item() == pytest.approx(value, rel=1e-6)

def test_asl_focal_weight_is_constant():
    x = LOGITS.clone().requires_grad_()
    get_loss("asl", gamma_neg=4, gamma_pos=1, clip=0.05)(x, TRUE).backward()
    y = TRUE.float(); p = torch.sigmoid(LOGITS); q = (1 - p + 0.05).clamp(max=1)
    w = torch.pow(1 - (p * y + q * (1 - y)), 1 * y + 4 * (1 - y))             # constant
    x2 = LOGITS.clone().requires_grad_(); p2 = torch.sigmoid(x2); q2 = (1 - p2 + 0.05).clamp(max=1)
    manual = -(w * (y * torch.log(p2.clamp(min=1e-5)) + (1 - y) * torch.log(q2.clamp(min=1e-5)))).sum() * 1000 / 20
    manual.backward()
    torch.testing.assert_close(x.grad, x2.grad)
    x3 = LOGITS.clone().requires_grad_()
    get_loss("asl", gamma_neg=4, gamma_pos=1, clip=0.05, grad_focal=True)(x3, TRUE).backward()
    assert not torch.allclose(x3.grad, x.grad)                                 # with gradient through w, it differs

def test_role_gradients_are_separated():
    role = get_loss("role", obs=OBS, k=1.5, update="dense"); role.set_estimates(EST)
    x = LOGITS.clone().requires_grad_()
    role(x, OBS, IDX).backward()
    def f_half(x):
        f = torch.sigmoid(x)
        return (0.5 * ((OBS == 1) * neg_log(f) + EST * neg_log(f) + (1 - EST) * neg_log(1 - f))).sum() / 20 + 0.5 * expected_positive_reg(f, 1.5)
    def g_half(t):
        f, g = torch.sigmoid(LOGITS), torch.sigmoid(t)
        return (0.5 * ((OBS == 1) * neg_log(g) + f * neg_log(g) + (1 - f) * neg_log(1 - g))).sum() / 20 + 0.5 * expected_positive_reg(g, 1.5)
    torch.testing.assert_close(x.grad, torch.func.grad(f_half)(LOGITS))
    torch.testing.assert_close(role.estimator.grad, torch.func.grad(g_half)(role.estimator.detach()))

def test_role_state():
    obs = torch.tensor([[1, 0, -1], [0, 1, 0]])
    role = get_loss("role", obs=obs, k="coco", seed=5, update="dense")
    th = role.estimator.detach()
    assert th[0, 0].item() == pytest.approx(5.293305, abs=1e-5) and th[0, 2].item() == pytest.approx(-5.293305, abs=1e-5)
    assert (th[obs == 0].abs() < 0.405466).all() and role.k == 2.9
    assert torch.equal(th, get_loss("role", obs=obs, seed=5).estimator.detach())
    assert not torch.equal(th, get_loss("role", obs=obs, seed=6).estimator.detach())
    groups = role.param_groups(1e-4)
    assert groups[0]["lr"] == pytest.approx(1e-3) and groups[0]["params"][0] is role.estimator
    lazy = get_loss("role", obs=obs, k="coco")                                    # the default: Adam of its own
    assert lazy.update == "lazy" and lazy.param_groups(1e-4) == [] and lazy._lr == pytest.approx(1e-3)
    probs = np.array([[0.0, 0.5, 1.0], [0.2, 0.9, 0.3]])                          # linear-init hand-off
    role.set_estimates(probs)
    torch.testing.assert_close(role.estimator.detach(), logit_clipped(probs))
    assert role.estimator[0, 0].item() == pytest.approx(math.log(1e-5 / (1 - 1e-5)), rel=1e-4)
    np.testing.assert_allclose(role.estimates(), np.clip(probs, 1e-5, 1 - 1e-5), atol=1e-6)
    sd = role.state_dict()
    again = get_loss("role", obs=obs, update="dense"); again.load_state_dict(sd)
    torch.testing.assert_close(again.estimator, role.estimator)

@pytest.mark.parametrize("update", ["dense", "lazy"])
def test_role_adam_moves_rows_outside_the_batch(update):
    "Official semantics, kept by both updates: momentum keeps moving rows after their first update"
    role = get_loss("role", obs=torch.tensor([[1, 0], [0, 1], [1, 0]]), k=1.0, update=update)
    opt = torch.optim.Adam(role.param_groups(1e-2) or [torch.zeros(1, requires_grad=True)], lr=1e-2)
    x = torch.zeros(1, 2)
    role(x, torch.tensor([[1, 0]]), torch.tensor([0])).backward(); opt.step(); role.after_step(); opt.zero_grad()
    before = torch.logit(torch.tensor(role.estimates()))
    role(x, torch.tensor([[0, 1]]), torch.tensor([1])).backward(); opt.step(); role.after_step()
    after = torch.logit(torch.tensor(role.estimates()))
    assert not torch.allclose(after[0], before[0], atol=1e-7, rtol=0)   # row 0 is not in this batch but still moves
    torch.testing.assert_close(after[2], before[2])                     # row 2 never had a gradient

def stateful_kwargs(name, obs, labels):
    return {"k": 1.5} if name in ("epr", "role") else {}

@pytest.mark.parametrize("name", sorted(LOSSES))
def test_finite_for_extreme_logits_and_rows_without_positive(name):
    x = torch.tensor([[100.0, -100.0, 0.0, 100.0], [-100.0, 100.0, -100.0, 0.0], [5.0, -5.0, 100.0, -100.0]], requires_grad=True)
    if name.startswith("bce"): z = torch.tensor([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 0, 0]])
    elif name == "iu": z = torch.tensor([[1, -1, 0, 0], [-1, 1, 0, 0], [0, 0, -1, 0]])
    else: z = torch.tensor([[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])          # last row: no observed positive
    labels = torch.tensor([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 0]])
    loss = get_loss(name, train_obs=z.clamp(min=0), train_labels=labels, **stateful_kwargs(name, z, labels))
    for _ in range(2):                                                            # first epoch and a later one
        v = loss(x, z, torch.arange(3))
        assert torch.isfinite(v), (name, v)
        g, = torch.autograd.grad(v, x)
        assert torch.isfinite(g).all(), name
        loss.end_epoch()

def test_input_errors():
    with pytest.raises(ValueError, match="unknown loss 'focal'; losses are: an, an_ls"): get_loss("focal")
    with pytest.raises(ValueError, match="missing \\['obs'\\]"): get_loss("role")
    with pytest.raises(ValueError, match="unknown hyperparameters \\['gamma'\\]"): get_loss("an", gamma=2)
    with pytest.raises(ValueError, match="k='imagenet'"): get_loss("epr", k="imagenet")
    an = get_loss("an")
    with pytest.raises(ValueError, match="obs has shape"): an(LOGITS, OBS[:, :3])
    with pytest.raises(ValueError, match="must be 1 \\(positive\\), 0 \\(unknown\\) or -1"): an(LOGITS, OBS * 2)
    with pytest.raises(ValueError, match="NaN"): an(torch.full((2, 2), float("nan")), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="pass idx"): get_loss("role", obs=OBS)(LOGITS, OBS)
    with pytest.raises(ValueError, match="full labels"): get_loss("bce")(LOGITS, -OBS)
    with pytest.raises(ValueError, match="needs observed negatives"): get_loss("iu")(LOGITS, OBS)

def test_ll_schedules_and_ll_cp_really_flips():
    torch.manual_seed(0)
    z = torch.zeros(8, 10); z[torch.arange(8), torch.arange(8)] = 1
    x = torch.randn(8, 10) * 3
    ct, cp, r = get_loss("ll_ct", delta_rel=20), get_loss("ll_cp", train_obs=z, delta_rel=20), get_loss("ll_r", delta_rel=20)
    an = F.binary_cross_entropy_with_logits(x, z)
    for l in (ct, cp, r): assert l(x, z, torch.arange(8)).item() == pytest.approx(an.item())   # epoch 0: plain AN
    for l in (ct, cp, r): l.end_epoch()
    assert r.clean_rate == pytest.approx(0.8)
    assert r(x, z).item() < ct(x, z).item() < an.item()        # rejected < corrected < plain AN
    cp(x, z, torch.arange(8))
    flipped = cp.flipped.clone()
    assert flipped.sum() == math.ceil(80 * 0.2) and not (flipped & (z == 1)).any()
    # later, with small logits everywhere, LL-Cp still treats the flipped entries as positives; LL-Ct does not
    x2 = -4 + 0.1 * torch.randn(8, 10)
    cp_state = cp.flipped.clone()
    loss_cp, loss_ct = cp(x2, z, torch.arange(8)).item(), ct(x2, z, torch.arange(8)).item()
    assert loss_cp != pytest.approx(loss_ct)
    assert (cp.flipped >= cp_state).all()

def test_em_apl_pseudo_labels_after_warmup():
    torch.manual_seed(0)
    obs = torch.zeros(20, 3); obs[:, 0] = 1
    loss = get_loss("em_apl", obs=obs, epochs=4, warmup=2, theta=0.9)
    x = torch.randn(20, 3)
    for e in range(3):
        loss(x, obs, torch.arange(20)); loss.end_epoch()
        n = (~torch.isnan(loss.soft)).sum().item()
        if e == 0: assert n == 0
    per_class = int(0.9 * 20 / (4 - 2))
    assert (~torch.isnan(loss.soft)).sum(0).tolist() == [0, 2 * per_class, 2 * per_class]
    lowest = torch.sigmoid(x[:, 1]).argsort()[:per_class]
    assert (~torch.isnan(loss.soft[lowest, 1])).all()
    torch.testing.assert_close(loss.soft[lowest, 1], torch.sigmoid(x[lowest, 1]))

def test_gr_schedule_and_splc_relabels():
    gr = get_loss("gr", epochs=5)
    assert gr.schedule() == pytest.approx([0, -2, 0.5, 2])
    for _ in range(4): gr.end_epoch()
    assert gr.schedule() == pytest.approx([2, -2, 0.8, 0.5])
    splc = get_loss("splc")
    x = torch.tensor([[3.0, 0.0, -3.0]]); z = torch.tensor([[0, 1, 0]])
    relabelled = splc(x, z).item()
    late = get_loss("splc", change_epoch=5)(x, z).item()
    assert relabelled < late                                    # the confident unknown stops counting as a negative

@pytest.fixture(scope="module")
def coco_features(tmp_path_factory):
    from mlcstudy.datasets import load_dataset
    from mlcstudy.backbones import Backbone, extract_features
    from mlcstudy.labels import observe_single_positive
    train = load_dataset("coco-mini", "train")
    feats = extract_features(Backbone("tf_efficientnet_lite0", pretrained=True), train, 224,
                             cache_dir=tmp_path_factory.mktemp("cache"), progress=False)
    return torch.from_numpy(feats), torch.tensor(observe_single_positive(train)), torch.tensor(train.labels)

@pytest.mark.parametrize("name", sorted(LOSSES))
def test_small_training_decreases_loss(name, coco_features):
    "A linear head on coco-mini lite0 features: the loss falls over 3 epochs"
    feats, obs, labels = coco_features
    z = labels if name.startswith("bce") else obs
    if name == "iu":
        from mlcstudy.labels import observe_labels
        z = torch.tensor(observe_labels(labels.numpy(), 1, 5))
    torch.manual_seed(0)
    head = torch.nn.Linear(feats.shape[1], 80)
    loss = get_loss(name, train_obs=z, train_labels=labels, **({"epochs": 3} if name in ("gr",) else {}),
                     **({"epochs": 3, "warmup": 1} if name == "em_apl" else {}))
    opt = torch.optim.Adam([{"params": head.parameters()}] + loss.param_groups(1e-3), lr=1e-3)
    initial = copy.deepcopy(head)
    for epoch in range(3):
        for b in torch.randperm(len(feats)).split(32):
            v = loss(head(feats[b]), z[b], b)
            opt.zero_grad(); v.backward(); opt.step()
        loss.end_epoch()
    def objective(h):
        "The loss in its final state (schedules, pseudo-labels, flips) over the whole set, state left untouched"
        with torch.no_grad(): return copy.deepcopy(loss)(h(feats), z, torch.arange(len(feats))).item()
    assert objective(head) < objective(initial), (name, objective(initial), objective(head))

def _train_role(update, steps=60, seed=0):
    torch.manual_seed(seed)
    obs = (torch.rand(80, 6) < 0.2).long()
    loss = get_loss("role", obs=obs, k=1.0, update=update)
    w = torch.zeros(6, 6, requires_grad=True)
    opt = torch.optim.Adam([{"params": [w]}] + loss.param_groups(1e-3), lr=1e-3)
    X = torch.randn(80, 6)
    for step in range(steps):
        idx = torch.randperm(80, generator=torch.Generator().manual_seed(step))[:8]
        opt.zero_grad(); loss(X[idx] @ w, obs[idx], idx).backward(); opt.step(); loss.after_step()
        if step % 20 == 19: loss.end_epoch()
    return loss, w.detach()

def test_role_lazy_update_follows_dense_adam():
    dense, wd = _train_role("dense")
    lazy, wl = _train_role("lazy")
    np.testing.assert_allclose(lazy.estimates(), dense.estimates(), atol=2e-5)
    torch.testing.assert_close(wl, wd, atol=1e-6, rtol=0)
    assert not lazy.estimator.requires_grad

def test_role_lazy_state_round_trip():
    lazy, _ = _train_role("lazy", steps=30)
    sd = lazy.state_dict()
    assert {"adam_mv", "last_step", "step_count"} <= set(sd)
    again = get_loss("role", obs=torch.zeros(80, 6), update="lazy"); again.param_groups(1e-3); again.load_state_dict(sd)  # as fit resumes
    np.testing.assert_array_equal(again.estimates(), lazy.estimates())

def test_role_lazy_new_optimizer_starts_fresh_like_dense():
    "A second phase (linear init, then fine-tuning) gets a new optimizer: both updates restart Adam's moments"
    results = {}
    for update in ("dense", "lazy"):
        torch.manual_seed(0)
        obs = (torch.rand(40, 4) < 0.3).long(); X = torch.randn(40, 4)
        loss = get_loss("role", obs=obs, k=1.0, update=update)
        for phase_lr in (1e-2, 1e-3):
            w = torch.zeros(4, 4, requires_grad=True)
            opt = torch.optim.Adam([{"params": [w]}] + loss.param_groups(phase_lr), lr=phase_lr)
            for step in range(15):
                idx = torch.randperm(40, generator=torch.Generator().manual_seed(step))[:8]
                opt.zero_grad(); loss(X[idx] @ w, obs[idx], idx).backward(); opt.step(); loss.after_step()
            loss.end_epoch()
        results[update] = loss.estimates()
    np.testing.assert_allclose(results["lazy"], results["dense"], atol=2e-5)

@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("arrays", ["numpy", "torch"])
def test_value_and_grad_equals_autograd(name, arrays, monkeypatch):
    """The fast linear protocol's (value, d/dlogits): closed forms and the autograd fallback agree with backward,
    with the closed forms on numpy views (small CPU batches) and in torch (larger ones, other devices)"""
    import mlcstudy.losses
    if arrays == "torch": monkeypatch.setattr(mlcstudy.losses, "NUMPY_MAX", 0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 5, generator=g) * 3
    z = TRUE[[0, 1, 2, 3, 0, 1]] if name.startswith("bce") else OBS[[0, 1, 2, 3, 0, 1]]
    if name == "iu": z = z - (torch.rand(6, 5, generator=g) < 0.3).long() * (z == 0)
    idx = torch.tensor([3, 0, 5, 1, 2, 4])
    labels = TRUE[[0, 1, 2, 3, 0, 1]]
    obs_all = torch.zeros(6, 5, dtype=torch.long); obs_all[idx] = z.clamp(min=0)
    a, b = (get_loss(name, train_obs=obs_all, train_labels=labels, **stateful_kwargs(name, None, None)) for _ in range(2))
    x1 = x.clone().requires_grad_()
    ref = a(x1, z, idx); ref.backward()
    value, grad = b.value_and_grad(x, z, idx)
    assert value.item() == pytest.approx(ref.item(), rel=1e-5, abs=1e-7)
    torch.testing.assert_close(grad, x1.grad, rtol=1e-4, atol=1e-7)

def test_role_lazy_closed_form_rows_step_like_backward():
    "ROLE (lazy): after value_and_grad + after_step the estimator moves exactly as after backward + after_step"
    a, b = get_loss("role", obs=OBS, k=1.5), get_loss("role", obs=OBS, k=1.5)
    a.param_groups(1e-2); b.param_groups(1e-2)
    for step in range(3):
        rows = torch.tensor([[0, 2], [1, 3], [2, 0]][step])
        x = LOGITS[rows] * (step + 1)
        x1 = x.clone().requires_grad_()
        a(x1, OBS[rows], rows).backward(); a.after_step()
        b.value_and_grad(x, OBS[rows], rows); b.after_step()
    np.testing.assert_allclose(a.estimates(), b.estimates(), rtol=1e-6, atol=1e-7)
    assert not np.allclose(a.estimates(), torch.sigmoid(get_loss("role", obs=OBS, k=1.5).estimator.detach()).numpy())

def test_compiled_step_falls_back_to_eager_with_a_warning(monkeypatch):
    "Where torch.compile cannot build the step (no C++ compiler, say), a warning says so and the loss steps uncompiled"
    def broken(fn, **kw):
        def call(*a): raise RuntimeError("no compiler")
        return call
    monkeypatch.setattr(torch, "compile", broken)
    a, b = get_loss("role", obs=OBS, k=1.5), get_loss("role", obs=OBS, k=1.5)
    a.param_groups(1e-2); b.param_groups(1e-2)
    assert b.compile_closed_form()
    rows = torch.tensor([0, 2])
    with pytest.warns(UserWarning, match="role: torch.compile failed \\(RuntimeError: no compiler\\)"):
        vb, gb = b.value_and_grad(LOGITS[rows], OBS[rows], rows)
    va, ga = a.value_and_grad(LOGITS[rows], OBS[rows], rows)
    a.after_step(); b.after_step()
    assert vb.item() == va.item() and torch.equal(ga, gb) and not b.compiled_ran()
    np.testing.assert_array_equal(a.estimates(), b.estimates())
    assert not get_loss("em").compile_closed_form()            # no closed form: nothing to compile
