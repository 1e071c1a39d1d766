"""The stages `corpus stage` can re-run, read from the recipe itself: no hand-kept table.

    from corpus_tools.restage.stages import describe, parse_stages, StagePlan
    plan = StagePlan("quality", parent_steps, {"min_stop_words": "3"})
    plan.steps(), plan.changed, plan.candidate(row)

Every per-document step of a recipe that belongs to a stage says so (`restage = "quality"`); its constructor
signature is the stage's parameter table (one default each, `DocumentStep.parameters`), and the instance holds
the parent's values under the same names (`DocumentStep.params`). `--param key=value` sets `key` on every
step of the stage that takes it (parsed by `core.recipe.Param`, the one `--param` parser); a step may accept
more keys through `param_key` (QualityRules: `COLUMN[.LANG]=value` threshold overrides) and older spellings
through `param_aliases`. `recompute=true` re-runs a stage's annotators on kept documents too.

How a stage re-runs (`StagePlan.steps`): its rules re-decide every document from the stored columns; its
annotators run on re-hydrated documents only, unless one of the stage's parameters that an annotator takes
changed (or `recompute`): then they run on every document, an annotator whose output is not stored
(`Annotator.stored = False`, e.g. `HtmlSignals`) on the document's re-read WARC record. A parent ledger row of
the stage is re-hydrated only when the stage could now keep it (`Rule.may_keep`, or any annotator change).

`dedup` takes the recipe's `dedup_*` parameters without the prefix (`corpus_tools.dedup.DEDUP_PARAMS`);
`release` only rebuilds the release files.
"""

from __future__ import annotations

import re

from corpus_tools.core.document import Annotator, Rule
from corpus_tools.core.errors import ConfigError
from corpus_tools.core.recipe import Param

DOC_STAGES = ("lid", "rights", "quality", "pii")
ORDER = DOC_STAGES + ("dedup", "release")
RECOMPUTE = Param(bool, False, "re-run the stage's annotators on kept documents too, not only re-decide")
_TYPES = {"bool": bool, "int": int, "float": float, "str": str, "tuple": tuple, "list": tuple}


def parse_stages(spec: str) -> list[str]:
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in ORDER]
    if unknown or not names:
        raise ConfigError(f"unknown stage(s) {unknown or spec!r}: choose from {', '.join(ORDER)} (comma-separated)")
    return sorted(dict.fromkeys(names), key=ORDER.index)  # recipe order: `pii,quality` means `quality,pii`


def stage_steps(steps: list, stage: str) -> list:
    return [s for s in steps if getattr(type(s), "restage", None) == stage]


def _type_of(annotation) -> type:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    head = text.replace(" ", "").split("|")[0].split("[")[0]
    return _TYPES.get(head, str)


def step_params(cls) -> dict[str, Param]:
    """A step class's constructor parameters as `Param`s (type from the annotation, the one default)."""
    out = {}
    for name, p in cls.parameters().items():
        default = None if p.default is p.empty else p.default
        out[name] = Param(_type_of(p.annotation), default, _help(cls, name))
    return out


_ENTRY = re.compile(r"^\s*[a-z_]+: ")


def _help(cls, name: str) -> str:
    """The `name: ...` entry of the class docstring (where every step documents its parameters)."""
    lines = (cls.__doc__ or "").splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(f"{name}:"):
            text = [line.strip()[len(name) + 1:].strip()]
            for more in lines[i + 1:]:
                if not more.strip() or _ENTRY.match(more):
                    break
                text.append(more.strip())
            return " ".join(text).rstrip(";.")
    return ""


def stage_params(steps: list, stage: str) -> dict[str, Param]:
    """Every `--param` of a stage: the constructor parameters of its steps, plus `recompute`."""
    if stage == "dedup":
        from corpus_tools.dedup import DEDUP_PARAMS

        return {k.removeprefix("dedup_"): p for k, p in DEDUP_PARAMS.items()}
    out = {}
    for step in stage_steps(steps, stage):
        out.update(step_params(type(step)))
    if out:
        out["recompute"] = RECOMPUTE
    return out


def versions(steps: list, stage: str) -> dict:
    """What decides in a stage: its rules' names and versions, and what its annotators say of themselves."""
    if stage == "dedup":
        from corpus_tools.dedup.exact import EXACT_RULE, NORMALISATION_VERSION
        from corpus_tools.dedup.minhash import MINHASH_RULE

        return {"rules": [EXACT_RULE, MINHASH_RULE], "normalisation": NORMALISATION_VERSION}
    if stage == "release":
        from corpus_tools.release.build import FORMAT

        return {"format": FORMAT}
    out: dict = {"rules": []}
    for step in stage_steps(steps, stage):
        if isinstance(step, Rule):
            out["rules"].extend(step.rule.split(","))
        out.update(getattr(step, "versions", dict)())
    return out


def split_params(stages: list[str], steps: list, raw: dict[str, str]) -> dict[str, dict]:
    """`--param key=value` -> {stage: {key: raw value}}. `stage.key=value` names the stage; a bare key must be
    unique among the stages (or one a step accepts through `param_key`)."""
    out: dict[str, dict] = {s: {} for s in stages}
    for key, value in raw.items():
        head, _, rest = key.partition(".")
        if head in stages and rest:
            out[head][rest] = value
            continue
        owners = [s for s in stages if _accepts(steps, s, key)]
        if not owners:
            raise ConfigError(f"no stage of {','.join(stages)} has a parameter {key!r}: see `corpus stages`")
        if len(owners) > 1:
            raise ConfigError(f"--param {key} is ambiguous ({', '.join(owners)}): write STAGE.{key}=VALUE")
        out[owners[0]][key] = value
    return out


