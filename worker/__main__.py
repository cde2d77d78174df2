"""`python -m worker` is the same command as `attendance-courier`."""

from worker.cli import main

if __name__ == "__main__":
    main()
