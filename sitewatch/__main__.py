import sys

from sitewatch.cli import main

sys.exit(main())
