"""The recipe contract: what a recipe module (pipelines/*.py) builds and takes.

    from corpus_tools.core.recipe import Param, Phase, RunOptions, check_params

`PARAMS = {"key": Param(type, default, help)}` declares every `--param` a recipe (and `corpus stage`) accepts,
each default once; `Param.parse` is the one parser of `--param key=value` strings. `build(opts)` returns
`Phase`s, which the driver (`corpus_tools.run.driver`) runs in order.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

from corpus_tools.core.errors import ConfigError
from corpus_tools.core.languages import data_dir


@dataclass
class RunOptions:
    """What the CLI passes to a recipe. `params` holds recipe-specific `--param key=value` pairs."""

    inputs: list[str]
    output: str
    files: list[str] = field(default_factory=list)
    tasks: int = 0
    workers: int = 1
    limit: int = -1
    executor: str = "local"
    ray_address: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    robots: list[str] = field(default_factory=list)  # robots.txt / tdmrep.json capture WARCs (`--robots`)


@dataclass(frozen=True)
class Param:
    """One recipe parameter: `type` is bool, int, float or str; `default` its value when not given."""

    type: type
    default: object
    help: str = ""

    @classmethod
    def of(cls, step: type, name: str, help: str = "") -> "Param":
        """The recipe parameter that sets `step`'s constructor parameter `name`: its type and its one default
        come from the step's signature, so the recipe never restates them."""
        import inspect

        default = inspect.signature(step.__init__).parameters[name].default
        return cls(type(default), default, help)

    def parse(self, key: str, raw: str):
        if self.type is bool:
            if raw.strip().lower() not in ("true", "false"):
                raise ConfigError(f"--param {key}={raw!r} is not a boolean: give {key}=true or {key}=false")
            return raw.strip().lower() == "true"
        try:
            return self.type(raw)
        except ValueError:
            raise ConfigError(f"--param {key}={raw!r} is not {'an integer' if self.type is int else 'a number'}: "
                              f"give e.g. {key}={self.default}") from None


def check_params(table: dict[str, Param] | None, params: dict[str, str]) -> dict:
    """Typed values of every param in a recipe's PARAMS `table` (defaults filled in); ConfigError on an unknown
    key or a bad value. A recipe without a PARAMS table accepts any key (its own code reads `opts.params`)."""
    if table is None:
        return dict(params)
    unknown = sorted(set(params) - set(table))
    if unknown:
        raise ConfigError(f"unknown --param {', '.join(unknown)}: this recipe takes {', '.join(sorted(table))}")
    return {k: (p.parse(k, params[k]) if k in params else p.default) for k, p in table.items()}


@dataclass
class Phase:
    """One executor's worth of work. `tasks` = number of parallel tasks; 0 means one per input file."""

    name: str
    pipeline: list
    tasks: int


PIPELINES_DIR = data_dir("pipelines")


def load_recipe_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if not path.suffix:
        path = PIPELINES_DIR / f"{name_or_path}.py"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PIPELINES_DIR.glob("*.py") if not p.stem.startswith("_")))
        raise ConfigError(f"unknown pipeline {name_or_path!r}: give a recipe file or one of: {known}")
    return path


def load_recipe(name_or_path: str):
    path = load_recipe_path(name_or_path)
    spec = importlib.util.spec_from_file_location(f"corpus_recipe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so steps defined in the recipe can be pickled by value for Ray workers
    spec.loader.exec_module(module)
    if not hasattr(module, "build"):
        raise ConfigError(f"pipeline {path} has no build(opts) function")
    return module
