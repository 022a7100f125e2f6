"The benchmarks' native layouts on fixtures written from coco-mini images: labels checked against the raw files, each error names its file."
import json, re, shutil, warnings
import xml.etree.ElementTree as ET
from pathlib import Path
import numpy as np, pandas as pd, pytest
from mlcstudy.data import DataError, load_cole
from mlcstudy.datasets import load_dataset, load_voc, load_nuswide, load_cub, VOC_CLASSES

LAYOUTS = Path(__file__).parent / "fixtures" / "layouts"
VOC07 = LAYOUTS / "voc2007" / "VOCdevkit" / "VOC2007"


@pytest.fixture
def copy_of(tmp_path):
    "A writable copy of a fixture tree"
    return lambda name: Path(shutil.copytree(LAYOUTS / name, tmp_path / name))


def raw_voc_labels(root, split):
    "Labels from the XML objects, read independently of the reader: 1 for a class with a box that is not difficult"
    ids = sorted((root / "ImageSets/Main" / f"{split}.txt").read_text().split())
    y, hard = np.zeros((len(ids), 20), int), np.zeros((len(ids), 20), bool)
    for r, i in enumerate(ids):
        for o in ET.parse(root / "Annotations" / f"{i}.xml").getroot().iter("object"):
            k = VOC_CLASSES.index(o.find("name").text)
            if o.find("difficult").text == "1": hard[r, k] = True
            else: y[r, k] = 1
    return y, hard & (y == 0)


@pytest.mark.parametrize("split", ["train", "val", "trainval", "test"])
def test_voc_labels_are_the_class_files_and_agree_with_the_xml(split):
    d = load_voc(VOC07, split)
    y, hard = raw_voc_labels(VOC07, split)
    assert (d.labels == y).all() and (d.difficult == hard).all()
    assert d.classes == list(VOC_CLASSES) and d.expected_positives == 1.5
    assert [Path(p).stem for p in d.paths] == sorted((VOC07 / "ImageSets/Main" / f"{split}.txt").read_text().split())


def test_voc_difficult_policy_and_rows():
    neg, pos = load_voc(VOC07, "trainval"), load_voc(VOC07, "trainval", difficult="positive")
    assert neg.difficult.sum() > 0 and (pos.labels == (neg.labels.astype(bool) | neg.difficult)).all()
    annotated = load_voc(VOC07, "trainval", rows="annotated")
    assert len(annotated) == neg.labels.any(1).sum() < len(neg)      # the image whose objects are all difficult is dropped
    assert len(load_voc(VOC07, "trainval", difficult="positive", rows="annotated")) == len(neg)
    with pytest.raises(DataError, match="difficult must be 'negative' or 'positive', got 'ignore'"): load_voc(VOC07, difficult="ignore")


def test_voc_boxes_are_coco_style_from_the_xml():
    d = load_voc(VOC07, "test")
    i = Path(d.paths[0]).stem
    o = ET.parse(VOC07 / "Annotations" / f"{i}.xml").getroot().find("object")
    b = [float(o.find("bndbox").find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")]
    assert d.boxes[0][0].tolist() == [b[0] - 1, b[1] - 1, b[2] - b[0] + 1, b[3] - b[1] + 1, VOC_CLASSES.index(o.find("name").text)]
    from PIL import Image
    assert tuple(d.sizes[0]) == Image.open(d.paths[0]).size


def test_voc_2012_ids_and_the_devkit_forms():
    for path in (LAYOUTS / "voc2012", LAYOUTS / "voc2012" / "VOCdevkit", LAYOUTS / "voc2012" / "VOCdevkit" / "VOC2012"):
        d = load_dataset(path, "val")
        assert d.name == "VOC2012/val" and len(d) == 8 and all(str(i).startswith("2008") for i in d.image_ids)


def test_voc_errors_name_the_file(copy_of, tmp_path):
    v = copy_of("voc2007") / "VOCdevkit" / "VOC2007"
    with pytest.raises(DataError, match=r"ImageSets/Main/trainval2\.txt not found: VOC2007 has the splits test, train, trainval, val"):
        load_voc(v, "trainval2")
    (v / "ImageSets/Main/bus_train.txt").unlink()
    with pytest.raises(DataError, match=r"bus_train\.txt not found"): load_voc(v, "train")
    f = v / "ImageSets/Main/cat_val.txt"; f.write_text(f.read_text() + "009999  1\n")
    with pytest.raises(DataError, match=r"cat_val\.txt: 9 lines for the 8 images of val\.txt"): load_voc(v, "val")
    f = v / "ImageSets/Main/cow_test.txt"; lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[:2] + [lines[2].split()[0] + " 2"] + lines[3:]) + "\n")
    with pytest.raises(DataError, match=r"cow_test\.txt: line 3 has label 2; expected 1, 0 \(difficult\) or -1"): load_voc(v, "test")
    ids = (v / "ImageSets/Main/trainval.txt").read_text().split()
    xml = v / "Annotations" / f"{ids[0]}.xml"
    xml.write_text(re.sub(r"(<object>\s*<name>)\w+", r"\1unicorn", xml.read_text(), count=1))
    with pytest.raises(DataError, match=rf"{ids[0]}\.xml: object 1 is a 'unicorn', not one of the 20 VOC classes"): load_voc(v, "trainval")
    assert len(load_voc(v, "trainval", boxes=False)) == 16                         # labels alone do not read the XML
    (v / "JPEGImages" / f"{ids[1]}.jpg").unlink()
    with pytest.raises(DataError, match=rf"1 of 16 images .* missing: .*{ids[1]}\.jpg"): load_voc(v, "trainval", boxes=False)
    shutil.copytree(LAYOUTS / "voc2012/VOCdevkit/VOC2012", v.parent / "VOC2012")
    with pytest.raises(DataError, match="holds VOC2007, VOC2012: give the folder of one year"): load_dataset(v.parent, "train")


