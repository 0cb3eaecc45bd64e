from gaitpose.cli import main

raise SystemExit(main())
