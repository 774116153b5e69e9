# Shared by infra/up and infra/test: install what is missing, start PostgreSQL and RabbitMQ as local
# processes with their data under $WEBINAR_DATA_DIR, build, and start the services. Sourced, not run.
# shellcheck shell=bash

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

: "${WEBINAR_DATA_DIR:=$REPO/.data}"
: "${WEBINAR_HTTP_PORT:=8080}"
: "${WEBINAR_PG_PORT:=55432}"
: "${WEBINAR_RABBITMQ_PORT:=55672}"
: "${WEBINAR_RABBITMQ_DIST_PORT:=$((WEBINAR_RABBITMQ_PORT + 1))}"
: "${WEBINAR_EPMD_PORT:=54369}"
: "${WEBINAR_SFU_WS_BASE_PORT:=8181}"
: "${WEBINAR_SFU_UDP_BASE_PORT:=40000}"
: "${WEBINAR_REGIONS:=us-east-1 eu-west-1 ap-southeast-1}"
: "${WEBINAR_IDLE_TIMEOUT_SECONDS:=300}"
: "${WEBINAR_CONFIGURATION:=Release}"
: "${WEBINAR_ARCHIVE_DIR:=$WEBINAR_DATA_DIR/archives}"
export WEBINAR_DATA_DIR WEBINAR_HTTP_PORT WEBINAR_PG_PORT WEBINAR_RABBITMQ_PORT WEBINAR_RABBITMQ_DIST_PORT \
  WEBINAR_EPMD_PORT WEBINAR_SFU_WS_BASE_PORT WEBINAR_SFU_UDP_BASE_PORT WEBINAR_REGIONS WEBINAR_IDLE_TIMEOUT_SECONDS WEBINAR_ARCHIVE_DIR
export WEBINAR_PG_HOST=127.0.0.1 WEBINAR_RABBITMQ_HOST=127.0.0.1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

PG_BIN=/usr/lib/postgresql/15/bin
RABBIT_BIN=/usr/lib/rabbitmq/bin
LOG_DIR="$WEBINAR_DATA_DIR/logs"
PIDS=()

say() { printf '\033[1m[webinar]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds what
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_open "$1" && return 0
    sleep 0.1
  done
  die "$3 did not open port $1 within $2 s (logs: $LOG_DIR)"
}

# Installs the Debian packages the system needs, only those that are missing.
ensure_packages() {
  local missing=()
  [ -x "$PG_BIN/postgres" ] && id postgres >/dev/null 2>&1 || missing+=(postgresql)
  [ -x "$RABBIT_BIN/rabbitmq-server" ] || missing+=(rabbitmq-server)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
  for p in "$@"; do
    case "$p" in
      chromium) command -v chromium >/dev/null || missing+=(chromium fonts-liberation) ;;
      iproute2) command -v ip >/dev/null && command -v tc >/dev/null || missing+=(iproute2) ;;
      iptables) command -v iptables >/dev/null || missing+=(iptables) ;;
      *) dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$LOG_DIR/apt.log" 2>&1 || die "apt-get update failed (see $LOG_DIR/apt.log)"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed (see $LOG_DIR/apt.log)"
}

# PostgreSQL refuses to run as root: its cluster belongs to the 'postgres' user. When that user cannot
# reach the repository (a checkout under a private home), the cluster lives under /var/tmp instead.
pg_dir() {
  local dir="$WEBINAR_DATA_DIR/pg"
  if ! runuser -u postgres -- test -w "$(dirname "$dir")" 2>/dev/null && ! runuser -u postgres -- test -x "$WEBINAR_DATA_DIR" 2>/dev/null; then
    dir="/var/tmp/webinar-pg-$WEBINAR_PG_PORT"
  fi
  echo "$dir"
}

start_postgres() {
  local dir; dir="$(pg_dir)"
  if port_open "$WEBINAR_PG_PORT"; then
    say "PostgreSQL already listening on 127.0.0.1:$WEBINAR_PG_PORT, reusing it"
    return 0
  fi
  mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "creating a PostgreSQL cluster in $dir"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOG_DIR/initdb.log" 2>&1 \
      || die "initdb failed (see $LOG_DIR/initdb.log)"
  fi
  say "starting PostgreSQL on 127.0.0.1:$WEBINAR_PG_PORT"
  touch "$LOG_DIR/postgres.log" && chown postgres "$LOG_DIR/postgres.log"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" -l "$LOG_DIR/postgres.log" -w -t 60 \
    -o "-p $WEBINAR_PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=/tmp -c max_connections=400 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null || die "PostgreSQL did not start (see $LOG_DIR/postgres.log)"
  STARTED_PG=1
}

