"""Build and run a restage: parent release + stage(s) + new parameters -> a new, verifiable release.

    from corpus_tools.run.restage import restage, dry_run
    summary = restage(["quality"], "out/sample", "out/strict", {"min_stop_words": "3"})
    report = dry_run(["quality"], "out/sample", {"min_stop_words": "3"})   # counts only, nothing written

Phases (run by `executors.run_phases`, so `--executor ray` works and completed tasks are skipped on re-run):
`docs` (one task per parent part number), the four dedup phases when the chain includes `dedup` (otherwise,
for a deduplicated parent, `revived_dedup_*` over the revived documents against the parent's index and
`merge_revived`), `release`.

Lineage: `run.json` and `release.json` get a `lineage` block: the parent (path, release id, Merkle roots, run
id), the stages, every changed parameter with its old and new value, and the parameters applied by every
restage since the original recipe (`applied`), so a chain of restages can still re-hydrate a record exactly.
The run id stays the parent's when nothing changed (then shards are byte-identical); otherwise it is derived
from the parent's run id, the stages and the changed values.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections import Counter, defaultdict
from dataclasses import asdict

from datatrove.pipeline.base import PipelineStep

from corpus_tools import __version__
from corpus_tools.core import storage
from corpus_tools.core.schema import ledger_dir
from corpus_tools.core.document import EXCLUSION_KEY, is_excluded
from corpus_tools.core.errors import ConfigError, VerificationError
from corpus_tools.restage.reader import ParentRelease, ReleaseShardReader
from corpus_tools.restage.stages import DOC_STAGES, StagePlan, parse_stages, recipe_steps, split_params, versions
from corpus_tools.restage.steps import REVIVED, MergeRevived, OnlyRevived, ReviveCandidates, RevivedSplit, SupersededWriter


class CandidatePicker:
    """Picklable predicate: may this parent ledger row of the stage be kept under the new values?"""

    def __init__(self, plan: StagePlan):
        self.plan = plan

    def __call__(self, row: dict) -> bool:
        return self.plan.candidate(row)


class LineageReleaseStep(PipelineStep):
    """The release phase of a restage: `build_release(output, previous=parent)`, then the lineage block."""

    type = "release"
    name = "LineageReleaseStep"

    def __init__(self, output: str, lineage: dict, previous: dict | None):
        super().__init__()
        self.output, self.lineage, self.previous = output, lineage, previous

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        from corpus_tools.core import layout
        from corpus_tools.release.build import build_release

        if data:
            for _ in data:
                pass
        with self.track_time():
            self.drop_empty_ledgers()
            release = build_release(self.output, previous=self.previous)
            release["lineage"] = self.lineage
            layout.validate(release, "release", "release.json")
            storage.write_bytes(storage.join(self.output, "release.json"), layout.dumps(release))
        self.stat_update("documents", value=release["totals"]["documents_kept"])
        return
        yield

    def drop_empty_ledgers(self) -> None:
        """The writer leaves a 0-row ledger file per task; this run's empty ones are noise in the release (and
        would make an unchanged re-run's ledger differ from its parent's). Local outputs only."""
        import os

        from corpus_tools.core.storage import parquet_rows

        if storage.is_s3(self.output):
            return
        own = storage.join(self.output, ledger_dir(f"restage-{self.lineage['run_id']}"))
        for url in storage.list_files(own, ".parquet"):
            if parquet_rows(url) == 0:
                os.remove(url)


def _recipe_of(parent: ParentRelease) -> dict:
    """The original recipe of the parent (through any number of restages): pipeline, options, inputs."""
    run = parent.run or {}
    if run.get("pipeline") == "restage":
        return run["lineage"]["recipe"]
    return {"pipeline": run.get("pipeline", "eu_web"), "inputs": run.get("inputs", []),
            "options": {k: v for k, v in (run.get("options") or {}).items() if k in ("params", "robots", "limit", "run_id")}}


def parent_steps(recipe: dict, parent_url: str, output: str, run_id: str, applied: dict) -> list:
    """The parent's effective per-document steps: its recipe, with the policy its manifests recorded (a parent
    made under an earlier default policy keeps it) and every earlier restage's parameters applied."""
    options = recipe.get("options", {})
    steps = recipe_steps(recipe["pipeline"], options.get("params", {}), options.get("robots"), output,
                         options.get("run_id") or run_id)
    recorded = _recorded_policy(parent_url, steps)
    if recorded:
        steps = [type(s)(**{**s.params(), "policy_path": recorded}) if "policy_path" in s.parameters() else s
                 for s in steps]
    for stage, raw in applied.items():
        if stage in DOC_STAGES:
            plan = StagePlan(stage, steps, raw)
            swap = {id(o): n for o, n in zip(plan.parent, plan.new)}
            steps = [swap.get(id(s), s) for s in steps]
    return steps


