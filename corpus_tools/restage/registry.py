"""The stage table of `corpus stage`: each stage's parameters (name, type, default, unit), versions and steps.

    from corpus_tools.restage.registry import STAGES, parse_stages
    STAGES["quality"].params          # [Param(name='thresholds', type='path', ...), ...]
    STAGES["quality"].versions()      # {'rules': [...], 'signals': 'quality_signals_v1'}

A stage owns some steps of the parent's recipe (by class name: `QualityRules` belongs to `quality`). To
re-run it, `build()` gives the steps that replace them in the restage pipeline (they must handle both kept
documents, which carry their stored columns, and revived ones, re-hydrated from the WARC), and `fresh()` the
steps a brand-new document would get (used to re-hydrate a document dropped at a later stage).
`candidate()` says whether a parent ledger row of this stage may be kept under the new parameters: only
those are re-hydrated, so re-running with a stricter threshold never re-extracts anything.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from corpus_tools.errors import ConfigError


@dataclass(frozen=True)
class Param:
    name: str
    type: str          # bool, int, float, path, list, text
    default: object
    help: str          # unit and where the default comes from

    def parse(self, raw: str):
        try:
            if self.type == "bool":
                if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return raw.lower() in ("true", "1", "yes")
            if self.type == "int":
                return int(raw)
            if self.type == "float":
                return float(raw)
            if self.type == "list":
                return tuple(x.strip() for x in raw.split(",") if x.strip())
            return raw
        except ValueError:
            raise ConfigError(f"--param {self.name}={raw!r} is not a {self.type}: give e.g. "
                              f"{self.name}={self.default if self.default is not None else 'VALUE'}") from None


@dataclass
class Context:
    """What a stage needs to build its steps: the parent's recipe steps, the new output, the parent's robots."""

    output: str
    run_id: str
    parent_steps: list = field(default_factory=list)   # the parent recipe's per-document steps (instances)
    robots: list[str] = field(default_factory=list)
    parent_params: dict = field(default_factory=dict)   # the parent recipe's --param values
    parent_url: str = ""                                 # the parent release (for what its manifests recorded)

    def step(self, *class_names: str):
        return next((s for s in self.parent_steps if type(s).__name__ in class_names), None)


class Stage:
    name = ""
    help = ""
    owns: tuple[str, ...] = ()    # recipe step class names this stage replaces
    params: tuple[Param, ...] = ()
    writes_docs = True            # False: no per-document step (dedup, release)

    def param(self, key: str) -> Param | None:
        return next((p for p in self.params if p.name == key), None)

    def parse(self, raw: dict[str, str]) -> dict:
        """Typed values of the given `--param`s; ConfigError naming an unknown key."""
        out = {}
        for key, value in raw.items():
            p = self.param(key)
            if p is None:
                known = ", ".join(p.name for p in self.params) or "none"
                raise ConfigError(f"stage {self.name} has no parameter {key!r}: choose from {known} (see `corpus stages`)")
            out[key] = p.parse(value)
        return out

    def old_values(self, ctx: Context) -> dict:
        """The parent's value of every parameter, read from its recipe's step instances."""
        return {}

    def versions(self) -> dict:
        return {}

    def old_value(self, key: str, old: dict):
        """The parent's value of `key` for the lineage record (`old_values` plus what only the stage can say)."""
        return old.get(key, self.param(key).default if self.param(key) else None)

    def build(self, values: dict, ctx: Context) -> dict[str, list]:
        return {}

    def fresh(self, values: dict, ctx: Context) -> dict[str, list]:
        return self.build(values, ctx)

    def candidate(self, row: dict, values: dict, old: dict, ctx: Context) -> bool:
        """May this parent ledger row (dropped at this stage) be kept under `values`? Default: if anything changed."""
        return any(values.get(k, old.get(k)) != old.get(k) for k in values)


def _norm(value):
    return tuple(value) if isinstance(value, list) else value


# --- lid -------------------------------------------------------------------------------------------------

