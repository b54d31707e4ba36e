import sys

from render_worker.cli import main

if __name__ == "__main__":
    sys.exit(main())
