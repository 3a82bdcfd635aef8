"""The four pages of the main window: Datasets, Train, Sample, Evaluate."""
