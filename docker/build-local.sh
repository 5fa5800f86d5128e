#!/usr/bin/env bash
# Builds docker/Dockerfile.cpu (sracl-cpu:latest) without any image registry: the base
# image is made here from Debian packages (debootstrap), so the machine needs only a
# Docker engine, a Debian mirror and a Python package index. On a machine that reaches
# Docker Hub, `docker build -f docker/Dockerfile.cpu -t sracl-cpu:latest .` is the same
# build on the public python:3.11-slim-bookworm.
#
#   bash docker/build-local.sh                # base image (once) + sracl-cpu:latest
#   bash docker/build-local.sh --rebuild-base # make the base image again
#   bash docker/build-local.sh --no-cache     # build the image without the layer cache
#   bash docker/build-local.sh --gpu          # docker/Dockerfile.gpu -> sracl-gpu:latest on
#                                             # the same base (Python 3.11; CUDA from wheels)
#   bash docker/build-local.sh --git HEAD     # build a commit (git archive), not the work
#                                             # tree with whatever is half-edited in it
#
# Environment (all optional):
#   SRACL_BASE_IMAGE   name of the local base image       (default sracl-base:bookworm)
#   SRACL_IMAGE        name of the built image     (default sracl-cpu:latest, sracl-gpu:latest)
#   DEBIAN_MIRROR      the Debian mirror for debootstrap   (default http://deb.debian.org/debian)
#   DEBIAN_SECURITY_MIRROR  its security updates     (default http://deb.debian.org/debian-security)
#   SRACL_CA_BUNDLE    a CA bundle the image should trust, e.g. a TLS-inspecting proxy's
#                      (default: this host's /etc/ssl/certs/ca-certificates.crt)
#   TORCH_INDEX_URL    an index with torch 2.13.0+cpu. Default: when a torch-2.13.0+cpu
#                      wheel lies in SRACL_WHEELS (default: pip's find-links on this host,
#                      else /opt/wheels) it is served to the build from a local index;
#                      otherwise the Dockerfile's default (PyTorch's CPU index).
#                      (on 127.0.0.1:$SRACL_TORCH_INDEX_PORT, default 38765: a fixed URL,
#                      so the layer cache holds from one build to the next)
#   PIP_INDEX_URL      the index for every other package (default: the Dockerfile's, PyPI)
#
# Prints the build time and the image size at the end (also in $SRACL_BUILD_REPORT,
# default /tmp/sracl-build-report.txt, as key=value lines).
set -euo pipefail
cd "$(dirname "$0")/.."

base_image="${SRACL_BASE_IMAGE:-sracl-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ca_bundle="${SRACL_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
report="${SRACL_BUILD_REPORT:-/tmp/sracl-build-report.txt}"
security_mirror="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
rebuild_base=0
no_cache=()
target=cpu
git_ref=""
for arg in "$@"; do
  if [ "$git_ref" = next ]; then git_ref="$arg"; continue; fi
  case "$arg" in
    --gpu) target=gpu ;;
    --rebuild-base) rebuild_base=1 ;;
    --no-cache) no_cache=(--no-cache) ;;
    --git) git_ref=next ;;
    --git=*) git_ref="${arg#--git=}" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-; exit 0 ;;
    *) echo "build-local: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

log() { echo "build-local: $*"; }
die() { echo "build-local: $*" >&2; exit 1; }
[ "$git_ref" != next ] || die "--git needs a commit, e.g. --git HEAD"
image="${SRACL_IMAGE:-sracl-$target:latest}"

docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd, or check DOCKER_HOST)"