class LidStage(Stage):
    name = "lid"
    help = "language ID again with the combined identifier (CascadeLid), e.g. with keep_other or the priors on"
    owns = ("CascadeLid", "FastTextLid")
    params = (
        Param("keep_other", "bool", False, "route non-target and below-threshold documents to lang=other instead of the ledger"),
        Param("paragraph_mode", "bool", False, "also identify each paragraph into lang_paragraphs (one cascade per paragraph)"),
        Param("html_lang_prior", "bool", False, "weak prior from <html lang> (language_ids/EVAL.md)"),
        Param("cctld_prior", "bool", False, "weak prior from the URL's ccTLD (language_ids/cctld.tsv)"),
        Param("prior_weight", "float", 3.0, "times likelier a hinted language becomes (EVAL.md)"),
    )

    def versions(self) -> dict:
        from corpus_tools.lid.combine import COMBINER_FILE, load_combiner
        from corpus_tools.stages.lid import RULE

        model = load_combiner(str(COMBINER_FILE))
        return {"rules": [RULE], "identifier": "combined:" + "+".join(model["backends"]),
                "thresholds": "language_ids/lid_thresholds.tsv"}

    def old_values(self, ctx: Context) -> dict:
        step = ctx.step(*self.owns)
        return {p.name: getattr(step, p.name, p.default) for p in self.params} if step else {}

    def build(self, values: dict, ctx: Context) -> dict[str, list]:
        from corpus_tools.stages.lid import CascadeLid

        kwargs = {**self.old_values(ctx), **values}
        step = CascadeLid(**{p.name: kwargs.get(p.name, p.default) for p in self.params})
        return {name: [step] for name in self.owns}


# --- quality ---------------------------------------------------------------------------------------------

def _threshold_columns() -> list[str]:
    from corpus_tools.quality.thresholds import TEXT_FIELDS, TSV_FIELDS

    return [f for f in TSV_FIELDS if f not in TEXT_FIELDS]


