"""Explanations, statistics and figures of a Project (thin wrappers over explain, stats and plotting)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from ._tables import TableDict

__all__ = ["AnalysisMixin"]


class AnalysisMixin:
    """The :class:`Project` verbs that explain, test and draw (they need :meth:`Project.create` first)."""

    # -- explain, statistics, plots ----------------------------------------------------------------------------
    def _labels(self, labels, verb):
        """(per-recording labels, ids) from "supervised" (binary behaviours), "clusters", or a dict."""
        ids = list(self.recordings)
        if isinstance(labels, str) and labels == "clusters":
            clusters = self.get_clusters()
            return [clusters[k].values for k in ids], ids
        if isinstance(labels, str) and labels == "supervised":
            self._check_annotated(verb)
            out = []
            for k in ids:
                ann = self.annotations_[k]["annotation"]
                binary = ann.sel(behavior=(ann["behavior_kind"].values == "binary")
                                 & (ann["behavior"].values != "missing"))
                out.append(binary.assign_attrs(fps=self.recordings[k].attrs[S.FPS]))
            return out, ids
        if isinstance(labels, dict):
            unknown = sorted(set(labels) - set(ids))
            if unknown:
                raise ValueError(f"Project.{verb}: labels name unknown recordings {unknown}.")
            return [labels[k] for k in ids if k in labels], [k for k in ids if k in labels]
        raise ValueError(f"Project.{verb}: labels must be 'supervised', 'clusters' or {{recording_id: labels}}; "
                         f"got {labels!r}.")

    def explain(self, labels="clusters", window=25, step=None, cv=5, random_state=None, **explainer_params):
        """SHAP explanation of clusters (or behaviours) from interpretable features; returns a fitted ShapExplainer.

        Equivalent code::

            from deepof_sk.explain import ShapExplainer, make_interpretable_featurizer
            exp = ShapExplainer(featurizer=make_interpretable_featurizer(keypoints, skeleton=sk), window=25)
            exp.fit(recordings, clusters)              # clusters: (time, individual) per recording
            shap_values = exp.explain()
        """
        from ..explain import ShapExplainer, make_interpretable_featurizer

        self._check_created("explain")
        y, ids = self._labels(labels, "explain")
        if isinstance(labels, str) and labels == "supervised":
            raise ValueError("Project.explain: pass one behaviour as labels={id: mask} (binary per frame); "
                             "'supervised' holds several overlapping behaviours.")
        featurizer = make_interpretable_featurizer(self.keypoints_, skeleton=self.skeleton_ or "deepof_14")
        exp = ShapExplainer(featurizer=featurizer, window=int(window), step=step, cv=cv, random_state=random_state,
                            **explainer_params)
        recordings = [self.recordings[k] for k in ids]
        names = [str(i) for i in recordings[0][S.INDIVIDUAL].values]
        if all(ds.sizes[S.INDIVIDUAL] == len(names) for ds in recordings):
            # the same animals under other names in other files (SLEAP "track_0", DLC "individual_0"): one name
            # set, so the window features of every recording share their columns
            recordings = [ds.assign_coords({S.INDIVIDUAL: names}) for ds in recordings]
        exp.fit(recordings, [np.asarray(v) for v in y])
        self.explainer_ = exp
        return exp

    def occupancy(self, labels="supervised", time_bins=None) -> pd.DataFrame:
        """Time on each behaviour (or cluster) per recording and animal, with the conditions joined
        (:func:`deepof_sk.stats.compute_occupancy`)."""
        from ..stats import compute_occupancy

        self._check_created("occupancy")
        y, ids = self._labels(labels, "occupancy")
        fps = [float(self.recordings[k].attrs[S.FPS]) for k in ids]
        clusters = isinstance(labels, str) and labels == "clusters"
        states = range(self.clusterer_.n_clusters) if clusters else None
        table = self.conditions.set_index("recording_id").loc[ids].reset_index()
        return compute_occupancy(y, fps=fps, conditions=table, recording_ids=ids, states=states,
                                 time_bins=time_bins)

    def enrichment(self, condition=None, labels="supervised", value="fraction", **test_params) -> pd.DataFrame:
        """Behaviour (or cluster) enrichment across conditions: occupancy then Mann-Whitney U with BH-FDR.

        Equivalent code::

            from deepof_sk.stats import compute_enrichment, compute_occupancy
            occ = compute_occupancy(labels, fps=25, conditions=conditions)
            compute_enrichment(occ, condition="treatment")
        """
        from ..stats import compute_enrichment

        condition = self._condition_column(condition, "enrichment")
        return compute_enrichment(self.occupancy(labels), condition=condition, value=value, **test_params)

    def _condition_column(self, condition, verb):
        self._check_created(verb)
        cols = [c for c in self.conditions.columns if c != "recording_id"]
        if condition is None:
            if len(cols) != 1:
                raise ValueError(f"Project.{verb}: name the condition column (one of {cols}); pass conditions= to "
                                 "Project to have any." if cols else
                                 f"Project.{verb}: the project has no conditions; pass conditions= to Project.")
            return cols[0]
        if condition not in cols:
            raise ValueError(f"Project.{verb}: unknown condition {condition!r}; the conditions are {cols}.")
        return condition

    def plot_enrichment(self, condition=None, labels="supervised", value="fraction", ax=None, **plot_params):
        """Bars per behaviour and condition with significance stars (:func:`deepof_sk.plotting.plot_enrichment`)."""
        from ..plotting import plot_enrichment
        from ..stats import compute_enrichment

        condition = self._condition_column(condition, "plot_enrichment")
        occ = self.occupancy(labels)
        enr = compute_enrichment(occ, condition=condition, value=value)
        return plot_enrichment(occ, condition=condition, value=value, enrichment=enr, ax=ax, **plot_params)

    def plot_ethogram(self, recording_id=None, labels="supervised", ax=None, **plot_params):
        """Ethogram of one recording (:func:`deepof_sk.plotting.plot_ethogram`)."""
        from ..plotting import plot_ethogram

        self._check_created("plot_ethogram")
        y, ids = self._labels(labels, "plot_ethogram")
        rid = ids[0] if recording_id is None else recording_id
        if rid not in ids:
            raise ValueError(f"Project.plot_ethogram: unknown recording {rid!r}; recordings: {ids}.")
        return plot_ethogram(y, fps=[float(self.recordings[k].attrs[S.FPS]) for k in ids],
                             recording=ids.index(rid), recording_ids=ids, ax=ax, **plot_params)

    def plot_heatmaps(self, keypoint="Center", recording_ids=None, condition=None, ax=None, **plot_params):
        """Where a body part spends time, pooled over recordings (:func:`deepof_sk.plotting.plot_position_heatmap`).

        ``condition={column: value}`` pools the recordings of one condition.
        """
        from ..plotting import plot_position_heatmap

        self._check_created("plot_heatmaps")
        table = TableDict(self.recordings, conditions=self.conditions)
        if condition is not None:
            table = table.filter_condition(condition)
        if recording_ids is not None:
            table = table.filter_videos(recording_ids)
        self._check_keypoint("plot_heatmaps", "keypoint", keypoint)
        return plot_position_heatmap(list(table.values()), keypoint=keypoint, ax=ax, **plot_params)

    def plot_embeddings(self, model=None, ax=None, **plot_params):
        """Frames' embeddings in 2-D coloured by cluster (:func:`deepof_sk.plotting.plot_embedding`)."""
        from ..plotting import plot_embedding

        emb, proba = self.embedding_per_video(model)
        points = [e.values.reshape(-1, e.shape[-1]) for e in emb.values()]
        labels = [np.where(np.isnan(p).any(-1), np.nan, np.nan_to_num(p).argmax(-1)).reshape(-1)
                  for p in (v.values for v in proba.values())]
        return plot_embedding(np.concatenate(points), np.concatenate(labels), ax=ax, **plot_params)

    def plot_shap(self, kind="bar", ax=None, **plot_params):
        """SHAP summary of the last :meth:`explain` (:func:`deepof_sk.plotting.plot_shap_summary`)."""
        from ..plotting import plot_shap_summary

        if not hasattr(self, "explainer_"):
            raise RuntimeError("Project.plot_shap: call explain() first.")
        return plot_shap_summary(self.explainer_.explain(), kind=kind, ax=ax, **plot_params)
