# Shared helpers for the project's scripts: step tracking, loud failures, dependencies.
# Sourced, not run.

CURRENT_STEP="start"
step() {
    CURRENT_STEP="$*"
    echo "==> $*"
}
on_error() {
    local rc=$?
    echo "" >&2
    echo "$(basename "$0"): FAILED (exit $rc) at step: $CURRENT_STEP" >&2
    exit "$rc"
}
trap on_error ERR

export PATH="/opt/swift/usr/bin:$PATH"

# Installs the Debian packages the build and the tests need, only when one is missing,
# so running the scripts twice costs nothing the second time.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        step "installing ${missing[*]} with apt"
        if [ "$(id -u)" -ne 0 ]; then
            echo "need root to install: ${missing[*]}" >&2
            return 1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
}

BUILD_PACKAGES=(libzstd-dev zlib1g-dev libturbojpeg0-dev libspng-dev libwebp-dev pkg-config)
DATA_PACKAGES=(dataset-fashion-mnist)

# ensure_venv DIR IMPORT PIP_PACKAGE...: a Python venv at DIR in which `import IMPORT` works,
# created and filled from PyPI only when it does not yet.
ensure_venv() {
    local dir="$1" module="$2"
    shift 2
    if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c "import $module" >/dev/null 2>&1; then
        return 0
    fi
    ensure_packages python3-venv
    step "creating the Python venv $dir ($*)"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
}

# The test of `ringtrain report` renders the page in a real browser (scripts/check-report.sh).
BROWSER_PACKAGES=(chromium)
