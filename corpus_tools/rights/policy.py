"""The rights policy: a versioned JSON file in `manifests/` (default `manifests/policy-v2.json`).

Shipped: `policy-v2.json` (`rights-policy-v2`, the default: a copyright notice is not an opt-out),
`policy-strict-v1.json` (`rights-policy-strict-v1`: rights-policy-v1's decisions, a notice makes a page
untrainable) and `policy-v1.json` (the first default, kept so that old releases' configs still load).

It says which opt-out signals count, what happens to an opted-out document (`reserve` or `drop`), which
robots.txt capture is used, how sure a licence must be, and the licence family -> redistribution class
table. It is validated against `manifests/policy.schema.json` when the pipeline is built; an invalid file
is a ConfigError naming the bad key. Use another policy with `corpus run eu_web … --param policy=PATH`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from corpus_tools.core.errors import ConfigError
from corpus_tools.core.languages import data_dir

MANIFESTS = data_dir("manifests")
DEFAULT_POLICY = MANIFESTS / "policy-v2.json"
STRICT_POLICY = MANIFESTS / "policy-strict-v1.json"
SCHEMA = MANIFESTS / "policy.schema.json"
CLASSES = ("open", "attribution", "sharealike", "noncommercial", "noderivatives", "unknown", "reserved")


@dataclass(frozen=True)
class Policy:
    path: str
    data: dict
    agents: tuple[str, ...]
    agents_version: str

    @property
    def version(self) -> str:
        return self.data["policy_version"]

    def __getitem__(self, key):
        return self.data[key]


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found: give an existing file (default {DEFAULT_POLICY.name} in manifests/)") from None
    except UnicodeDecodeError as e:  # a ValueError without .msg: a binary file (an image) given as the policy
        raise ConfigError(f"{what} {path} is not UTF-8 text (byte {e.start}: {e.reason}): give a JSON policy file") from None
    except ValueError as e:
        raise ConfigError(f"{what} {path} is not valid JSON ({e.msg} at line {e.lineno}): fix the file") from None


@lru_cache(maxsize=8)
def load_policy(path: str | None = None) -> Policy:
    """Load and validate a policy file (None = the default); raise ConfigError naming the bad key."""
    import jsonschema

    p = Path(path) if path else DEFAULT_POLICY
    if not p.exists() and not p.is_absolute() and p.parts[0] == "manifests":
        p = MANIFESTS.joinpath(*p.parts[1:])  # a bundled policy named as in the checkout, from any folder
    data = _read_json(p, "policy")
    schema = _read_json(SCHEMA, "policy schema")
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        key = ".".join(str(x) for x in err.path)
        if err.validator == "required":
            key = ".".join([*[str(x) for x in err.path], str(err.message.split("'")[1])])
        elif err.validator == "additionalProperties":
            key = ".".join([*[str(x) for x in err.path], err.message.split("'")[1]])
        raise ConfigError(f"policy {p}: bad key '{key or '(top level)'}': {err.message}; "
                          f"see manifests/policy.schema.json")
    agents_path = Path(data["agents"])
    if not agents_path.is_absolute() and not agents_path.exists():
        agents_path = MANIFESTS / agents_path
    agents = _read_json(agents_path, "agent list")
    tokens = agents.get("agents") if isinstance(agents, dict) else None
    if not isinstance(tokens, list) or not all(isinstance(a, dict) and isinstance(a.get("token"), str) for a in tokens) \
            or not isinstance(agents.get("version"), str):
        raise ConfigError(f"agent list {agents_path}: bad key 'agents' or 'version': expected "
                          '{"version": "...", "agents": [{"token": "GPTBot"}, ...]}')
    return Policy(path=str(p), data=data, agents=tuple(a["token"] for a in tokens), agents_version=agents["version"])
