"Golden AP values of both papers' code, sklearn parity, thresholded metrics."
import numpy as np, pytest, torch
from sklearn.metrics import average_precision_score
from mlcstudy.metrics import average_precision, mean_average_precision, threshold_metrics, summary_metrics

S = np.array([[.9,.1,.5],[.8,.4,.5],[.8,.3,.2],[.7,.9,.5],[.3,.9,.1],[.2,.2,.6],[.2,.6,.5],[.1,.05,.4]])
Y = np.array([[1,0,1],[0,0,0],[1,0,0],[0,1,1],[0,1,0],[1,0,1],[0,0,0],[0,1,0]])

def test_golden_sklearn_style():
    np.testing.assert_allclose(average_precision(S, Y), [69.84127, 79.166667, 73.333333], atol=1e-5)
    assert mean_average_precision(S, Y) == pytest.approx(74.113757, abs=1e-5)

def test_golden_voc_style():
    np.testing.assert_allclose(average_precision(S, Y, "voc")[:2], [72.222222, 79.166667], atol=1e-5)

def voc_reference(scores, targets):
    "Query2Label's per-image walk over a stable sort, written plainly"
    order = np.argsort(-scores, kind="stable"); t = targets[order]
    tp, fp = np.cumsum(t), np.cumsum(1 - t)
    rec, prec = tp / t.sum(), tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    mrec, mpre = np.concatenate(([0.], rec, [1.])), np.concatenate(([0.], prec, [0.]))
    for i in range(len(mpre) - 1, 0, -1): mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return 100 * np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])

@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("decimals", [1, 2, None])
def test_sklearn_parity_with_ties(seed, decimals):
    rng = np.random.default_rng(seed)
    y = (rng.random((400, 15)) < 0.15).astype(int); y[0] = 1
    s = rng.random((400, 15)) + 0.4 * y
    if decimals: s = np.round(s, decimals)
    ref = np.array([average_precision_score(y[:, j], s[:, j]) for j in range(15)]) * 100
    np.testing.assert_allclose(average_precision(s, y), ref, atol=1e-6)
    np.testing.assert_allclose(average_precision(torch.tensor(s, dtype=torch.float32), torch.tensor(y)),
                               [average_precision_score(y[:, j], s[:, j].astype(np.float32)) * 100 for j in range(15)], atol=1e-4)
    np.testing.assert_allclose(average_precision(s, y, "voc"), [voc_reference(s[:, j], y[:, j]) for j in range(15)], atol=1e-9)

def test_empty_class_policies():
    y = Y.copy(); y[:, 2] = 0
    assert average_precision(S, y)[2] == 0
    assert np.isnan(average_precision(S, y, "voc")[2]) and np.isnan(mean_average_precision(S, y, "voc"))
    assert mean_average_precision(S, y, "voc", "skip") == pytest.approx(np.mean(average_precision(S, y, "voc")[:2]))
    assert np.isnan(average_precision(S, y, "sklearn", "nan")[2])

@pytest.mark.parametrize("bad,msg", [(dict(targets=Y[:, :2]), "differ in shape"), (dict(kind="x"), "kind must be"),
                                     (dict(empty="drop"), "empty must be"), (dict(targets=Y * 2), "0 or 1")])
def test_errors(bad, msg):
    kw = dict(scores=S, targets=Y) | bad
    with pytest.raises(ValueError, match=msg): average_precision(**kw)

def test_threshold_metrics_against_counts():
    rng = np.random.default_rng(5)
    y = (rng.random((200, 12)) < 0.2).astype(int); p = np.clip(rng.random((200, 12)) * 0.7 + 0.35 * y, 0, 1)
    m = threshold_metrics(p, y)
    pred = p >= 0.5
    nc, npr, ng = (pred & (y == 1)).sum(0), pred.sum(0), y.sum(0)
    assert m["OP"] == pytest.approx(100 * nc.sum() / npr.sum()) and m["OR"] == pytest.approx(100 * nc.sum() / ng.sum())
    assert m["CP"] == pytest.approx(100 * np.mean(nc / npr)) and m["CR"] == pytest.approx(100 * np.mean(nc / ng))
    top = threshold_metrics(p, y, top_k=3)
    ranks = np.argsort(-p, 1)[:, :3]; tp3 = np.zeros_like(pred); np.put_along_axis(tp3, ranks, True, 1); tp3 &= pred
    assert top["OP"] == pytest.approx(100 * (tp3 & (y == 1)).sum() / tp3.sum())
    assert set(summary_metrics(p, y)) >= {"mAP", "CF1", "OF1", "CF1_top3", "OF1_top3"}

def test_coco_sized_ap_equals_sklearn():
    "On a COCO-val-sized problem with ties (40,137 x 80) every class's AP equals scikit-learn's (speed: bench/metrics_ap.py)"
    rng = np.random.default_rng(0)
    y = (rng.random((40137, 80)) < 2.9 / 80).astype(int); s = np.round(rng.random((40137, 80)) + 0.3 * y, 3)
    ref = [100 * average_precision_score(y[:, j], s[:, j]) for j in range(80)]
    np.testing.assert_allclose(average_precision(s, y), ref, atol=1e-9)
