from lookback.cli import main

main()
