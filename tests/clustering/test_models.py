"""The Keras models run eagerly (no compilation): shapes, losses, .keras round trip, augmentations."""

from __future__ import annotations

import numpy as np
import pytest


def _make(name, encoder):
    from deepof_sk.clustering._models import MODELS as CLASSES

    extra = {"pairs": [[0, 1], [2, 3]], "max_shift": 2} if name == "contrastive" else {}
    return CLASSES[name](
        encoder=encoder, units=4, window=9, n_features=5, latent_dim=2, n_clusters=3, seed=0, **extra
    )


# every model and every encoder at least once (the fitted tests run all three models with the TCN encoder)
@pytest.mark.parametrize(
    ("name", "encoder"), [("vade", "gru"), ("vqvae", "transformer"), ("contrastive", "transformer")]
)
def test_forward_loss_and_keras_file_round_trip(keras, name, encoder, tmp_path):
    x = np.random.RandomState(0).standard_normal((6, 9, 5)).astype("float32")
    model = _make(name, encoder)
    out = model(x)
    loss = float(keras.ops.convert_to_numpy(model.compute_loss(x=x, y_pred=out)))
    assert np.isfinite(loss)
    if name != "contrastive":
        assert out["reconstruction"].shape == (6, 9, 5)
    inferred = {k: keras.ops.convert_to_numpy(v) for k, v in model.infer(x).items()}
    assert inferred["embedding"].shape == (6, 2)
    if name != "contrastive":
        np.testing.assert_allclose(inferred["proba"].sum(axis=1), 1.0, rtol=1e-5)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    again = {k: keras.ops.convert_to_numpy(v) for k, v in loaded.infer(x).items()}
    for key, value in inferred.items():
        np.testing.assert_array_equal(again[key], value)


def test_augmented_views_are_crops_rotations_and_noise(keras):
    from deepof_sk.clustering._models import WindowAugmenter

    x = np.zeros((4, 9, 3), dtype="float32")
    x[..., 0] = 1.0  # unit vector along x in the (0, 1) pair; column 2 is not rotated
    aug = WindowAugmenter(9, 3, max_shift=2, pairs=[[0, 1]], max_angle=np.pi / 6, noise=0.0, seed=0)
    view = keras.ops.convert_to_numpy(aug(x))
    assert view.shape == (4, 5, 3)
    np.testing.assert_allclose(np.hypot(view[..., 0], view[..., 1]), 1.0, rtol=1e-5)  # rotations keep length
    assert np.all(np.abs(np.arctan2(view[..., 1], view[..., 0])) <= np.pi / 6 + 1e-6)
    np.testing.assert_array_equal(view[..., 2], 0.0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(aug.centre(x)), x[:, 2:7])
