"""Latent3D Studio core: data, models, training, sampling and metrics behind a job API."""
