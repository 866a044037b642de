"""`python -m plantlake` is the `plantlake` command."""

from plantlake.cli import main

main()
