import sys

from goldloop.cli import main

sys.exit(main())
