"""SSIM: 1 for identical images, lower as noise grows, and a shape mismatch is an error."""

from __future__ import annotations

import numpy as np
import pytest

from render_worker.metrics import ssim


def test_identical_images_score_one() -> None:
    image = np.random.default_rng(1).random((64, 64))
    assert ssim(image, image) == pytest.approx(1.0)


def test_more_noise_scores_lower() -> None:
    rng = np.random.default_rng(2)
    image = np.tile(np.linspace(0, 1, 64), (64, 1))
    light = np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1)
    heavy = np.clip(image + rng.normal(0, 0.2, image.shape), 0, 1)
    assert 1.0 > ssim(image, light) > ssim(image, heavy) > 0.0


def test_images_of_different_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(np.zeros((4, 4)), np.zeros((4, 5)))