def _recorded_policy(parent_url: str, steps: list) -> str | None:
    """Path of the policy file the parent's first shard manifest recorded, when the recipe's step would load
    another one and the file still holds the recorded policy; None otherwise."""
    from corpus_tools.core import layout
    from corpus_tools.rights.policy import load_policy

    rebuilt = next((s.policy for s in steps if hasattr(s, "policy") and hasattr(s.policy, "data")), None)
    try:
        release = json.loads(storage.read_bytes(storage.join(parent_url, "release.json")))
        manifest = json.loads(storage.read_bytes(storage.join(parent_url, layout.manifest_path(release["shards"][0]["path"]))))
        recorded = next(s["policy"] for s in manifest["pipeline"]["config"]["docs"]["pipeline"]
                        if isinstance(s, dict) and isinstance(s.get("policy"), dict) and "data" in s["policy"])
    except (OSError, ValueError, KeyError, IndexError, TypeError, StopIteration):
        return None
    if rebuilt is None or recorded["data"] == rebuilt.data:
        return None
    try:
        return recorded["path"] if load_policy(recorded["path"]).data == recorded["data"] else None
    except ConfigError:
        return None


class Plan:
    """Everything a restage run (or dry run) needs, computed once on the driver."""

    def __init__(self, stages: list[str], parent_url: str, output: str, raw_params: dict[str, str]):
        self.stages = parse_stages(stages if isinstance(stages, str) else ",".join(stages))
        if "release" in self.stages and len(self.stages) > 1:
            self.stages.remove("release")  # every restage ends with a release
        self.parent = ParentRelease.open(parent_url)
        self.output = str(output).rstrip("/")
        self.recipe = _recipe_of(self.parent)
        parent_lineage = (self.parent.run or {}).get("lineage") or {}
        self.parent_run_id = (self.parent.run or {}).get("run_id") or (self.parent.release or {}).get("release_id") or "parent"
        self.applied_before = parent_lineage.get("applied", {})
        self.steps = parent_steps(self.recipe, self.parent.url, self.output, self.parent_run_id, self.applied_before)
        self.raw = split_params(self.stages, self.steps, raw_params)
        self.plans = {s: StagePlan(s, self.steps, self.raw[s]) for s in self.doc_stages}
        self.changed = {s: plan.changed for s, plan in self.plans.items()}
        if "dedup" in self.stages:
            self.changed["dedup"], self.dedup_params = _dedup_change(self.recipe_params(), self.raw["dedup"])
        self.changed = {s: c for s, c in self.changed.items() if c}
        key = json.dumps({"parent": self.parent_run_id, "stages": self.stages, "changed": self.changed}, sort_keys=True)
        self.run_id = self.parent_run_id if not self.changed else hashlib.sha256(key.encode()).hexdigest()[:16]
        self.applied = copy.deepcopy(self.applied_before)
        for s in self.stages:
            if self.raw[s]:
                self.applied[s] = {**self.applied.get(s, {}), **self.raw[s]}

    def recipe_params(self) -> dict[str, str]:
        return dict(self.recipe.get("options", {}).get("params") or {})

    @property
    def doc_stages(self) -> list[str]:
        return [s for s in self.stages if s in DOC_STAGES]

    def pipeline_steps(self) -> tuple[list, list]:
        """(prefix for re-hydration, the steps every document goes through after it)."""
        replacements: dict[int, list] = {}
        for plan in self.plans.values():
            replacements.update(plan.steps())
        if not replacements:
            return self.steps, []
        first = next(i for i, st in enumerate(self.steps) if id(st) in replacements)
        rest = []
        for st in self.steps[first:]:
            rest.extend(replacements.get(id(st), [OnlyRevived(st)]))
        return self.steps[:first], rest

    @property
    def redup(self) -> bool:
        """Documents a stage brings back into a deduplicated parent are deduplicated against the parent's index
        (and the indexes it was compared with), so a revived page cannot duplicate a kept one."""
        return bool(self.doc_stages) and "dedup" not in self.stages and self.parent.index is not None

    def redup_params(self) -> dict[str, str]:
        from corpus_tools.dedup.files import read_params

        info = read_params(self.parent.index)
        mh = info.get("params", {})
        params = {f"dedup_{k}": str(mh[k]) for k in ("ngram", "bands", "rows", "threshold") if k in mh}
        params["dedup_index"] = ",".join([self.parent.index, *info.get("compared_with", [])])
        return params

    def reader(self, dry_run: bool = False) -> ReleaseShardReader:
        candidates = {s: CandidatePicker(plan) for s, plan in self.plans.items()}
        relocate = (ledger_dir("dedup") + "/",) if "dedup" in self.stages else ()
        return ReleaseShardReader(self.parent, self.output, self.parent.tasks, candidates, relocate, dry_run=dry_run)

    def lineage(self) -> dict:
        rel = self.parent.release or {}
        return {
            "parent": {"path": self.parent.url, "release_id": rel.get("release_id"), "merkle_root": rel.get("merkle_root"),
                       "documents_root": rel.get("documents_root"), "version": rel.get("version"), "run_id": self.parent_run_id},
            "run_id": self.run_id,
            "stages": self.stages,
            "params": self.changed,
            "versions": {s: versions(self.steps, s) for s in self.stages},
            "applied": self.applied,
            "recipe": self.recipe,
            "superseded": "lineage/superseded/",
        }

    def phases(self) -> list:
        from corpus_tools.dedup import STAGING, dedup_phases
        from corpus_tools.core.recipe import Phase, RunOptions
        from corpus_tools.stages.write import ShardWriter

        prefix, rest = self.pipeline_steps()
        dedup = "dedup" in self.stages
        writer = ShardWriter(self.output, self.run_id, shards_dir=STAGING if dedup else "shards",
                             ledger_dir=ledger_dir(f"restage-{self.run_id}"))
        if self.redup:
            writer = RevivedSplit(writer, ShardWriter(storage.join(self.output, REVIVED), self.run_id, shards_dir=STAGING))
        docs = [self.reader(), ReviveCandidates(prefix), *rest, writer, SupersededWriter(self.output, self.run_id)]
        phases = [Phase("docs", docs, tasks=self.parent.tasks)]
        if dedup:
            phases += dedup_phases(RunOptions(inputs=[], output=self.output, params=self.dedup_params, run_id=self.run_id))
        elif self.redup:
            # prefixed by dedup_phases itself: the clustering rounds are chained phases (next_phase), a copy would drop them
            phases += dedup_phases(RunOptions(inputs=[], output=storage.join(self.output, REVIVED),
                                              params=self.redup_params(), run_id=self.run_id), prefix="revived_")
        if not dedup and self.parent.index:
            phases.append(Phase("merge_revived", [MergeRevived(self.output, self.run_id, self.parent.index)], tasks=1))
        rel = self.parent.release
        previous = {k: rel[k] for k in ("release_id", "merkle_root", "documents_root", "version")} if rel else None
        phases.append(Phase("release", [LineageReleaseStep(self.output, self.lineage(), previous)], tasks=1))
        return phases


