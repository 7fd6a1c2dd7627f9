"""Every plot renders headless to a PNG, takes ax= and returns the Axes, with labelled axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from deepof_sk import plotting as pl
from deepof_sk import stats as st
from deepof_sk.datasets import make_synthetic_poses
from deepof_sk.preprocessing import Arena, attach_arena


def test_palette_is_colour_blind_safe_and_extends():
    assert pl.categorical_colors(3) == ["#0072B2", "#E69F00", "#009E73"]
    assert len(set(pl.categorical_colors(9))) == 9 and len(pl.categorical_colors(20)) == 20
    assert pl.color_map(["b", "a"], {"a": "#000000"})["a"] == "#000000"


def test_enrichment_bars_with_significance(cohort, save_png):
    labels, cond = cohort
    occ = st.compute_occupancy(labels, fps=25, conditions=cond)
    res = st.compute_enrichment(occ, condition="condition")
    ax = pl.plot_enrichment(occ, condition="condition", enrichment=res)
    assert ax.get_ylabel() == "time in behaviour (%)"
    assert "*" in {t.get_text()[:1] for t in ax.texts}  # the planted behaviour is starred
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["control", "stressed"]
    save_png(ax, "enrichment")
    with pytest.raises(ValueError, match="time bins"):
        pl.plot_enrichment(st.compute_occupancy(labels, fps=25, conditions=cond,
                                                time_bins=st.make_time_bins(labels, fps=25, n_bins=2)),
                           condition="condition")


def test_trends_and_separation(cohort, save_png):
    labels, cond = cohort
    bins = st.make_time_bins(labels, fps=25, bin_size=15)
    occ = st.compute_occupancy(labels, fps=25, conditions=cond, time_bins=bins)
    ax = pl.plot_behavior_trends(occ, condition="condition", behavior=2,
                                 enrichment=st.compute_enrichment(occ, condition="condition"))
    assert ax.get_xlabel() == "time since start marker (min)"
    save_png(ax, "trends")
    sep = st.compute_separation(occ, condition="condition", by="bin", cv=3, n_permutations=0, random_state=0)
    save_png(pl.plot_separation(sep), "separation")


def test_ethograms(cohort, save_png):
    labels, cond = cohort
    ax = pl.plot_ethogram(labels, fps=25, recording=1)
    assert ax.get_xlabel() == "time (s)" and len(ax.get_yticklabels()) == 5
    save_png(ax, "ethogram")
    ax = pl.plot_ethogram(labels, fps=25, behavior=2, recording_ids=list(cond.recording_id))
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["control_0", "control_1"]
    save_png(ax, "ethogram_behaviour")
    masks = xr.DataArray(np.random.default_rng(0).random((200, 2, 2)) > 0.7, dims=("time", "behavior", "individual"),
                         coords={"behavior": ["climb", "sniff"], "individual": ["m1", "m2"]})
    save_png(pl.plot_ethogram([masks], individual="m2"), "ethogram_masks")


def test_transition_heatmap_and_graph(cohort, save_png):
    labels, cond = cohort
    P = st.compute_transitions(labels, conditions=cond, by="condition", level="bout")
    ax = pl.plot_transitions(P, group="stressed")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("to", "from")
    save_png(ax, "transitions")
    save_png(pl.plot_transitions(P, group="control", kind="graph"), "transition_graph")
    with pytest.raises(ValueError, match="group="):
        pl.plot_transitions(P)


def test_position_heatmap_with_arena(save_png):
    ds = make_synthetic_poses(1000, scenario="explore", random_state=0)
    ds = attach_arena(ds, Arena.circle((0.0, 0.0), 190.0))
    ax = pl.plot_position_heatmap([ds, ds], keypoint="Nose")
    assert ax.get_xlabel() == "x (pixels)" and ax.yaxis_inverted()
    assert len(ax.lines) == 2  # the arena outline (white under dashed black)
    save_png(ax, "heatmap")
    ax = pl.plot_position_heatmap(ds, arena=None, normalize="fraction", invert_y=False)
    assert ax.figure.axes[-1].get_ylabel() == "share of frames (% per bin)"
    with pytest.raises(ValueError, match="keypoint"):
        pl.plot_position_heatmap(ds, keypoint="Snout")


def test_embedding_scatter(save_png):
    rng = np.random.default_rng(0)
    lab = rng.integers(0, 4, 1000)
    emb = xr.DataArray(rng.normal(size=(4, 6))[lab] * 3 + rng.normal(size=(1000, 6)), dims=("time", "latent"))
    ax = pl.plot_embedding([emb], [lab.astype(float)], max_points=500)
    assert ax.get_xlabel().startswith("PC 1") and len(ax.get_legend().get_texts()) == 4
    save_png(ax, "embedding")
    with pytest.raises(ValueError, match="labels"):
        pl.plot_embedding(emb, lab[:10])


def test_training_curves(save_png):
    hist = pd.DataFrame({"loss": np.linspace(3, 1, 20), "val_loss": np.linspace(3.2, 1.4, 20)})
    ax = pl.plot_training_curves(hist)
    assert ax.get_xlabel() == "epoch"
    save_png(ax, "training")


def test_shap_summaries_and_confusion(save_png):
    pytest.importorskip("shap")
    from sklearn.ensemble import HistGradientBoostingClassifier

    from deepof_sk.explain import compute_shap_values

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 6))
    y = np.where(X[:, 0] > 0.5, 0, np.where(X[:, 3] > 0, 1, 2))
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    sv = compute_shap_values(model, X[:300], feature_names=[f"speed[k{i}]" for i in range(6)], label_dim="cluster")
    ax = pl.plot_shap_summary(sv, kind="bar")
    top_two = {t.get_text() for t in ax.get_yticklabels()[:2]}
    assert top_two == {"speed[k0]", "speed[k3]"}
    save_png(ax, "shap_bar")
    ax = pl.plot_shap_summary(sv, kind="beeswarm", class_label=0)
    assert ax.get_yticklabels()[0].get_text() == "speed[k0]"
    save_png(ax, "shap_beeswarm")
    with pytest.raises(ValueError, match="class_label"):
        pl.plot_shap_summary(sv, kind="beeswarm")
    cm = xr.DataArray([[50, 3, 2], [4, 40, 6], [1, 2, 60]], dims=("true", "predicted"),
                      coords={"true": [0, 1, 2], "predicted": [0, 1, 2]})
    save_png(pl.plot_confusion_matrix(cm), "confusion")


def test_every_plot_draws_on_a_given_axes():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    out = pl.plot_training_curves({"loss": [2.0, 1.0]}, ax=axes[1])
    assert out is axes[1] and out.figure is fig
