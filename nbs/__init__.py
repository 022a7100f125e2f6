"The notebooks; the package ships train.ipynb (papermill engine of sweeps)."