def test_nuswide_labels_are_the_label_files():
    root = LAYOUTS / "nus-wide"
    concepts = (root / "ConceptsList/Concepts81.txt").read_text().split()
    for split, S in (("train", "Train"), ("test", "Test")):
        d = load_nuswide(root, split)
        raw = np.stack([np.loadtxt(root / f"Groundtruth/TrainTestLabels/Labels_{c}_{S}.txt", dtype=int) for c in concepts], 1)
        assert (d.labels == raw).all() and d.classes == concepts and d.expected_positives == 1.9
        listed = (root / f"ImageList/{S}Imagelist.txt").read_text().split()
        assert [str(root / "Flickr" / l.replace("\\", "/")) for l in listed] == list(d.paths)
        assert d.image_ids[0] == int(listed[0].split("_")[-1].split(".")[0])
    clean = load_dataset(root, "test", rows="annotated")
    assert len(clean) == 7 and clean.labels.any(1).all()


def test_nuswide_errors_and_missing_images(copy_of):
    n = copy_of("nus-wide")
    f = n / "Groundtruth/TrainTestLabels/Labels_person_Test.txt"; f.write_text(f.read_text().replace("1\n", "2\n", 1))
    with pytest.raises(DataError, match=r"Labels_person_Test\.txt: line \d+ has '2'; expected 0 or 1"): load_nuswide(n, "test")
    f = n / "Groundtruth/TrainTestLabels/Labels_sky_Train.txt"; f.write_text("0\n" * 11)
    with pytest.raises(DataError, match=r"Labels_sky_Train\.txt: 11 labels for the 12 images of TrainImagelist\.txt"): load_nuswide(n, "train")
    shutil.copy(LAYOUTS / "nus-wide/Groundtruth/TrainTestLabels/Labels_sky_Train.txt", f)
    (n / "ImageList/TestImagelist.txt").unlink()
    with pytest.raises(DataError, match=r"TestImagelist\.txt not found"): load_nuswide(n, "test")
    shutil.rmtree(n / "ConceptsList")
    with pytest.raises(DataError, match=r"no ConceptsList/Concepts81\.txt"): load_nuswide(n, "train")
    shutil.copytree(LAYOUTS / "nus-wide/ConceptsList", n / "ConceptsList")
    lost = sorted((n / "Flickr").rglob("*.jpg"))
    listed = (n / "ImageList/TrainImagelist.txt").read_text().split()
    gone = [p for p in lost if p.relative_to(n / "Flickr").as_posix() in {l.replace("\\", "/") for l in listed}][:2]
    for p in gone: p.unlink()
    with pytest.raises(DataError, match=r"2 of 12 images of .*TrainImagelist\.txt are missing"): load_nuswide(n, "train")
    with pytest.warns(UserWarning, match="dropped 2 of 12 images"): assert len(load_nuswide(n, "train", missing="drop")) == 10
    # a flat images/ folder of the same files (as some downloaders write them)
    flat = n / "images"; flat.mkdir()
    for p in (n / "Flickr").rglob("*.jpg"): shutil.move(p, flat / p.name)
    shutil.rmtree(n / "Flickr")
    assert all(Path(p).parent == flat for p in load_nuswide(n, "train", missing="drop").paths)