def _dedup_change(recipe_params: dict[str, str], raw: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """(changed {key: {old, new}}, the `dedup_*` recipe params of the new run) for `corpus stage dedup`."""
    from corpus_tools.dedup import dedup_values

    old = dedup_values(recipe_params)
    new = dedup_values({**{k: v for k, v in recipe_params.items() if k.startswith("dedup_")},
                        **{f"dedup_{k}": v for k, v in raw.items()}})
    def shown(key, value):  # the index as the list of releases it names
        return [s.strip() for s in value.split(",") if s.strip()] if key == "dedup_index" else value

    changed = {k.removeprefix("dedup_"): {"old": shown(k, old[k]), "new": shown(k, v)} for k, v in new.items() if old[k] != v}
    return changed, {k: str(v) for k, v in new.items() if k != "dedup_index" or v}


def restage(stages, parent: str, output: str, params: dict[str, str] | None = None, *, workers: int = 1,
            executor: str = "local", ray_address: str | None = None, overwrite: bool = False, progress: bool = True) -> dict:
    """Run the stage(s) over the parent release into `output`; return and store the run summary (run.json)."""
    from corpus_tools.run.executors import run_phases
    from corpus_tools.core.recipe import RunOptions
    from corpus_tools.run.driver import conservation, prepare_output

    if storage.join(str(output)) == storage.join(str(parent)) or str(output).rstrip("/") == str(parent).rstrip("/"):
        raise ConfigError("--output must differ from --input: a restage writes a new release beside its parent")
    ParentRelease.open(parent)  # a missing parent fails before anything is written
    prepare_output(str(output), overwrite)
    plan = Plan(stages, parent, output, dict(params or {}))
    phases = plan.phases()
    opts = RunOptions(inputs=[plan.parent.url], output=plan.output, tasks=plan.parent.tasks, workers=workers,
                      executor=executor, ray_address=ray_address, params=dict(params or {}), run_id=plan.run_id)
    started = time.time()
    failed = run_phases(phases, opts, progress=progress)
    summary = {"run_id": plan.run_id, "pipeline": "restage", "pipeline_version": __version__, "inputs": [plan.parent.url],
               "options": {k: v for k, v in asdict(opts).items() if k not in ("files", "inputs")},
               "lineage": plan.lineage(), "failed_tasks": failed, **conservation(plan.output)}
    summary["wall_s"] = round(time.time() - started, 2)
    storage.write_bytes(storage.join(plan.output, "run.json"), json.dumps(summary, indent=2).encode())
    if failed:
        raise VerificationError(f"{sum(len(v) for v in failed.values())} task(s) failed: see {plan.output}/run.json; "
                                "re-run the same command to retry them")
    if not summary["conservation_ok"]:
        raise VerificationError(f"conservation broken: read {summary['records_read']} != kept {summary['documents_kept']} "
                                f"+ excluded {summary['records_excluded']}")
    return summary


def dry_run(stages, parent: str, params: dict[str, str] | None = None, output: str | None = None) -> dict:
    """What the stage(s) would decide, per language, without writing anything (the steps run in this process).

    Returns {"changed": ..., "rows": [{lang, rule, kept_to_dropped, dropped_to_kept, dropped_again, kept}], ...}.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="corpus-dry-run-") as tmp:
        plan = Plan(stages, parent, output or tmp, dict(params or {}))
        plan.output = tmp
        prefix, rest = plan.pipeline_steps()
        reader = plan.reader(dry_run=True)
        steps = [ReviveCandidates(prefix), *rest]
        kept_now: Counter = Counter()
        moves: dict[tuple, Counter] = defaultdict(Counter)
        read = 0
        for rank in range(plan.parent.tasks):
            def tagged(rank=rank):
                for doc in reader.run(None, rank, plan.parent.tasks):
                    doc.metadata["_dry_lang"] = doc.metadata.get("lang") or "other"
                    doc.metadata["_dry_before"] = doc.metadata[EXCLUSION_KEY]["rule"] if is_excluded(doc) else None
                    yield doc
            data = tagged()
            for step in steps:
                data = step.run(data, rank, plan.parent.tasks)
            for doc in data:
                read += 1
                lang, before = doc.metadata["_dry_lang"], doc.metadata["_dry_before"]
                after = doc.metadata[EXCLUSION_KEY]["rule"] if is_excluded(doc) else None
                if after is None:
                    kept_now[lang] += 1
                    if before is not None:
                        moves[(lang, before)]["dropped_to_kept"] += 1
                elif before is None:
                    moves[(lang, after)]["kept_to_dropped"] += 1
                else:
                    moves[(lang, after)]["dropped_again"] += 1
        rows = [{"lang": lang, "rule": rule, **{k: c.get(k, 0) for k in ("kept_to_dropped", "dropped_to_kept", "dropped_again")}}
                for (lang, rule), c in sorted(moves.items())]
        return {"parent": plan.parent.url, "stages": plan.stages, "changed": plan.changed, "examined": read,
                "kept_by_lang": dict(sorted(kept_now.items())), "rows": rows}


def format_dry_run(report: dict) -> str:
    changed = ", ".join(f"{s}.{k} {v['old']} -> {v['new']}" for s, c in report["changed"].items() for k, v in c.items()) or "nothing"
    lines = [f"dry run of {','.join(report['stages'])} over {report['parent']}: changed {changed}; nothing written",
             f"{report['examined']} documents examined (parent shards + ledger rows the stage may now keep)"]
    changed_langs = sorted({r["lang"] for r in report["rows"]})
    lines.append(f"{'lang':<10} {'rule':<24} {'keep':>6} {'drop':>6}  {'newly dropped':>13} {'returned':>8}")
    for lang in changed_langs:
        for r in [r for r in report["rows"] if r["lang"] == lang]:
            drop = r["kept_to_dropped"] + r["dropped_again"]
            lines.append(f"{lang:<10} {r['rule'] or '-':<24} {report['kept_by_lang'].get(lang, 0):>6} {drop:>6}  "
                         f"{r['kept_to_dropped']:>13} {r['dropped_to_kept']:>8}")
    same = {k: v for k, v in report["kept_by_lang"].items() if k not in changed_langs}
    if same:
        lines.append(f"unchanged: {len(same)} languages, {sum(same.values())} documents kept as before")
    tot = {k: sum(r[k] for r in report["rows"]) for k in ("kept_to_dropped", "dropped_to_kept", "dropped_again")}
    lines.append(f"total: keep {sum(report['kept_by_lang'].values())}, newly dropped {tot['kept_to_dropped']}, "
                 f"returned {tot['dropped_to_kept']}, re-examined and still dropped {tot['dropped_again']}")
    return "\n".join(lines)
