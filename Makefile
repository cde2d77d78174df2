# Two commands do all the set-up on a fresh machine:
#   make demo   installs the project in .venv and runs the whole job on the sample data
#   make test   installs what the tests need (mail servers too, as root) and runs them
PYTHON ?= python3
VENV ?= .venv
HOME_DIR ?= var/demo
BIN := $(VENV)/bin

.PHONY: demo test install install-test lint clean

$(BIN)/attendance-courier: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/attendance-courier
	bash scripts/check-system.sh $(BIN)/python

demo: install
	$(BIN)/attendance-courier --home $(HOME_DIR) demo

test: install
	bash scripts/test-deps.sh
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check worker tests bench

clean:
	rm -rf $(VENV) var
