#!/usr/bin/env bash
# Installs the local BigQuery emulator (local-bigquery, needs Python 3.13) into <repo>/.venv-bqemu
# and stages the DuckDB extensions it needs into a private HOME, because DuckDB would otherwise
# download them at runtime and the network is closed. Safe to run again: it exits at once when
# everything is already in place.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-bqemu"
DUCKDB_VERSION=1.5.5
EXTENSIONS=(ducklake icu spatial httpfs)
PACKAGES=("local-bigquery==0.3.2" "duckdb==$DUCKDB_VERSION")
for e in "${EXTENSIONS[@]}"; do PACKAGES+=("duckdb-extension-$e==$DUCKDB_VERSION"); done
EXT_DIR="$VENV/home/.duckdb/extensions/v$DUCKDB_VERSION/linux_amd64"
STAMP="$VENV/.installed"

if [[ -x "$VENV/bin/local-bigquery" && -f "$STAMP" && "$(cat "$STAMP")" == "${PACKAGES[*]}" ]]; then
    echo "BigQuery emulator already installed in $VENV"
    exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    PYENV_ROOT="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
    PY313="${PY313:-$PYENV_ROOT/versions/3.13.0/bin/python3.13}"
    [[ -x "$PY313" ]] || { echo "Python 3.13 not found at $PY313 (set PY313=/path/to/python3.13)" >&2; exit 1; }
    "$PY313" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --quiet "${PACKAGES[@]}"

mkdir -p "$EXT_DIR"
for e in "${EXTENSIONS[@]}"; do
    pkg_dir="$("$VENV/bin/python" -c "import duckdb_extension_$e as m, os; print(os.path.dirname(m.__file__))")"
    cp "$pkg_dir/extensions/v$DUCKDB_VERSION/$e.duckdb_extension" "$EXT_DIR/"
done

echo "${PACKAGES[*]}" > "$STAMP"
echo "Installed BigQuery emulator (${PACKAGES[*]}) into $VENV"
