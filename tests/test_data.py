"Readers, the embedded coco-mini, the CSV path for coco-2k, the image dataset and its errors."
import json, shutil
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image
from mlcstudy.transforms import image_transforms, transforms_from_config
from mlcstudy.data import (DataError, MultiLabelData, load_coco, load_csv, load_cole, ImageDataset,
                           check_images, label_stats, class_counts)
from mlcstudy.datasets import load_dataset

def test_coco_mini_by_name():
    tr, va = load_dataset("coco-mini", "train"), load_dataset("coco-mini", "val")
    assert (len(tr), len(va), tr.n_classes, va.n_classes) == (343, 105, 80, 80)
    assert tr.classes[0] == "person" and tr.classes[-1] == "toothbrush"
    assert tr.category_ids == sorted(tr.category_ids) and len(set(tr.category_ids)) == 80
    assert (class_counts(tr)["images"] > 0).all()            # all 80 classes in train
    assert (class_counts(va)["images"] > 0).sum() == 75
    assert sum(len(b) for b in tr.boxes) == 2974 and sum(len(b) for b in va.boxes) == 892
    assert 3.0 < label_stats(tr)["positives per image"] < 4.0

def test_row_policies():
    all_rows = load_dataset("coco-mini", "train", rows="all")
    annotated = load_dataset("coco-mini", "train", rows="annotated")
    assert len(all_rows) == 343 and len(annotated) == 340
    assert (all_rows.labels.sum(1) == 0).sum() == 3 and (annotated.labels.sum(1) > 0).all()
    assert list(all_rows.image_ids) == sorted(all_rows.image_ids)
    assert [str(i) for i in annotated.image_ids] == sorted(str(i) for i in annotated.image_ids)
    assert list(annotated.image_ids) != sorted(annotated.image_ids)   # string order really differs here
    rows = {i: r for r, i in enumerate(all_rows.image_ids)}
    assert (all_rows.labels[[rows[i] for i in annotated.image_ids]] == annotated.labels).all()

def test_labels_match_raw_json(root):
    "Every (image, category) pair of the JSON is a 1 in the matrix, and nothing else"
    d = json.loads((root / "data/coco-mini/annotations/instances_val2017.json").read_text())
    va = load_dataset("coco-mini", "val")
    row = {i: r for r, i in enumerate(va.image_ids)}; col = {c: j for j, c in enumerate(va.category_ids)}
    expect = np.zeros_like(va.labels)
    for a in d["annotations"]: expect[row[a["image_id"]], col[a["category_id"]]] = 1
    assert (expect == va.labels).all()

def test_coco_2014_layout(tmp_path, root):
    "A 2014-style root: instances_train2014.json and train2014/COCO_train2014_*.jpg"
    src = root / "data/coco-mini"
    d = json.loads((src / "annotations/instances_val2017.json").read_text())
    (tmp_path / "annotations").mkdir(); (tmp_path / "val2014").mkdir()
    for im in d["images"]:
        new = f"COCO_val2014_{im['id']:012d}.jpg"
        shutil.copy(src / "val2017" / im["file_name"], tmp_path / "val2014" / new); im["file_name"] = new
    (tmp_path / "annotations/instances_val2014.json").write_text(json.dumps(d))
    data = load_dataset(tmp_path, "val")
    assert len(data) == 105 and Path(data.paths[0]).parent.name == "val2014"
    assert (data.labels == load_dataset("coco-mini", "val").labels).all()

def test_coco_errors(tmp_path):
    with pytest.raises(DataError, match="COCO annotation file not found"): load_coco(tmp_path / "instances_train2017.json")
    f = tmp_path / "instances_train2017.json"; f.write_text("[1, 2")
    with pytest.raises(DataError, match=f"{f}: not valid JSON"): load_coco(f)
    f.write_text(json.dumps({"images": [{"id": 1, "file_name": "x.jpg"}], "annotations": [], "categories": [{"id": 1, "name": "a"}]}))
    with pytest.raises(DataError, match="1 of 1 images .* are missing: .*x.jpg"): load_coco(f)
    with pytest.raises(DataError, match="no images"): load_coco(f, rows="annotated")
    f.write_text(json.dumps({"images": [], "annotations": []}))
    with pytest.raises(DataError, match="no 'categories' field|not a COCO instances file"): load_coco(f)

def test_coco2k_through_csv(coco2k):
    classes = load_dataset("coco-mini").classes
    data = load_csv(coco2k / "labels.csv", classes=classes)
    assert (len(data), data.n_classes) == (1907, 80)
    assert data.labels[:, 0].all() and (data.labels.sum(0) > 0).sum() == 79
    assert data.image_ids[0] == 785 and Path(data.paths[0]).name == "000000000785.jpg"
    assert load_dataset(coco2k).labels.shape == (1907, 80)       # a folder with labels.csv