def test_cub_attributes_are_is_present_and_the_official_split():
    root = LAYOUTS / "cub" / "CUB_200_2011"
    t = pd.read_csv(root / "attributes/image_attribute_labels.txt", sep=" ", header=None, usecols=range(4)).to_numpy()
    full = np.zeros((20, 312), int); full[t[:, 0] - 1, t[:, 1] - 1] = t[:, 2]
    is_train = np.loadtxt(root / "train_test_split.txt", dtype=int)[:, 1] == 1
    for split, rows in (("train", is_train), ("test", ~is_train)):
        d = load_cub(root.parent, split)
        assert (d.labels == full[rows]).all() and d.n_classes == 312 and d.expected_positives == 31.4
        assert list(d.image_ids) == list(np.flatnonzero(rows) + 1)
    visible = np.zeros((20, 312), int); visible[t[:, 0] - 1, t[:, 1] - 1] = t[:, 2] * (t[:, 3] >= 2)
    assert (load_dataset(root, "train", min_certainty=2).labels == visible[is_train]).all()
    assert load_cub(root).classes[:2] == ["has_bill_shape::curved_(up_or_down)", "has_bill_shape::dagger"]


def test_cub_errors_name_the_file(copy_of):
    c = copy_of("cub") / "CUB_200_2011"
    f = c / "attributes/image_attribute_labels.txt"; lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[:100] + lines[101:]) + "\n")
    with pytest.raises(DataError, match=r"image_attribute_labels\.txt: 6239 lines; expected 20 images x 312 attributes = 6240"): load_cub(c)
    f.write_text("\n".join(lines[:100] + [lines[99]] + lines[101:]) + "\n")       # a pair twice, another missing
    with pytest.raises(DataError, match=r"image_attribute_labels\.txt: image or attribute ids out of range or repeated"): load_cub(c)
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="min_certainty must be None or 1-4"): load_cub(c, min_certainty=5)
    (c.parent / "attributes.txt").unlink()
    with pytest.raises(DataError, match="attributes.txt .* not found beside or inside"): load_cub(c)


def test_cole_folders_know_their_k_and_their_test_split(tmp_path):
    va = load_voc(VOC07, "test")
    d = tmp_path / "pascal"; d.mkdir()
    np.save(d / "formatted_val_labels.npy", va.labels.astype(float))
    np.save(d / "formatted_val_images.npy", np.array([Path(p).name for p in va.paths]))
    got = load_dataset(d, "test", image_root=VOC07 / "JPEGImages")
    assert got.expected_positives == 1.5 and (got.labels == va.labels).all()
    assert load_cole(d, "val", image_root=VOC07 / "JPEGImages", name="x").expected_positives == 1.5
    from mlcstudy.analysis import dataset_key                      # the paper tables match their runs to VOC 2012
    np.save(d / "formatted_train_labels.npy", va.labels.astype(float))
    assert dataset_key(d) == "voc2012" and dataset_key(VOC07) == "voc2007"


def test_unknown_options_and_layouts_are_named():
    with pytest.raises(DataError, match="takes no option 'difficult'; its options are min_certainty, check_files, name"): load_dataset(LAYOUTS / "cub", "train", difficult="positive")
    with pytest.raises(DataError, match="not a layout of a known data set"): load_dataset(LAYOUTS, "train")


def test_the_data_sets_k_feeds_epr_and_role(tmp_path):
    "EPR / ROLE take k from the data set (VOC: 1.5) unless loss_params give it; the run records the k it used"
    from mlcstudy.config import TrainConfig
    from mlcstudy.experiment import train
    base = dict(dataset=str(LAYOUTS / "voc2007"), train_split="trainval", test_split="test", img_size=64, epochs=1,
                progress=False, out_dir=str(tmp_path), weights="random")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # the fixture's splits are small on purpose
        for loss, params, k in (("epr", {}, 1.5), ("role", {}, 1.5), ("epr", {"k": 2.0}, 2.0)):
            m = json.loads((train(TrainConfig(loss=loss, loss_params=params, **base)) / "metrics.json").read_text())
            assert m["finished"] and m["loss_hparams"]["k"] == k


@pytest.mark.parametrize("args,message", [
    (["--dataset", str(LAYOUTS / "cub"), "--test_split", "val"], "CUB-200-2011's splits are 'train' and 'test', got 'val'"),
    (["--dataset", str(LAYOUTS / "voc2007"), "--train_split", "trainval", "--test_split", "test", "--dataset_params", '{"difficult": "maybe"}'],
     "difficult must be 'negative' or 'positive', got 'maybe'"),
    (["--dataset", str(LAYOUTS / "nus-wide"), "--dataset_params", '{"min_certainty": 2}'], "takes no option 'min_certainty'; its options are missing, check_files, name"),
])
def test_a_wrong_split_or_reader_option_is_one_line_before_any_work(args, message, tmp_path, capsys):
    from conftest import run_main
    from mlcstudy.train import main
    code, err = run_main(main, [*args, "--epochs", "1", "--out_dir", str(tmp_path)], capsys)
    lines = [l for l in err.splitlines() if l.strip()]
    assert code != 0 and message in lines[-1] and (len(lines) == 1 or lines[0] == "error: invalid training configuration:"), err
    assert list(tmp_path.iterdir()) == []
