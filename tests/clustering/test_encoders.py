"""Encoder building blocks: the bidirectional GRU and loading recurrent models inside Keras's sharing scope."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_gru_equals_keras_bidirectional(keras, return_sequences):
    from deepof_sk.clustering._encoders import BidirectionalGRU

    x = np.random.RandomState(1).standard_normal((3, 7, 4)).astype("float32")
    ours = BidirectionalGRU(5, return_sequences=return_sequences)
    reference = keras.layers.Bidirectional(keras.layers.GRU(5, return_sequences=return_sequences))
    ours(x), reference(x)
    reference.forward_layer.set_weights(ours.forward_gru.get_weights())
    reference.backward_layer.set_weights(ours.backward_gru.get_weights())
    got = keras.ops.convert_to_numpy(ours(x))
    expected = keras.ops.convert_to_numpy(reference(x))
    assert got.shape == ((3, 7, 10) if return_sequences else (3, 10))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    if return_sequences:
        # frame t of the backward half has seen frames t..end only: changing the first frame cannot reach the
        # backward half of the last frame, but reaches its forward half and the backward half of the first frame
        changed = x.copy()
        changed[:, 0] += 1.0
        other = keras.ops.convert_to_numpy(ours(changed))
        np.testing.assert_array_equal(other[:, -1, 5:], got[:, -1, 5:])
        assert not np.allclose(other[:, -1, :5], got[:, -1, :5])
        assert not np.allclose(other[:, 0, 5:], got[:, 0, 5:])


@pytest.mark.parametrize("kind", ["gru", "tcn", "transformer"])
def test_layers_built_while_loading_do_not_go_through_keras_object_sharing(keras, kind):
    # keras.saving.load_model calls each layer's __init__ inside an object-sharing scope that keys configs by id();
    # keras.layers.Bidirectional serialises a short-lived template GRU there, and a later template at a reused
    # address was resolved to an earlier backward GRU (random "different go_backwards" failures on load).
    from keras.src.backend.common import global_state
    from keras.src.saving.serialization_lib import ObjectSharingScope

    from deepof_sk.clustering._encoders import SequenceDecoder, SequenceEncoder

    for _ in range(25):
        with ObjectSharingScope():
            SequenceEncoder(kind, units=8)
            SequenceDecoder(kind, units=8, window=9, n_features=5)
            assert global_state.get_global_attribute("shared_objects/id_to_config_map") == {}


@pytest.mark.parametrize("name", ["vade", "vqvae", "contrastive"])
def test_whole_models_built_while_loading_do_not_go_through_keras_object_sharing(keras, name):
    from keras.src.backend.common import global_state
    from keras.src.saving.serialization_lib import ObjectSharingScope

    from deepof_sk.clustering._models import MODELS

    extra = {"pairs": [[0, 1], [2, 3]], "max_shift": 2} if name == "contrastive" else {}
    with ObjectSharingScope():
        MODELS[name](encoder="gru", units=4, window=9, n_features=5, latent_dim=2, n_clusters=3, seed=0, **extra)
        assert global_state.get_global_attribute("shared_objects/id_to_config_map") == {}