def test_csv_errors(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "a.jpg")
    (tmp_path / "l.csv").write_text("file_name,cat,dog\na.jpg,1,0\n")
    assert load_csv(tmp_path / "l.csv").classes == ["cat", "dog"]
    with pytest.raises(DataError, match="do not match .* missing bird; unexpected dog"): load_csv(tmp_path / "l.csv", classes=["cat", "bird"])
    with pytest.raises(DataError, match="same names in another order"): load_csv(tmp_path / "l.csv", classes=["dog", "cat"])
    (tmp_path / "l.csv").write_text("name,cat\na.jpg,1\n")
    with pytest.raises(DataError, match="no 'file_name' column"): load_csv(tmp_path / "l.csv")
    (tmp_path / "l.csv").write_text("file_name,cat\na.jpg,2\n")
    with pytest.raises(DataError, match="column 'cat' must hold 0 or 1, got 2"): load_csv(tmp_path / "l.csv")
    (tmp_path / "l.csv").write_text("file_name,cat\n")
    with pytest.raises(DataError, match="empty data set"): load_csv(tmp_path / "l.csv")

def test_cole_layout(tmp_path):
    va = load_dataset("coco-mini", "val")
    np.save(tmp_path / "formatted_val_labels.npy", va.labels.astype(float))
    obs = np.zeros(va.labels.shape); obs[:, 0] = va.labels[:, 0]
    np.save(tmp_path / "formatted_val_labels_obs.npy", obs)
    np.save(tmp_path / "formatted_val_images.npy", np.array([f"val2017/{Path(p).name}" for p in va.paths]))
    feats = np.random.default_rng(0).random((105, 2048)).astype(np.float32)
    np.save(tmp_path / "val_features_imagenet_resnet50.npy", feats)
    d = load_cole(tmp_path, "val")                        # features present: images not needed
    assert (d.labels == va.labels).all() and (d.obs == obs).all() and np.allclose(d.features, feats)
    assert (d.image_ids == va.image_ids).all()
    np.save(tmp_path / "val_features_imagenet_resnet50.npy", feats[:5])
    with pytest.raises(DataError, match="features has 5 rows"): load_cole(tmp_path, "val")
    with pytest.raises(DataError, match="formatted_train_labels.npy"): load_cole(tmp_path, "train")
    sub = load_cole(tmp_path, "val", features=None, image_root=Path(va.paths[0]).parent.parent)
    assert sub.features is None and Path(sub.paths[0]).exists()

def test_image_dataset_and_loader():
    va = load_dataset("coco-mini", "val")
    ds = ImageDataset(va, image_transforms(64, train=True))
    x, y, i = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 3, 64, 64) and y.shape == (4, 80) and i.tolist() == [0, 1, 2, 3]
    assert torch.equal(y, torch.tensor(va.labels[:4], dtype=torch.float32))

def test_squash_resize_and_flip():
    "Resize squashes to S x S (no crop); the train transform flips half the time"
    im = Image.new("RGB", (40, 20)); im.paste((255, 255, 255), (0, 0, 10, 20))   # white left quarter
    ev = image_transforms(8, mean=(0, 0, 0), std=(1, 1, 1))(im)
    assert ev.shape == (3, 8, 8) and ev[0, :, 0].min() > 0.9 and ev[0, :, -1].max() < 0.1
    tr = image_transforms(8, train=True, mean=(0, 0, 0), std=(1, 1, 1))
    torch.manual_seed(0)
    flipped = [tr(im)[0, 0, -1].item() > 0.9 for _ in range(40)]
    assert 5 < sum(flipped) < 35

def test_transforms_from_backbone_config():
    t = transforms_from_config({"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5), "input_size": (3, 32, 32)})
    x = t(Image.new("RGB", (50, 40), (255, 255, 255)))
    assert x.shape == (3, 32, 32) and torch.allclose(x, torch.ones_like(x))
    with pytest.raises(ValueError, match="lacks std"): transforms_from_config({"mean": (0, 0, 0)})

def test_corrupt_and_missing_images(tmp_path):
    va = load_dataset("coco-mini", "val")
    shutil.copy(va.paths[0], tmp_path / "ok.jpg"); (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 truncated")
    data = MultiLabelData([str(tmp_path / n) for n in ("ok.jpg", "bad.jpg", "gone.jpg")], [[1], [1], [0]], ["x"], [1, 2, 3], name="toy")
    with pytest.raises(DataError, match="cannot read image .*bad.jpg \\(row 1\\)"): ImageDataset(data)[1]
    with pytest.raises(DataError, match="image file not found: .*gone.jpg"): ImageDataset(data)[2]
    with pytest.raises(DataError, match="2 unreadable images in toy"): check_images(data)
    with pytest.warns(UserWarning, match="dropped 2 unreadable"): kept = check_images(data, drop=True)
    assert kept.image_ids.tolist() == [1]

def test_unknown_source():
    with pytest.raises(DataError, match="neither an embedded name \\(coco-mini\\)"): load_dataset("imagenet-21k")

def test_embedded_data_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv("MLCSTUDY_DATA", str(tmp_path))
    with pytest.raises(DataError, match=f"embedded data set 'coco-mini' not found at {tmp_path}"): load_dataset("coco-mini")
