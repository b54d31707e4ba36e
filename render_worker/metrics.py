"""Image similarity for render quality checks: SSIM (Wang et al. 2004) on luminance, Gaussian window."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SIGMA = 1.5
K1, K2 = 0.01, 0.03


def luminance(path: Path) -> np.ndarray:
    """Rec. 709 luma of an image file as float64 in [0, 1]."""
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two same-shaped greyscale images with values in [0, 1]."""
    from scipy.ndimage import gaussian_filter

    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    c1, c2 = K1**2, K2**2

    def blur(x: np.ndarray) -> np.ndarray:
        return gaussian_filter(x, SIGMA, truncate=3.5)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


def ssim_files(a: Path, b: Path) -> float:
    return ssim(luminance(a), luminance(b))
