# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install schema clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/loyalty db upgrade
	$(BIN)/loyalty seed demo
	@$(BIN)/loyalty apikey create --name graphiql --replace
	@echo
	@echo "GraphiQL: http://$(HOST):$(PORT)/graphql  (paste the headers above into its Headers tab as JSON;"
	@echo "          another port or address: make run PORT=9000 HOST=0.0.0.0)"
	$(BIN)/loyalty serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

schema: $(STAMP)
	$(BIN)/loyalty export-schema > schema.graphql

clean:
	rm -rf $(VENV) var