class QualityStage(Stage):
    name = "quality"
    help = "re-decide the quality rules from the stored `quality` signals (recompute=true measures them again)"
    owns = ("QualitySignals", "QualityRules")
    writes_docs = True

    @property
    def params(self) -> tuple[Param, ...]:
        from corpus_tools.quality.rules import DEFAULT_RULES

        base = (
            Param("thresholds", "path", "language_ids/quality_thresholds.tsv", "per-language threshold table (stop words beside it)"),
            Param("rules", "list", ",".join(DEFAULT_RULES), "rule names in order (corpus_tools/quality/rules.py; c4_v1 available)"),
            Param("label_only", "bool", False, "annotate quality.rules_failed but exclude nothing"),
            Param("recompute", "bool", False, "measure the signals again from the stored text instead of re-deciding"),
        )
        return base + (Param("COLUMN[.LANG]", "float", "the table's value",
                             "override one threshold column for all languages, or for one language with .LANG: "
                             + ", ".join(_threshold_columns())),)

    def param(self, key: str) -> Param | None:
        column, _, lang = key.partition(".")
        if column in _threshold_columns():
            return Param(key, "float", "the table's value", "")
        return super().param(key) if key != "COLUMN[.LANG]" else None

    def versions(self) -> dict:
        from corpus_tools.quality.rules import DEFAULT_RULES
        from corpus_tools.quality.signals import SIGNALS_VERSION

        return {"rules": list(DEFAULT_RULES), "signals": SIGNALS_VERSION}

    def old_values(self, ctx: Context) -> dict:
        rules = ctx.step("QualityRules")
        if rules is None:
            return {}
        return {"thresholds": rules.thresholds_path or self.param("thresholds").default, "rules": tuple(rules.rules),
                "label_only": rules.label_only, "recompute": False}

    def old_value(self, key: str, old: dict):
        column, _, lang = key.partition(".")
        if column not in _threshold_columns():
            return super().old_value(key, old)
        from corpus_tools.quality.thresholds import load_thresholds

        path = old.get("thresholds")
        table = load_thresholds(None if path in (None, self.param("thresholds").default) else path)
        values = {label: getattr(row, column) for label, row in table.items() if not lang or label == lang}
        distinct = sorted({v for v in values.values()}, key=lambda v: (v is None, v or 0))
        return distinct[0] if len(distinct) == 1 else {"per_language": dict(sorted(values.items()))}

    def candidate(self, row: dict, values: dict, old: dict, ctx: Context) -> bool:
        from corpus_tools.quality.rules import decide

        if not super().candidate(row, values, old, ctx):
            return False
        if values.get("label_only") or values.get("recompute"):
            return True
        # the first failed check is in the evidence: if it still fails, the document stays out (no re-hydration)
        ev = json.loads(row.get("evidence") or "{}")
        rule, signal = row.get("rule"), ev.get("signal")
        rules = values.get("rules", old.get("rules", ()))
        if rule not in rules or signal is None:
            return True
        failures = decide({signal: ev.get("measured")}, ev.get("lang") or row.get("lang") or "",
                          self.thresholds(values, ctx), rules=(rule,))
        return not failures

    def thresholds_path(self, values: dict, ctx: Context) -> str | None:
        """The table to use: the given one, or a copy of it with the column overrides, written under OUT/params/."""
        base = values.get("thresholds")
        overrides = {k: v for k, v in values.items() if k.partition(".")[0] in _threshold_columns()}
        if not overrides:
            return base
        from corpus_tools import storage
        from corpus_tools.quality.thresholds import THRESHOLDS_TSV

        src = Path(base) if base and base != self.param("thresholds").default else THRESHOLDS_TSV
        if not src.exists():
            raise ConfigError(f"quality thresholds table {src} not found: give --param thresholds=PATH")
        local = Path(ctx.output) if not storage.is_s3(ctx.output) else Path.home() / ".cache" / "corpus-tools" / ctx.run_id
        target_dir = local / "params" / "quality"
        target_dir.mkdir(parents=True, exist_ok=True)
        if (src.parent / "stopwords").is_dir() and not (target_dir / "stopwords").is_dir():
            shutil.copytree(src.parent / "stopwords", target_dir / "stopwords")
        lines = src.read_text(encoding="utf-8").splitlines()
        comments = [line for line in lines if line.startswith("#")]
        rows = list(csv.DictReader([line for line in lines if line and not line.startswith("#")], delimiter="\t"))
        header = list(rows[0].keys()) if rows else []
        labels = {r["label"] for r in rows}
        for key in overrides:
            lang = key.partition(".")[2]
            if lang and lang not in labels:
                raise ConfigError(f"--param {key}: {lang} has no row in {src.name}: use a label of the table")
        for r in rows:
            for key, value in sorted(overrides.items(), key=lambda kv: "." in kv[0]):  # per-language wins
                column, _, lang = key.partition(".")
                if not lang or lang == r["label"]:
                    r[column] = f"{value:g}"
        body = "\n".join(comments + [f"# restage: {json.dumps(overrides, sort_keys=True)} over {src.name}",
                                     "\t".join(header)] + ["\t".join(r[h] for h in header) for r in rows]) + "\n"
        # named by content: load_thresholds caches by path, and a chain of restages derives one table from another
        import hashlib

        out = target_dir / f"quality_thresholds-{hashlib.sha256(body.encode()).hexdigest()[:12]}.tsv"
        if not out.exists() or out.read_text(encoding="utf-8") != body:
            out.write_text(body, encoding="utf-8")
        return str(out)

    def thresholds(self, values: dict, ctx: Context):
        from corpus_tools.quality.thresholds import load_thresholds

        if not hasattr(self, "_cache"):
            self._cache = {}
        key = json.dumps(values, sort_keys=True, default=str)
        if key not in self._cache:
            self._cache[key] = load_thresholds(self.thresholds_path(values, ctx))
        return self._cache[key]

    def _merged(self, values: dict, ctx: Context) -> dict:
        return {**self.old_values(ctx), **values}

    def fresh(self, values: dict, ctx: Context) -> dict[str, list]:
        from corpus_tools.quality.rules import DEFAULT_RULES
        from corpus_tools.stages.quality import QualityRules, QualitySignals

        v = self._merged(values, ctx)
        path = self.thresholds_path(v, ctx)
        path = None if path == self.param("thresholds").default else path
        return {"QualitySignals": [QualitySignals(thresholds_path=path)],
                "QualityRules": [QualityRules(rules=v.get("rules") or DEFAULT_RULES, label_only=v.get("label_only", False), thresholds_path=path)]}

    def build(self, values: dict, ctx: Context) -> dict[str, list]:
        from corpus_tools.restage.steps import OnlyRevived

        steps = self.fresh(values, ctx)
        if not self._merged(values, ctx).get("recompute"):
            steps["QualitySignals"] = [OnlyRevived(steps["QualitySignals"][0])]
        return steps


# --- pii -------------------------------------------------------------------------------------------------

def _step_default(module: str, cls: str, name: str):
    """A constructor default of a pipeline step, so that the stage table never restates it."""
    import importlib
    import inspect

    return inspect.signature(getattr(importlib.import_module(module), cls)).parameters[name].default


