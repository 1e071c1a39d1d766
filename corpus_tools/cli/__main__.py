"""`python -m corpus_tools.cli ...` runs the `corpus` command."""

from corpus_tools.cli import main

if __name__ == "__main__":
    main()
