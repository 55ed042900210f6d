from hazmon.cli import main

main()
