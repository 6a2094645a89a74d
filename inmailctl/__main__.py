from inmailctl.cli import main

main()
