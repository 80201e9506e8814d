from frsearch.cli import main

main()
