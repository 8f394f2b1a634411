import sys

from gates.checkov.cli import main

sys.exit(main())
