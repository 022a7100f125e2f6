"RandAugment: each operation at each magnitude, and the whole policy, equal to the pip package `randaugment` 1.0.2 that Query2Label imports."
import random
import numpy as np
import pytest
from mlcstudy.data import load_embedded, read_image
from mlcstudy.transforms import RA_OPS, RandAugment, ra_op, q2l_train_transforms

@pytest.fixture(scope="module")
def package():
    "The package as published, with `np.int` (its ranges call it; NumPy 1.24 removed it) restored while it runs"
    had = hasattr(np, "int")
    np.int = int
    import randaugment.randaugment as ra
    yield ra
    if not had: del np.int

@pytest.fixture(scope="module")
def images():
    "Two real photographs at sizes that are not square, and a flat grey one"
    val = load_embedded("coco-mini", "val")
    return [read_image(val.paths[0]).resize((96, 64)), read_image(val.paths[5]).resize((57, 80)),
            read_image(val.paths[0]).resize((40, 40)).convert("L").convert("RGB")]

def test_the_operations_are_the_package_s(package):
    "The same 15 operations in the same order (the order decides which pair a random draw picks)"
    assert tuple(package.RandAugment.get_trans_list()) == RA_OPS

@pytest.mark.parametrize("op", RA_OPS)
def test_each_operation_at_each_magnitude_equals_the_package(op, package, images):
    for img in images:
        for m in range(1 if op == "Cutout" else 0, 10):    # the package's Cutout fails at magnitude 0 (no hole); the policy uses 1..9
            for seed in (0, 1, 2):          # both signs of the signed operations, several Cutout centres
                random.seed(seed); np.random.seed(seed)
                theirs = np.asarray(package.SubPolicy(1.0, op, m, 0.0, op, m)(img))
                random.seed(seed); np.random.seed(seed)
                ours = np.asarray(ra_op(img, op, m))
                assert ours.shape == theirs.shape and (ours == theirs).all(), f"{op} at magnitude {m}, seed {seed}"

def test_the_policy_equals_the_package_call_for_call(package, images):
    "With the same seeds, 500 calls give the same images: the same draws in the same order"
    for seed, img in zip((0, 7), images):
        theirs_ra, ours_ra = package.RandAugment(), RandAugment()
        random.seed(seed); np.random.seed(seed)
        theirs = [np.asarray(theirs_ra(img)) for _ in range(500)]
        random.seed(seed); np.random.seed(seed)
        ours = [np.asarray(ours_ra(img)) for _ in range(500)]
        assert sum((a == b).all() for a, b in zip(ours, theirs)) == 500
        assert sum((a != np.asarray(img)).any() for a in ours) > 300      # about 3 calls in 4 change the image

def test_the_training_transform_orders_cutout_before_randaugment():
    "Query2Label's order (get_dataset.py lines 17-25): resize, Cutout, RandAugment, to tensor, normalise"
    names = [type(t).__name__ for t in q2l_train_transforms(64, (0.5,) * 3, (0.5,) * 3).transforms]
    assert names == ["Resize", "Cutout", "RandAugment", "ToTensor", "Normalize"]
