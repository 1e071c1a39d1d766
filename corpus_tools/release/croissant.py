"""`croissant.json`: an MLCommons Croissant 1.1 description of a release (spec licensing.md sec. 5.2).

One `cr:FileObject` per shard and ledger file with its sha256, a `cr:FileSet` per kind, RecordSets `documents`
and `exclusions` whose fields are the Parquet columns (corpus_tools/core/schema.py), usage conditions per
redistribution class as ODRL policies in `usageInfo` targeting that class's shards, PROV-O lineage to the
input WARC files, and the Croissant RAI collection properties.
"""

from __future__ import annotations

import pyarrow as pa

from corpus_tools import __version__
from corpus_tools.core.schema import DOCUMENT_SCHEMA, EXCLUSION_SCHEMA

CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/", "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/", "dct": "http://purl.org/dc/terms/", "prov": "http://www.w3.org/ns/prov#",
    "odrl": "http://www.w3.org/ns/odrl/2/", "citeAs": "cr:citeAs", "column": "cr:column", "conformsTo": "dct:conformsTo",
    "data": {"@id": "cr:data", "@type": "@json"}, "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "extract": "cr:extract", "field": "cr:field", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet", "format": "cr:format",
    "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset", "key": "cr:key", "recordSet": "cr:recordSet",
    "references": "cr:references", "repeated": "cr:repeated", "source": "cr:source", "subField": "cr:subField",
}
CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
PARQUET = "application/x-parquet"
# What each redistribution class allows (DESIGN.md; spec licensing.md sec. 3.3). `distribute` is ODRL's action.
USAGE = {
    "open": ("Public domain or CC0: redistribution and modification permitted without conditions.", "permission", []),
    "attribution": ("CC BY and national open licences: redistribution permitted with attribution (URL, licence).", "permission", ["attribution"]),
    "sharealike": ("CC BY-SA, GFDL: redistribution with attribution; derived datasets under the same licence.", "permission", ["attribution", "shareAlike"]),
    "noncommercial": ("CC BY-NC(-SA): redistribution for non-commercial purposes only.", "permission", ["attribution", "nonCommercialUse"]),
    "noderivatives": ("CC BY-ND: processed text is an adaptation; not redistributed.", "prohibition", []),
    "unknown": ("No usable licence signal: not redistributable; kept for training under DSM Art. 4 where no opt-out applies.", "prohibition", []),
    "reserved": ("Machine-readable opt-out or an 'all rights reserved' notice: kept for audit only, never redistributed; "
                 "train_eligible says whether a document may be mined (false for an opt-out under DSM Art. 4).", "prohibition", []),
}


def _data_type(t: pa.DataType) -> tuple[str, bool]:
    if pa.types.is_list(t):
        inner, _ = _data_type(t.value_type)
        return inner, True
    if pa.types.is_boolean(t):
        return "sc:Boolean", False
    if pa.types.is_integer(t):
        return "sc:Integer", False
    if pa.types.is_floating(t):
        return "sc:Float", False
    return "sc:Text", False


def _fields(set_id: str, file_set: str, schema: pa.Schema) -> list[dict]:
    out = []
    for f in schema:
        dtype, repeated = _data_type(f.type)
        field = {"@type": "cr:Field", "@id": f"{set_id}/{f.name}", "name": f.name, "dataType": dtype,
                 "source": {"fileSet": {"@id": file_set}, "extract": {"column": f.name}}}
        if repeated:
            field["repeated"] = True
        if pa.types.is_struct(f.type) or (pa.types.is_list(f.type) and pa.types.is_struct(f.type.value_type)):
            field["description"] = f"structured value ({f.type})"
        out.append(field)
    return out


def _file_object(entry: dict, kind: str) -> dict:
    return {"@type": "cr:FileObject", "@id": entry["path"], "name": entry["path"], "contentUrl": entry["path"],
            "encodingFormat": PARQUET, "contentSize": f"{entry['bytes']} B", "sha256": entry["sha256"],
            "description": f"{kind}: {entry['rows']} rows"}


def build_croissant(url: str, meta: dict, shards: list[dict], ledgers: list[dict], inputs: list[dict],
                    config_sha256: str, summary: dict, created: str) -> dict:
    classes = sorted({s["redistribution"] for s in shards})
    usage = []
    for c in classes:
        text, kind, duties = USAGE.get(c, (f"redistribution class {c!r}: treat as not redistributable.", "prohibition", []))
        rule = {"odrl:action": "odrl:distribute"}
        if duties:
            rule["odrl:duty"] = [{"odrl:action": f"cc:{d}"} for d in duties]
        usage.append({"@type": "odrl:Offer", "@id": f"policy/{c}", "name": f"redistribution={c}", "description": text,
                      f"odrl:{kind}": [rule], "odrl:target": [{"@id": s["path"]} for s in shards if s["redistribution"] == c]})
    period = summary["collection_period"]
    file_sets = [{"@type": "cr:FileSet", "@id": "shards", "name": "shards", "encodingFormat": PARQUET,
                  "includes": "shards/language=*/redistribution_class=*/part-*.parquet"},
                 {"@type": "cr:FileSet", "@id": "exclusions", "name": "exclusions", "encodingFormat": PARQUET,
                  "includes": "exclusions/**/part-*.parquet"}]
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": f"corpus-tools-release-{meta['release_id']}",
        "description": (f"Curated multilingual web text produced by corpus-tools {__version__}. Merkle root (RFC 6962) of the "
                        f"shard sha256s: {meta['merkle_root']}; of the documents: {meta['documents_root']}. "
                        "Shards are partitioned by language and redistribution class; see usageInfo."),
        "license": [{"@type": "sc:CreativeWork", "name": f"redistribution={c}",
                     "description": USAGE.get(c, ("",))[0]} for c in classes],
        "url": url,
        "version": meta["version"],
        "identifier": meta["merkle_root"],
        "creator": {"@type": "sc:Organization", "name": "corpus-tools pipeline operator"},
        "datePublished": created,
        "usageInfo": usage,
        "isLiveDataset": False,
        "prov:wasDerivedFrom": [{"@id": i["path"], "sha256": i["sha256"]} for i in inputs],
        "prov:wasGeneratedBy": {"@type": "prov:Activity", "name": "corpus-tools pipeline run",
                                "description": f"pipeline config sha256 {config_sha256}"},
        "rai:dataCollection": "Web crawl captures (WARC) processed by corpus-tools: extraction, language identification, rights, quality, PII masking, deduplication.",
        "rai:dataCollectionType": "Web Scraping",
        "rai:dataCollectionTimeframe": f"{period['first_capture']}/{period['latest_capture']}" if period["first_capture"] else "",
        "rai:personalSensitiveInformation": summary["pii"]["measures"],
        "rai:dataPreprocessingProtocol": "Every record read is either kept or excluded with a stage, rule and evidence in the exclusions ledger.",
        "distribution": [_file_object(s, "documents") for s in shards] + [_file_object(e, "exclusions") for e in ledgers] + file_sets,
        "recordSet": [
            {"@type": "cr:RecordSet", "@id": "documents", "name": "documents", "key": {"@id": "documents/id"},
             "field": _fields("documents", "shards", DOCUMENT_SCHEMA)},
            {"@type": "cr:RecordSet", "@id": "exclusions", "name": "exclusions", "key": {"@id": "exclusions/id"},
             "field": _fields("exclusions", "exclusions", EXCLUSION_SCHEMA)},
        ],
    }
