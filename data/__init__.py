"The embedded data sets (coco-mini), read through importlib.resources; run folders and caches of a checkout live beside them."