tmp=$(mktemp -d /tmp/sracl-build.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# 1. The base image: Debian bookworm minbase with Python 3.11 and venv, like
#    python:3.11-slim-bookworm (python3 is 3.11 in both; python and pip are not needed:
#    the Dockerfile makes its own venv).
if [ "$rebuild_base" = 1 ] || ! docker image inspect "$base_image" >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "making the base image needs root (debootstrap)"
  command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
  base_start=$(date +%s)
  root="$tmp/rootfs"
  log "making $base_image with debootstrap from $mirror"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$root" "$mirror" > "$tmp/debootstrap.log" 2>&1 \
    || { tail -20 "$tmp/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  if [ -f "$ca_bundle" ]; then
    # This host's trust store (with any proxy CA it has) replaces the image's.
    cp "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
  fi
  ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
  # The same apt sources a Docker Hub Debian image has; no docs, no apt lists.
  echo "deb $mirror bookworm main" > "$root/etc/apt/sources.list"
  echo "deb $mirror bookworm-updates main" >> "$root/etc/apt/sources.list"
  echo "deb $security_mirror bookworm-security main" >> "$root/etc/apt/sources.list"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/locale/*
  tar -C "$root" -c . | docker import \
    --change 'ENV LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' - "$base_image" >/dev/null
  log "$base_image made in $(( $(date +%s) - base_start )) s"
else
  log "using the existing $base_image (--rebuild-base makes it again)"
fi

# 2. Where torch's CPU build comes from (the GPU image takes PyPI's CUDA build).
if [ "$target" = gpu ]; then
  build_args=(--build-arg "CUDA_IMAGE=$base_image" --build-arg PYTHON=python3
              --build-arg "PYTHON_PACKAGES=python3-venv python3-dev")
else
  build_args=(--build-arg "BASE_IMAGE=$base_image")
fi
if [ -n "${PIP_INDEX_URL:-}" ]; then
  build_args+=(--build-arg "PIP_INDEX_URL=$PIP_INDEX_URL")
fi
if [ "$target" = gpu ]; then
  :
elif [ -n "${TORCH_INDEX_URL:-}" ]; then
  build_args+=(--build-arg "TORCH_INDEX_URL=$TORCH_INDEX_URL")
else
  wheels="${SRACL_WHEELS:-$(pip config get global.find-links 2>/dev/null || true)}"
  wheels="${wheels:-/opt/wheels}"
  wheel=$(ls "$wheels"/torch-2.13.0+cpu-cp311-*.whl 2>/dev/null | head -1 || true)
  if [ -n "$wheel" ]; then
    # A PEP 503 index of that one wheel, served on a free loopback port for the build
    # (which runs on the host network).
    mkdir -p "$tmp/index/simple/torch"
    ln -s "$wheel" "$tmp/index/simple/torch/$(basename "$wheel")"
    printf '<a href="%s">%s</a>\n' "$(basename "$wheel")" "$(basename "$wheel")" \
      > "$tmp/index/simple/torch/index.html"
    # A fixed port keeps the build arg, and so Docker's layer cache, the same from one
    # build to the next; a random free one when it is taken.
    port="${SRACL_TORCH_INDEX_PORT:-38765}"
    if ! python3 -c "import socket, sys; socket.socket().bind(('127.0.0.1', int(sys.argv[1])))" \
        "$port" 2>/dev/null; then
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    fi
    python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/index" \
      > "$tmp/http.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 50); do
      curl -sf "http://127.0.0.1:$port/simple/torch/" >/dev/null && break
      sleep 0.1
    done
    build_args+=(--build-arg "TORCH_INDEX_URL=http://127.0.0.1:$port/simple")
    log "torch CPU wheel served from $wheel"
  else
    log "no local torch CPU wheel: the build reads the Dockerfile's TORCH_INDEX_URL"
  fi
fi

# 3. The image. --network host: the build reaches the package indexes (and the local
#    torch index) as this host does.
log "building $image from docker/Dockerfile.$target (the first build downloads GBs of wheels)"
start=$(date +%s)
if [ -n "$git_ref" ]; then
  commit=$(git rev-parse --verify "$git_ref^{commit}") || die "no commit '$git_ref'"
  log "context: commit $commit (git archive)"
  git archive --format=tar "$commit" \
    | docker build --network host "${no_cache[@]}" -f "docker/Dockerfile.$target" \
        "${build_args[@]}" -t "$image" -
else
  docker build --network host "${no_cache[@]}" -f "docker/Dockerfile.$target" \
    "${build_args[@]}" -t "$image" .
fi
seconds=$(( $(date +%s) - start ))
size=$(docker image inspect -f '{{.Size}}' "$image")
base_size=$(docker image inspect -f '{{.Size}}' "$base_image")
{
  echo "image=$image"
  echo "build_seconds=$seconds"
  echo "image_bytes=$size"
  echo "base_image=$base_image"
  echo "base_image_bytes=$base_size"
} > "$report"
log "built $image in $seconds s: $(( size / 1000000 )) MB (base $(( base_size / 1000000 )) MB)"