def _aliases(steps: list, stage: str) -> dict[str, str]:
    return {a: n for s in stage_steps(steps, stage) for a, n in getattr(type(s), "param_aliases", {}).items()}


def _accepts(steps: list, stage: str, key: str) -> bool:
    key = _aliases(steps, stage).get(key, key)
    return key in stage_params(steps, stage) or _hooked(stage_steps(steps, stage), key, "0") is not None


def _hooked(steps: list, key: str, value: str):
    """(step, parameter, item) from the first step whose `param_key` takes `key` (None if none does); a
    bad value for a key a step takes is its ConfigError."""
    for step in steps:
        hook = getattr(type(step), "param_key", None)
        taken = hook(key, value) if hook is not None else None
        if taken is not None:
            return (step, *taken)
    return None


def _parse(param: Param, key: str, raw: str):
    if param.type is tuple:
        return tuple(x.strip() for x in str(raw).split(",") if x.strip())
    return param.parse(key, str(raw))


class StagePlan:
    """One document stage of a restage: the parent's steps of the stage, the new values, what changed.

    parent_steps: the parent recipe's per-document steps (instances, with earlier restages applied);
    raw: this stage's `--param`s (strings)."""

    def __init__(self, stage: str, parent_steps: list, raw: dict[str, str]):
        self.stage = stage
        self.parent = stage_steps(parent_steps, stage)
        if not self.parent:
            raise ConfigError(f"the parent's pipeline has no step of stage {stage}: re-run it with `corpus run` instead")
        params, aliases = stage_params(parent_steps, stage), _aliases(parent_steps, stage)
        self.recompute = False
        self.values: dict[str, object] = {}
        for key, value in raw.items():
            key = aliases.get(key, key)
            if key == "recompute":
                self.recompute = _parse(RECOMPUTE, key, value)
            elif key in params:
                self.values[key] = _parse(params[key], key, value)
            else:
                self._extra(key, value)
        self.new = [self._rebuilt(step) for step in self.parent]
        self.changed = {}
        for old, new in zip(self.parent, self.new):
            before = old.params()
            for k, v in new.params().items():
                if before[k] == v or k in self.changed:
                    continue
                if k == "overrides" and hasattr(new, "changes"):
                    self.changed.update(new.changes(old))  # each COLUMN[.LANG] with the parent's table value
                else:
                    self.changed[k] = {"old": _jsonable(before[k]), "new": _jsonable(v)}
        if self.recompute:
            self.changed["recompute"] = {"old": False, "new": True}

    def _extra(self, key: str, value: str) -> None:
        hooked = _hooked(self.parent, key, value)
        if hooked is None:
            raise ConfigError(f"stage {self.stage} has no parameter {key!r}: see `corpus stages`")
        step, name, item = hooked
        merged = {(o[0], o[1]): o for o in (*self.values.get(name, getattr(step, name)), item)}
        self.values[name] = tuple(sorted(merged.values()))

    def _rebuilt(self, step):
        cls = type(step)
        kwargs = {**step.params(), **{k: v for k, v in self.values.items() if k in cls.parameters()}}
        return step if kwargs == step.params() else cls(**kwargs)

    @property
    def annotators_rerun(self) -> bool:
        """Annotators run on kept documents too: one of their parameters changed, or `recompute`."""
        return self.recompute or any(isinstance(n, Annotator) and n is not o for o, n in zip(self.parent, self.new))

    def steps(self) -> dict[int, list]:
        """{id(parent step): the steps that replace it in the restage pipeline}."""
        from corpus_tools.restage.steps import OnlyRevived, Refetched

        out = {}
        for old, new in zip(self.parent, self.new):
            if isinstance(new, Rule):
                out[id(old)] = [new]
            elif not self.annotators_rerun:
                out[id(old)] = [OnlyRevived(new)]
            else:
                out[id(old)] = [new if getattr(new, "stored", True) else Refetched(new)]
        return out

    def candidate(self, row: dict) -> bool:
        """May this parent ledger row (of this stage) be kept now? Only such rows are re-hydrated."""
        if self.annotators_rerun:
            return True
        return any(n.may_keep(row, o) for o, n in zip(self.parent, self.new) if isinstance(n, Rule) and n is not o)


def _jsonable(v):
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    return v


def recipe_steps(pipeline: str = "eu_web", params: dict | None = None, robots: list | None = None,
                 output: str = "", run_id: str = "") -> list:
    """The per-document steps (instances) of a recipe's first phase, reader and writer left out."""
    from corpus_tools.core.document import DocumentStep
    from corpus_tools.core.recipe import RunOptions, load_recipe

    opts = RunOptions(inputs=[], output=output, files=[], params={**(params or {}), "dedup": "false"},
                      robots=list(robots or []), run_id=run_id)
    phases = load_recipe(pipeline).build(opts)
    return [s for s in phases[0].pipeline if isinstance(s, DocumentStep)]
