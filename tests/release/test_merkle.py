"""RFC 6962 Merkle trees against the Certificate Transparency reference vectors, and inclusion proofs."""

from __future__ import annotations

import hashlib

import pytest

from corpus_tools.release.merkle import document_leaf, inclusion_proof, merkle_root, verify_inclusion

# The leaves and roots of the CT reference tests (certificate-transparency merkle_tree_test / trillian).
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_empty_tree_is_sha256_of_nothing():
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("n", range(1, 9))
def test_ct_reference_roots(n):
    assert merkle_root(LEAVES[:n]) == ROOTS[n - 1]


def test_leaf_and_node_are_domain_separated():
    # a two-leaf tree's root must not equal a leaf whose data is the concatenation of the leaf hashes
    a, b = b"a", b"b"
    la, lb = hashlib.sha256(b"\x00a").digest(), hashlib.sha256(b"\x00b").digest()
    assert merkle_root([a, b]) == hashlib.sha256(b"\x01" + la + lb).hexdigest()
    assert merkle_root([la + lb]) != merkle_root([a, b])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 13])
def test_inclusion_proofs_verify_and_fail_when_tampered(size):
    leaves = [f"leaf-{i}".encode() for i in range(size)]
    root = merkle_root(leaves)
    for i in range(size):
        proof = inclusion_proof(leaves, i)
        assert verify_inclusion(leaves[i], i, size, proof, root)
        assert not verify_inclusion(b"forged", i, size, proof, root)
        if proof:
            bad = [("00" * 32)] + proof[1:]
            assert not verify_inclusion(leaves[i], i, size, bad, root)


def test_document_leaf_is_compact_json():
    assert document_leaf("ab", "cd", "open", True) == b'["ab","cd","open",true]'
    assert document_leaf("ab", "cd", None, None) == b'["ab","cd",null,null]'
