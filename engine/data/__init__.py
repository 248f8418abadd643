"""Data: the dataset and its checks, the readers of every format, Kaggle and the bundled files."""
