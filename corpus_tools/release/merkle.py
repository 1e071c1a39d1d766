"""RFC 6962 / RFC 9162 Merkle trees: the tamper evidence of a release.

    from corpus_tools.release.merkle import merkle_root, inclusion_proof, verify_inclusion
    root = merkle_root([bytes.fromhex(h) for h in shard_sha256s])   # leaves in sorted path order

Hashing (RFC 6962 sec. 2.1): leaf = SHA-256(0x00 || data), interior node = SHA-256(0x01 || left || right); the
empty tree hashes to SHA-256(""). A tree of n leaves splits at k, the largest power of two below n, so an
auditor can recompute the root with any RFC 6962 implementation (Certificate Transparency, trillian, sigsum).
"""

from __future__ import annotations

import hashlib
import json


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _root(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(_root(hashes[:k]), _root(hashes[k:]))


def merkle_root(leaves: list[bytes]) -> str:
    """Hex root over the leaf *data* (hashed here with the 0x00 prefix)."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    # iterative bottom-up would need the same split rule; recursion depth is only log2(n)
    return _root([leaf_hash(d) for d in leaves]).hex()


def inclusion_proof(leaves: list[bytes], index: int) -> list[str]:
    """Audit path (RFC 6962 sec. 2.1.1) of leaf `index`: sibling hashes from the leaf up, hex."""
    hashes = [leaf_hash(d) for d in leaves]

    def path(m: int, hs: list[bytes]) -> list[bytes]:
        if len(hs) <= 1:
            return []
        k = _split(len(hs))
        if m < k:
            return path(m, hs[:k]) + [_root(hs[k:])]
        return path(m - k, hs[k:]) + [_root(hs[:k])]

    return [h.hex() for h in path(index, hashes)]


def verify_inclusion(data: bytes, index: int, size: int, proof: list[str], root: str) -> bool:
    """RFC 9162 sec. 2.1.3.2: recompute the root from one leaf and its audit path."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash(data)
    for p in (bytes.fromhex(x) for x in proof):
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == root


def document_leaf(doc_id: str, text_sha256: str, redistribution: str | None, train_eligible: bool | None) -> bytes:
    """Leaf data of the documents tree: the compact JSON array [id, text_sha256, redistribution, train_eligible]."""
    return json.dumps([doc_id, text_sha256, redistribution, train_eligible], separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")