class PiiStage(Stage):
    name = "pii"
    help = "re-decide the PII density rule from the stored pii_counts (the stored text is already masked)"
    owns = ("PiiMasker",)
    params = (
        Param("max_density", "float", _step_default("corpus_tools.stages.pii", "PiiMasker", "max_density"),
              "PII entities per word above which a page is excluded (measured: stages/pii.py, benchmarks/RESULTS.md)"),
        Param("min_entities", "int", _step_default("corpus_tools.stages.pii", "PiiMasker", "min_entities"),
              "entities a page needs before it can be excluded"),
        Param("label_only", "bool", False, "count only, exclude nothing"),
    )

    def versions(self) -> dict:
        from corpus_tools.stages.pii import DENSITY_RULE, TOKENS

        return {"rules": [DENSITY_RULE], "tokens": list(TOKENS.values())}

    def old_values(self, ctx: Context) -> dict:
        step = ctx.step(*self.owns)
        return {p.name: getattr(step, p.name, p.default) for p in self.params} if step else {}

    def fresh(self, values: dict, ctx: Context) -> dict[str, list]:
        from corpus_tools.stages.pii import PiiMasker

        v = {**self.old_values(ctx), **values}
        return {"PiiMasker": [PiiMasker(**{p.name: v.get(p.name, p.default) for p in self.params})]}

    def build(self, values: dict, ctx: Context) -> dict[str, list]:
        from corpus_tools.restage.steps import OnlyRevived, PiiRedecide

        masker = self.fresh(values, ctx)["PiiMasker"][0]
        return {"PiiMasker": [OnlyRevived(masker), PiiRedecide(masker)]}


# --- rights ----------------------------------------------------------------------------------------------

class RightsStage(Stage):
    name = "rights"
    help = "re-apply a (changed) rights policy: signals re-read from the WARC record's HTML, no re-extraction"
    owns = ("HtmlSignals", "RightsDecision")
    params = (
        Param("policy", "path", "manifests/policy-v2.json", "rights policy file (manifests/policy.schema.json)"),
        Param("robots", "list", "the parent's --robots", "WARC files of robots.txt / tdmrep.json captures, comma-separated"),
    )

    def versions(self) -> dict:
        from corpus_tools.rights.policy import load_policy

        p = load_policy(None)
        return {"policy": p.version, "agents": p.agents_version}

    def old_values(self, ctx: Context) -> dict:
        step = ctx.step("RightsDecision")
        if step is None:
            return {}
        # a parent made under an earlier default (rights-policy-v1) is rebuilt with today's default: the policy
        # its shard manifest recorded is the one that decided its documents
        return {"policy": _recorded_policy(ctx.parent_url, step.policy) or step.policy.path, "robots": tuple(step.robots)}

    def candidate(self, row: dict, values: dict, old: dict, ctx: Context) -> bool:
        from corpus_tools.rights.policy import load_policy

        new_policy = load_policy(values.get("policy", old.get("policy")))
        old_policy = load_policy(old.get("policy")) if old.get("policy") else None
        return (old_policy is None or new_policy.data != old_policy.data
                or tuple(values.get("robots", old.get("robots", ()))) != tuple(old.get("robots", ())))

    def _policy_robots(self, values: dict, ctx: Context):
        from corpus_tools import storage

        v = {**self.old_values(ctx), **values}
        robots = list(v.get("robots") or ctx.robots)
        return v.get("policy"), storage.expand_inputs(robots) if robots else []

    def fresh(self, values: dict, ctx: Context) -> dict[str, list]:
        from corpus_tools.stages.rights import RightsDecision
        from corpus_tools.stages.signals import HtmlSignals

        policy, robots = self._policy_robots(values, ctx)
        return {"HtmlSignals": [HtmlSignals(policy_path=policy)], "RightsDecision": [RightsDecision(policy_path=policy, robots=robots)]}

    def build(self, values: dict, ctx: Context) -> dict[str, list]:
        from corpus_tools.restage.steps import WarcHtmlSignals

        steps = self.fresh(values, ctx)
        steps["HtmlSignals"] = [WarcHtmlSignals(steps["HtmlSignals"][0])]
        return steps


def _recorded_policy(parent_url: str, rebuilt) -> str | None:
    """Path of the policy file the parent's first shard manifest recorded, when it is not `rebuilt` and the
    file still holds the recorded policy; None otherwise (no manifest, same policy, file gone or changed)."""
    import json

    from corpus_tools import storage
    from corpus_tools.errors import ConfigError
    from corpus_tools.release.layout import manifest_path
    from corpus_tools.rights.policy import load_policy

    try:
        release = json.loads(storage.read_bytes(storage.join(parent_url, "release.json")))
        manifest = json.loads(storage.read_bytes(storage.join(parent_url, manifest_path(release["shards"][0]["path"]))))
        steps = manifest["pipeline"]["config"]["docs"]["pipeline"]
        recorded = next(s["policy"] for s in steps if isinstance(s, dict) and isinstance(s.get("policy"), dict)
                        and "data" in s["policy"])
    except (OSError, ValueError, KeyError, IndexError, TypeError, StopIteration):
        return None
    if recorded["data"] == rebuilt.data:
        return None
    try:
        return recorded["path"] if load_policy(recorded["path"]).data == recorded["data"] else None
    except ConfigError:
        return None


