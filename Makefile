# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CATALOGUES := $(wildcard kiosk/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

.PHONY: run test test-quick lint messages system-test-deps printing-deps bench bench-replica

run: $(VENV)/.installed $(COMPILED) printing-deps
	$(BIN)/kiosk run

test: $(VENV)/.installed-test $(COMPILED) system-test-deps printing-deps
	$(BIN)/ruff check kiosk tests bench
	$(BIN)/bandit -q -r kiosk --severity-level medium
	$(BIN)/python -m pytest

# The unit and test-client tests only: no browser, no server subprocess.
test-quick: $(VENV)/.installed-test $(COMPILED)
	$(BIN)/python -m pytest -m "not e2e and not slow"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check kiosk tests bench
	$(BIN)/bandit -q -r kiosk --severity-level medium
	$(BIN)/ruff format --check kiosk tests bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

kiosk/translations/%/LC_MESSAGES/messages.mo: kiosk/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -d kiosk/translations -l $*

# Re-extract the English msgids after changing templates or code, then translate the new entries.
# `pybabel update` updates every catalogue under kiosk/translations: ar, fr and zgh (Tamazight,
# whose staff-only entries may stay empty: tests/unit/test_zgh_catalogue.py checks the donor's).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output -w 100 -o kiosk/translations/messages.pot .
	$(BIN)/pybabel update -i kiosk/translations/messages.pot -d kiosk/translations --no-fuzzy-matching -w 100

# Browser tests drive Debian's Chromium and need fonts with Arabic glyphs.
system-test-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'noto.*arabic\|dejavu'; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core fonts-dejavu-core >/dev/null; \
	  else \
	    echo "Browser tests need Debian's chromium and fonts-noto-core: run 'sudo apt-get install chromium fonts-noto-core'"; \
	  fi; \
	fi

# The export's encryption test opens an encrypted bundle with 7-Zip, as the centre's clerk would.
.PHONY: seven-zip
system-test-deps: seven-zip
seven-zip:
	@if ! command -v 7z >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq p7zip-full >/dev/null; \
	  else \
	    echo "The 7-Zip check of encrypted bundles needs Debian's p7zip-full: run 'sudo apt-get install p7zip-full'"; \
	  fi; \
	fi

# The spreadsheet test opens the bundle's CSV and XLSX in LibreOffice Calc, headless, as the
# centre's clerk would (tests/security/test_spreadsheet_clients.py); it skips, saying why,
# where LibreOffice is missing.
.PHONY: libreoffice
system-test-deps: libreoffice
libreoffice:
	@if ! command -v soffice >/dev/null && ! command -v libreoffice >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null; \
	  else \
	    echo "The spreadsheet test needs Debian's libreoffice-calc-nogui: run 'sudo apt-get install libreoffice-calc-nogui'"; \
	  fi; \
	fi

# Thermal tickets draw Arabic and Tifinagh with Pillow's raqm layout (FriBiDi from Debian) in
# DejaVu Sans; without FriBiDi they fall back to arabic-reshaper + python-bidi.
printing-deps: $(VENV)/.installed
	@if ! $(BIN)/python -c "from PIL import features; raise SystemExit(not features.check('raqm'))" 2>/dev/null \
	    || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libfribidi0 fonts-dejavu-core >/dev/null; \
	  else \
	    echo "Thermal tickets need libfribidi0 and fonts-dejavu-core: run 'sudo apt-get install libfribidi0 fonts-dejavu-core'"; \
	  fi; \
	fi

# The PostgreSQL tests start a private server from Debian's binaries (tests/postgres.py); they
# skip, saying why, where PostgreSQL is missing.
.PHONY: postgresql
system-test-deps: postgresql
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "The PostgreSQL tests need Debian's postgresql: run 'sudo apt-get install postgresql'"; \
	  fi; \
	fi

# Figures, not pass/fail: the real server on a fresh instance, driven over loopback (see
# docs/performance.md). Options: make bench BENCH_ARGS="--quick --json figures.json".
bench: $(VENV)/.installed $(COMPILED)
	$(BIN)/python -m bench $(BENCH_ARGS)

# The live replica's recovery point: 10 crash drills (tablet killed, venue restored from the
# replica), each printing what was lost; see docs/operating.md, "The live replica".
bench-replica: $(VENV)/.installed-test $(COMPILED)
	$(BIN)/python -m bench.replica_drill $(BENCH_ARGS)