stop_postgres() {
  [ "${STARTED_PG:-0}" = 1 ] || return 0
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$(pg_dir)" -m fast stop >/dev/null 2>&1 || true
}

start_rabbitmq() {
  if port_open "$WEBINAR_RABBITMQ_PORT"; then
    say "RabbitMQ already listening on 127.0.0.1:$WEBINAR_RABBITMQ_PORT, reusing it"
    return 0
  fi
  say "starting RabbitMQ on 127.0.0.1:$WEBINAR_RABBITMQ_PORT"
  "$REPO/infra/rabbitmq" start || die "RabbitMQ did not start (see $WEBINAR_DATA_DIR/rabbitmq-$WEBINAR_RABBITMQ_PORT/)"
  STARTED_RABBIT=1
}

stop_rabbitmq() {
  [ "${STARTED_RABBIT:-0}" = 1 ] || return 0
  "$REPO/infra/rabbitmq" stop || true
}

# The join-token key pair: the control plane signs with the private key, nodes verify with the public key.
ensure_keys() {
  local dir="$WEBINAR_DATA_DIR/keys"
  mkdir -p "$dir"
  if [ ! -f "$dir/join-token.key.pem" ]; then
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$dir/join-token.key.pem"
    openssl ec -in "$dir/join-token.key.pem" -pubout -out "$dir/join-token.pub.pem" 2>/dev/null
    chmod 600 "$dir/join-token.key.pem"
  fi
  if [ -z "${WEBINAR_API_KEY:-}" ]; then
    [ -f "$dir/api-key" ] || echo "dev-$(openssl rand -hex 16)" >"$dir/api-key"
    WEBINAR_API_KEY="$(cat "$dir/api-key")"
  fi
  export WEBINAR_API_KEY
  export WEBINAR_JOIN_TOKEN_PRIVATE_KEY_FILE="$dir/join-token.key.pem"
  export WEBINAR_JOIN_TOKEN_PUBLIC_KEY_FILE="$dir/join-token.pub.pem"
}

build() {
  say "building ($WEBINAR_CONFIGURATION)"
  dotnet build "$REPO/Webinar.sln" -c "$WEBINAR_CONFIGURATION" -v quiet -nologo >"$LOG_DIR/build.log" 2>&1 \
    || { tail -40 "$LOG_DIR/build.log" >&2; die "build failed (see $LOG_DIR/build.log)"; }
}

service_dll() { echo "$REPO/src/$1/bin/$WEBINAR_CONFIGURATION/net10.0/$1.dll"; }

start_control_plane() {
  if port_open "$WEBINAR_HTTP_PORT"; then
    say "something already listens on 127.0.0.1:$WEBINAR_HTTP_PORT, reusing it as the control plane"
    return 0
  fi
  say "starting the control plane on http://127.0.0.1:$WEBINAR_HTTP_PORT"
  (cd "$REPO/src/Webinar.ControlPlane" && exec dotnet "$(service_dll Webinar.ControlPlane)" >"$LOG_DIR/control-plane.log" 2>&1) &
  PIDS+=($!)
  wait_port "$WEBINAR_HTTP_PORT" 60 "the control plane"
}

# One SFU node per region: node i gets WebSocket port WS_BASE+i and media port UDP_BASE+i (UDP, and TCP for
# ICE-TCP), on every address of the machine (the node's default media addresses; see docs/operations.md).
start_sfu_nodes() {
  [ -f "$(service_dll Webinar.Sfu)" ] || return 0
  local i=0 region ws udp
  for region in $WEBINAR_REGIONS; do
    ws=$((WEBINAR_SFU_WS_BASE_PORT + i)); udp=$((WEBINAR_SFU_UDP_BASE_PORT + i)); i=$((i + 1))
    if port_open "$ws"; then
      say "something already listens on 127.0.0.1:$ws, reusing it as the $region node"
      continue
    fi
    say "starting the SFU node for $region (signalling ws://127.0.0.1:$ws, media udp/$udp and tcp/$udp on every address)"
    (cd "$REPO/src/Webinar.Sfu" && WEBINAR_SFU_REGION="$region" WEBINAR_SFU_NODE_ID="$region-a" \
      WEBINAR_SFU_WS_PORT="$ws" WEBINAR_SFU_UDP_PORT="$udp" \
      exec dotnet "$(service_dll Webinar.Sfu)" >"$LOG_DIR/sfu-$region.log" 2>&1) &
    PIDS+=($!)
    wait_port "$ws" 60 "the $region SFU node"
  done
}

stop_services() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

stop_all() {
  stop_services
  stop_rabbitmq
  stop_postgres
}

prepare() {
  mkdir -p "$WEBINAR_DATA_DIR" "$LOG_DIR"
  ensure_packages "$@"
  start_postgres
  start_rabbitmq
  ensure_keys
}
