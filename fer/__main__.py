import sys

from fer.cli import main

sys.exit(main())
