"""The auditor's side: read-only DuckDB views over a release and the `corpus audit` commands.

    from corpus_tools.release.store import open_release, connect
    with open_release("out/sample") as rel:
        con = connect(rel)
        con.execute("SELECT count(*) FROM documents").fetchone()
"""