# --- dedup, release --------------------------------------------------------------------------------------

class DedupStage(Stage):
    name = "dedup"
    help = "deduplicate the parent's documents again, optionally against earlier releases (index=OUT[,OUT])"
    writes_docs = False
    params = (
        Param("index", "list", "", "earlier run outputs (or their dedup/index) to dedup against; their documents stay"),
        Param("threshold", "float", 0.8, "estimated Jaccard at or above which two documents are duplicates"),
        Param("ngram", "int", 5, "words per shingle (FineWeb, Gopher)"),
        Param("bands", "int", 32, "LSH bands"),
        Param("rows", "int", 8, "rows per band (bands x rows permutations)"),
        Param("tasks", "int", 4, "tasks per dedup phase"),
        Param("ranges", "int", 1, "hash ranges per band"),
        Param("memory_mb", "int", 1024, "clustering memory budget, MB"),
    )

    def versions(self) -> dict:
        from corpus_tools.dedup.exact import EXACT_RULE, NORMALISATION_VERSION
        from corpus_tools.dedup.minhash import MINHASH_RULE

        return {"rules": [EXACT_RULE, MINHASH_RULE], "normalisation": NORMALISATION_VERSION}

    def old_values(self, ctx: Context) -> dict:
        p = ctx.parent_params
        out = {}
        for param in self.params:
            key = f"dedup_{param.name}"
            out[param.name] = param.parse(p[key]) if key in p else param.default
        out["index"] = tuple(out["index"]) if out["index"] else ()
        return out

    def recipe_params(self, values: dict, ctx: Context) -> dict[str, str]:
        """The `dedup_*` recipe parameters of `corpus_tools.dedup.dedup_phases`."""
        v = {**self.old_values(ctx), **values}
        out = {f"dedup_{p.name}": str(v[p.name]) for p in self.params if p.name != "index"}
        if v.get("index"):
            out["dedup_index"] = ",".join(v["index"])
        return out


class ReleaseStage(Stage):
    name = "release"
    help = "rebuild the release files (manifests, Merkle roots, croissant.json, summary.json); always last"
    writes_docs = False

    def versions(self) -> dict:
        from corpus_tools.release.build import FORMAT

        return {"format": FORMAT}


STAGES: dict[str, Stage] = {s.name: s for s in (LidStage(), RightsStage(), QualityStage(), PiiStage(), DedupStage(), ReleaseStage())}


def parse_stages(spec: str) -> list[str]:
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown or not names:
        raise ConfigError(f"unknown stage(s) {unknown or spec!r}: choose from {', '.join(STAGES)} (comma-separated)")
    # recipe order, so `pii,quality` means the same as `quality,pii`
    order = list(STAGES)
    return sorted(dict.fromkeys(names), key=order.index)


def split_params(stages: list[str], raw: dict[str, str]) -> dict[str, dict]:
    """`--param key=value` -> {stage: {key: raw value}}. `stage.key=value` names the stage; a bare key must be unique."""
    out: dict[str, dict] = {s: {} for s in stages}
    for key, value in raw.items():
        head, _, rest = key.partition(".")
        if head in stages and rest:
            out[head][rest] = value
            continue
        owners = [s for s in stages if STAGES[s].param(key) is not None]
        if not owners:
            raise ConfigError(f"no stage of {','.join(stages)} has a parameter {key!r}: see `corpus stages`")
        if len(owners) > 1:
            raise ConfigError(f"--param {key} is ambiguous ({', '.join(owners)}): write STAGE.{key}=VALUE")
        out[owners[0]][key] = value
    for s, v in out.items():
        STAGES[s].parse(v)  # fail before any work on a bad value
    return out


def describe() -> list[dict]:
    """The table `corpus stages` prints (and `--json` dumps)."""
    rows = []
    for stage in STAGES.values():
        try:
            versions = stage.versions()
        except Exception as e:  # a missing data file must not hide the other stages
            versions = {"error": f"{type(e).__name__}: {e}"}
        rows.append({"stage": stage.name, "help": stage.help, "versions": versions,
                     "params": [dataclasses.asdict(p) for p in stage.params]})
    return rows
