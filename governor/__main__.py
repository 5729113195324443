from governor.main import main

raise SystemExit(main())
