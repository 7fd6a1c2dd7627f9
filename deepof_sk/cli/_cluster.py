"""``deepof-sk cluster``: deep clustering of behaviour (needs the ``deep`` extra)."""

from __future__ import annotations

from pathlib import Path

from ._common import (
    _DEEP_HINT,
    _RESULTS,
    _SUMMARY,
    CLIError,
    _collect_inputs,
    _concat,
    _labels_dataset,
    _progress,
    _read,
    _say,
    _write_results,
)


# -- cluster ---------------------------------------------------------------------------------------------------
def _require_keras():
    """Import keras with a usable backend, or fail with the install command."""
    from ..clustering._training import import_keras

    try:
        import_keras("deepof-sk cluster")
    except ImportError as exc:
        raise CLIError(f"deep clustering needs Keras 3 and a backend, which are not installed ({exc}). Install "
                       f'them with: {_DEEP_HINT}') from None


def _cmd_cluster(args) -> int:
    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import make_pipeline

    from ..annotation import bout_table, summarize_behaviors
    from ..clustering import DeepClusterer
    from ..preprocessing import ArenaDetector, ArenaScaler, EgocentricAligner, make_deepof_preprocessor
    from ..stats import compute_occupancy

    _require_keras()
    output = Path(args.output)
    paths = _collect_inputs(args.inputs)
    drop = set(args.exclude_keypoints or ())
    recordings = []
    for path in _progress(iter(paths), total=len(paths), desc="read", enabled=not args.quiet):
        ds = _read(path, args.fps, args.max_frames, args.float32)
        if drop:
            ds = ds.sel(keypoint=[k for k in ds["keypoint"].values if k not in drop])
        recordings.append(ds)
    steps = [make_deepof_preprocessor(n_jobs=args.n_jobs)]
    if args.px_per_mm is not None:
        steps.append(ArenaScaler(px_per_mm=args.px_per_mm))
    elif args.arena_size is not None:
        steps += [ArenaDetector(), ArenaScaler(arena_size=args.arena_size)]
    steps.append(EgocentricAligner(center=args.center, align=args.align))
    _say(args, f"Preprocessing and aligning {len(recordings)} recordings ...")
    prepared = make_pipeline(*steps).fit_transform(recordings)
    clusterer = DeepClusterer(model=args.model, encoder=args.encoder, n_clusters=args.n_clusters,
                              epochs=args.epochs, pretrain_epochs=args.pretrain_epochs,
                              window=args.window, latent_dim=args.latent_dim, random_state=args.random_state,
                              verbose=1 if args.verbose else 0)
    _say(args, f"Training {args.model} ({args.encoder} encoder, {args.n_clusters} clusters, {args.epochs} epochs) ...")
    clusterer.fit(prepared)
    (output / "clusters").mkdir(parents=True, exist_ok=True)
    joblib.dump(clusterer, output / "model.joblib")
    results, summaries, bouts, labels, ids = [], [], [], [], []
    clusters = clusterer.predict(prepared)
    probas = clusterer.predict_proba(prepared)
    for ds, cl, pr in _progress(zip(prepared, clusters, probas, strict=True), total=len(prepared), desc="write",
                                enabled=not args.quiet):
        rid = ds.attrs["recording_id"]
        individuals = [str(i) for i in ds["individual"].values]
        values = cl.transpose("time", "individual").values
        conf = pr.max("cluster").transpose("time", "individual").values
        prefix = (lambda a: f"{a}_") if len(individuals) > 1 else (lambda a: "")
        table = {"frame": np.arange(ds.sizes["time"]), "time": np.asarray(ds["time"].values)}
        for i, ind in enumerate(individuals):
            table[f"{prefix(ind)}cluster"] = values[:, i]
            table[f"{prefix(ind)}confidence"] = conf[:, i]
        pd.DataFrame(table).to_csv(output / "clusters" / f"{rid}.csv", index=False)
        names = [f"cluster_{k}" for k in range(args.n_clusters)]
        onehot = (values[..., None] == np.arange(args.n_clusters)).astype(float)
        onehot[values < 0] = np.nan
        labelled = _labels_dataset(ds, onehot, names)
        summaries.append(summarize_behaviors(labelled))
        bouts.append(bout_table(labelled))
        labels.append(cl.where(cl >= 0))
        ids.append(rid)
        results.append({"ok": True, "recording_id": rid, "path": ds.attrs.get("source_file", rid),
                        "fps": ds.attrs.get("fps"), "n_frames": int(ds.sizes["time"]), "individuals": individuals,
                        "files": [f"clusters/{rid}.csv"]})
    fps = [ds.attrs.get("fps") for ds in prepared]
    occupancy = compute_occupancy(labels, fps=fps, recording_ids=ids, states=range(args.n_clusters))
    occupancy.to_csv(output / "occupancy.csv", index=False)
    _concat(summaries, output, _SUMMARY)
    _concat(bouts, output, "bouts.csv")
    pd.DataFrame(clusterer.history_).to_csv(output / "training_history.csv", index_label="epoch")
    _write_results(output, "cluster", args, results, {
        "n_clusters": args.n_clusters, "cluster_occupancy": np.asarray(clusterer.cluster_occupancy_).tolist(),
        "cluster_balance": float(clusterer.cluster_balance_),
        "n_populated_clusters": int(clusterer.n_populated_clusters_)})
    _say(args, f"\nClusters used: {clusterer.n_populated_clusters_} of {args.n_clusters} (balance "
               f"{clusterer.cluster_balance_:.2f}; 1 = even use).")
    _say(args, f"Wrote per-frame clusters to {output / 'clusters'}, the model to {output / 'model.joblib'}, "
               f"{output / 'occupancy.csv'}, {output / _SUMMARY} and {output / _RESULTS}.")
    return 0
