"""Pose backends, silhouette normalisation and batch extraction."""
