"""How long the native readers take at the benchmarks' full size, on synthetic label files (no images read).

    python bench/native_layouts.py

Writes, in a temporary folder, label files of the official sizes: VOC 2012 trainval (11,540 images: 20 class files
and 11,540 annotation XMLs), NUS-WIDE's training split (161,789 images x 81 concept files) and CUB-200-2011
(11,788 images x 312 attributes = 3,677,856 lines). Then times each reader with check_files=False.
"""
import tempfile, time
from pathlib import Path
import numpy as np
from mlcstudy.datasets import load_voc, load_nuswide, load_cub, VOC_CLASSES

rng = np.random.RandomState(0)


def voc(root: Path, n=11540):
    ids = [f"2008_{i:06d}" for i in range(n)]
    m = root / "VOC2012" / "ImageSets" / "Main"; m.mkdir(parents=True)
    (root / "VOC2012" / "JPEGImages").mkdir(); a = root / "VOC2012" / "Annotations"; a.mkdir()
    (m / "trainval.txt").write_text("".join(f"{i}\n" for i in ids))
    y = rng.choice([-1, 0, 1], size=(n, 20), p=[0.92, 0.005, 0.075])
    for k, c in enumerate(VOC_CLASSES): (m / f"{c}_trainval.txt").write_text("".join(f"{i} {v:2d}\n" for i, v in zip(ids, y[:, k])))
    for i, row in zip(ids, y):
        objs = "".join(f"<object><name>{VOC_CLASSES[k]}</name><difficult>{int(row[k] == 0)}</difficult><bndbox><xmin>10</xmin>"
                       f"<ymin>20</ymin><xmax>110</xmax><ymax>220</ymax></bndbox></object>" for k in np.flatnonzero(row >= 0))
        (a / f"{i}.xml").write_text(f"<annotation><size><width>500</width><height>375</height></size>{objs}</annotation>")
    return root / "VOC2012"


def nuswide(root: Path, n=161789):
    concepts = [f"concept{j:02d}" for j in range(81)]
    (root / "ConceptsList").mkdir(parents=True); (root / "ConceptsList" / "Concepts81.txt").write_text("\n".join(concepts) + "\n")
    (root / "ImageList").mkdir(); (root / "ImageList" / "TrainImagelist.txt").write_text("".join(f"actor\\{i:04d}_{10**9 + i}.jpg\n" for i in range(n)))
    g = root / "Groundtruth" / "TrainTestLabels"; g.mkdir(parents=True)
    y = rng.rand(n, 81) < 0.024
    for j, c in enumerate(concepts): (g / f"Labels_{c}_Train.txt").write_text("\n".join(y[:, j].astype(int).astype(str)) + "\n")
    return root


def cub(root: Path, n=11788, k=312):
    c = root / "CUB_200_2011"; (c / "attributes").mkdir(parents=True)
    (root / "attributes.txt").write_text("".join(f"{j + 1} has_attr_{j}::v\n" for j in range(k)))
    (c / "images.txt").write_text("".join(f"{i + 1} 001.Bird/Bird_{i + 1}.jpg\n" for i in range(n)))
    (c / "train_test_split.txt").write_text("".join(f"{i + 1} {int(i % 2 == 0)}\n" for i in range(n)))
    i, a = np.divmod(np.arange(n * k), k)
    present, certainty = (rng.rand(n * k) < 0.1).astype(int), rng.randint(1, 5, n * k)
    lines = np.char.add(np.char.add(np.char.add(np.char.add((i + 1).astype(str), " "), (a + 1).astype(str)), " "),
                        np.char.add(np.char.add(present.astype(str), " "), np.char.add(certainty.astype(str), " 12.5\n")))
    (c / "attributes" / "image_attribute_labels.txt").write_text("".join(lines))
    return root


def timed(what, f):
    t = time.perf_counter(); d = f(); s = time.perf_counter() - t
    print(f"{what:<52} {s:6.2f} s   {d}")


with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    v, n, c = voc(tmp / "voc"), nuswide(tmp / "nus"), cub(tmp / "cub")
    timed("VOC 2012 trainval, labels only (20 class files)", lambda: load_voc(v, "trainval", boxes=False, check_files=False))
    timed("VOC 2012 trainval, with boxes (11,540 XML files)", lambda: load_voc(v, "trainval", check_files=False))
    timed("NUS-WIDE train (81 label files of 161,789 lines)", lambda: load_nuswide(n, "train", check_files=False))
    timed("CUB-200-2011 train (3,677,856 attribute lines)", lambda: load_cub(c, "train", check_files=False))
