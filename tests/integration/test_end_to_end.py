"""End to end on real multi-animal data: read -> clean -> scale -> annotate -> statistics -> explain -> plot.

Data: the MABe22 mouse triplet (AmadeusGPT example; 3 mice x 12 keypoints, 1,800 frames at 30 fps, no DeepOF
skeleton), cut into six 10-second recordings assigned alternately to two made-up conditions. Nothing here is
expected to be biologically significant; the test checks that every stage accepts the previous stage's output on
real data and returns sane, tidy results.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from deepof_sk.annotation import DeepOFAnnotator, summarize_behaviors  # noqa: E402
from deepof_sk.io import read_poses  # noqa: E402
from deepof_sk.preprocessing import ArenaScaler, Interpolator, SavgolSmoother  # noqa: E402
from deepof_sk.stats import compute_enrichment, compute_occupancy, compute_transitions  # noqa: E402

ROLES = {"center": "center back", "spine_1": "neck"}


@pytest.fixture(scope="module")
def annotated(shared_data):
    ds = read_poses(shared_data / "amadeusgpt" / "EGS8X2MN4SSUGFWAV976.h5", fps=30)
    edges = np.linspace(0, ds.sizes["time"], 7).astype(int)
    recordings = []
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        rec = ds.isel(time=slice(a, b))
        rec.attrs = {**rec.attrs, "recording_id": f"clip{i}"}  # isel shares the attrs dict: never mutate it
        recordings.append(rec)
    pipe = make_pipeline(
        Interpolator(max_gap=0.2, gap_unit="seconds"),
        SavgolSmoother(window=7, polyorder=2),
        ArenaScaler(px_per_mm=1.0),  # MABe pixels are about 1 mm; the rules need a scale
        DeepOFAnnotator(roles=ROLES, arena="auto"),
    )
    out = pipe.fit_transform(recordings)
    conditions = pd.DataFrame({"recording_id": [f"clip{i}" for i in range(6)], "group": ["A", "B"] * 3})
    return out, conditions


def test_annotations_cover_every_recording_animal_and_pair(annotated):
    out, _ = annotated
    assert len(out) == 6
    for ds in out:
        assert ds["annotation"].sizes["individual"] == 3
        assert ds["social_annotation"].sizes["individual_pair"] == 6
        assert 0.0 < float(ds["annotation"].sel(behavior="moving").mean()) < 1.0
    summary = summarize_behaviors(out)
    assert set(summary["recording"]) == {f"clip{i}" for i in range(6)}


def test_occupancy_enrichment_and_transitions(annotated):
    out, conditions = annotated
    masks = [ds["annotation"].sel(behavior=["moving", "stat-passive", "sniffing"]) for ds in out]
    table = compute_occupancy(masks, fps=30, conditions=conditions,
                              recording_ids=[ds.attrs["recording_id"] for ds in out])
    assert {"fraction", "n_bouts", "group"} <= set(table.columns)
    assert len(table) == 6 * 3 * 3  # recordings x animals x behaviours
    assert table["fraction"].between(0, 1).all()
    enrichment = compute_enrichment(table, condition="group")
    assert len(enrichment) == 3 and enrichment["p_adjusted"].between(0, 1).all()
    states = [np.where(ds["annotation"].sel(behavior="moving").values > 0, 1, 0) for ds in out]
    transitions = compute_transitions(states, conditions=conditions,
                                      recording_ids=[ds.attrs["recording_id"] for ds in out])
    probs = transitions.values
    assert probs.shape[-2:] == (2, 2) and np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0)  # each row is a distribution over next states


def test_explain_a_rule_behaviour_on_real_data(annotated):
    from deepof_sk.explain import ShapExplainer

    out, _ = annotated
    labels = [ds["annotation"].sel(behavior="moving").values for ds in out]  # (time, individual), NaN if missing
    variables = ["distance", "speed"]
    from deepof_sk.features import DistanceExtractor, KinematicsExtractor, Skeleton

    skeleton = Skeleton.from_edges([("nose", "neck"), ("neck", "center back"), ("center back", "tail base")])
    feats = make_pipeline(KinematicsExtractor(), DistanceExtractor(pairs="skeleton", skeleton=skeleton,
                                                                  inter_animal=False)).fit_transform(out)
    explainer = ShapExplainer(featurizer=None, variables=variables, window=15, cv=3, max_samples=200,
                              random_state=0).fit(feats, labels)
    assert np.isfinite(explainer.cv_score_) and explainer.cv_score_ > 0.6  # held-out recordings
    values = explainer.explain()
    assert values.sizes["feature"] == len(explainer.feature_names_)
    assert any(name.startswith("speed") for name in explainer.feature_names_)


def test_figures_render(annotated, tmp_path):
    import matplotlib.pyplot as plt

    from deepof_sk.plotting import plot_enrichment, plot_ethogram

    out, conditions = annotated
    masks = [ds["annotation"].sel(behavior=["moving", "stat-passive", "sniffing"]) for ds in out]
    table = compute_occupancy(masks, fps=30, conditions=conditions,
                              recording_ids=[ds.attrs["recording_id"] for ds in out])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    plot_ethogram(masks, fps=30, individual="mouse1", ax=axes[0])
    plot_enrichment(table, condition="group", ax=axes[1])
    path = tmp_path / "summary.png"
    fig.savefig(path)
    plt.close(fig)
    assert path.stat().st_size > 10_000
