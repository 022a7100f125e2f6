"Golden values of Cole et al.'s observed-label generator and train/val split."
import numpy as np, pytest
from mlcstudy.datasets import load_dataset
from mlcstudy.labels import (observe_labels, observe_single_positive, split_train_val, observe_biased,
                             bias_weights, expected_positives, observed_stats)
from mlcstudy.data import COLE_K

Y = np.array([[1,0,1,0,1],[0,1,1,0,0],[1,1,1,1,0],[0,0,0,1,0],[1,0,0,0,1],[0,1,0,1,1]])

def test_single_positive_golden():
    Z = observe_single_positive(Y, seed=1200)
    assert Z.argmax(1).tolist() == [0, 2, 2, 3, 4, 1]
    assert ((Z == 1).sum(1) == 1).all() and not (Z == -1).any()

def test_negative_shuffle_consumes_state():
    "Skipping the negative shuffle would give [0, 2, 0, 3, 4, 4]"
    rng = np.random.RandomState(1200); picks = []
    for row in Y:
        p = np.flatnonzero(row); rng.shuffle(p); picks.append(int(p[0]))
    assert picks == [0, 2, 0, 3, 4, 4]
    assert observe_single_positive(Y).argmax(1).tolist() != picks

def test_k_pos_m_neg():
    Z = observe_labels(Y, num_pos=2, num_neg=1, seed=3)
    assert ((Z == 1).sum(1) == np.minimum(2, Y.sum(1))).all()
    assert ((Z == -1).sum(1) == 1).all()
    assert ((Z == 1) <= (Y == 1)).all() and ((Z == -1) <= (Y == 0)).all()

def test_row_without_positive_stays_unknown():
    Z = observe_labels(np.vstack([Y, np.zeros(5, int)]), num_pos=1, num_neg=-1)
    assert (Z[-1] == 0).all()

def test_seed_changes_picks_and_is_deterministic():
    data = load_dataset("coco-mini")
    a, b, c = observe_single_positive(data, 1200), observe_single_positive(data, 1200), observe_single_positive(data, 7)
    assert (a == b).all() and (a != c).any()

@pytest.mark.parametrize("n,train,val", [(10, [0, 1, 2, 4, 5, 6, 8, 9], [3, 7])])
def test_split_small(n, train, val):
    tr, va = split_train_val(n)
    assert tr.tolist() == train and va.tolist() == val

def test_split_coco():
    tr, va = split_train_val(82081)
    assert (len(tr), len(va)) == (65665, 16416)
    assert va[:5].tolist() == [3, 4, 34, 37, 48] and int(va.sum()) == 667885558
    assert np.union1d(tr, va).size == 82081

def test_biased_observation():
    data = load_dataset("coco-mini")
    w = bias_weights(data, "size")
    assert ((w > 0) == (data.labels == 1)).all()          # every labelled class has a box, every box a label
    for bias in ("size", "location"):
        Z = observe_biased(data, bias, seed=0)
        assert ((Z == 1) <= (data.labels == 1)).all()
        assert ((Z == 1).sum(1) == (data.labels.sum(1) > 0)).all()
    # the size bias favours the largest class far more than uniform picking does
    largest, has = w.argmax(1), data.labels.sum(1) > 0
    hit = lambda Z: (Z.argmax(1) == largest)[has].mean()
    assert hit(observe_biased(data, "size")) > hit(observe_single_positive(data)) + 0.15

def test_label_statistics():
    data = load_dataset("coco-mini")
    assert expected_positives(data) == pytest.approx(data.labels.sum() / len(data))
    s = observed_stats(observe_single_positive(data))
    assert s["observed positives per image"] == pytest.approx(340 / 343)
    assert COLE_K["coco"] == 2.9
