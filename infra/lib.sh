# Shared by infra/up and infra/test: install what is missing, start PostgreSQL and RabbitMQ as local
# processes with their data under $WEBINAR_DATA_DIR, build, and start the services. Sourced, not run.
# shellcheck shell=bash

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

: "${WEBINAR_DATA_DIR:=$REPO/.data}"
: "${WEBINAR_HTTP_PORT:=8080}"
# Every default port is below Linux's ephemeral range (32768-60999), so no outgoing connection can take one first.
: "${WEBINAR_PG_PORT:=25432}"
: "${WEBINAR_RABBITMQ_PORT:=25672}"
: "${WEBINAR_RABBITMQ_DIST_PORT:=$((WEBINAR_RABBITMQ_PORT + 1))}"
: "${WEBINAR_EPMD_PORT:=24369}"
: "${WEBINAR_SFU_WS_BASE_PORT:=8181}"
: "${WEBINAR_SFU_UDP_BASE_PORT:=20000}"
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

# True when a TCP socket listens on port $1. It asks the kernel (ss) instead of connecting: a connect probe to a
# free port inside the ephemeral range can connect to itself (TCP simultaneous open) and report the port open.
port_open() { ss -Hltn "( sport = :$1 )" 2>/dev/null | grep -q .; }

# Warns when a configured port lies in the ephemeral range, where an outgoing connection may hold it first.
check_ports() {
  local low high p
  read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || return 0
  for p in "$WEBINAR_HTTP_PORT" "$WEBINAR_PG_PORT" "$WEBINAR_RABBITMQ_PORT" "$WEBINAR_RABBITMQ_DIST_PORT" "$WEBINAR_EPMD_PORT" \
    "$WEBINAR_SFU_WS_BASE_PORT" "$WEBINAR_SFU_UDP_BASE_PORT"; do
    if [ "$p" -ge "$low" ] && [ "$p" -le "$high" ]; then
      say "warning: port $p is inside the ephemeral range $low-$high; an outgoing connection may take it first"
    fi
  done
}

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
  command -v ss >/dev/null || missing+=(iproute2)
  command -v curl >/dev/null || missing+=(curl)
  command -v turnserver >/dev/null || missing+=(coturn)
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
  dpkg -s libvpx7 >/dev/null 2>&1 || missing+=(libvpx7)   # VP8 for the connector (P/Invoke)
  dpkg -s libopus0 >/dev/null 2>&1 || missing+=(libopus0) # Opus for the connector (P/Invoke)
  dpkg -s libssl3 >/dev/null 2>&1 || missing+=(libssl3)   # OpenSSL 3 DTLS for the node's DTLS server (P/Invoke)
  for p in "$@"; do
    case "$p" in
      chromium) command -v chromium >/dev/null || missing+=(chromium fonts-liberation) ;;
      iproute2) command -v ip >/dev/null && command -v tc >/dev/null || missing+=(iproute2) ;;
      webrtcbin) # GStreamer's WebRTC stack (libnice, OpenSSL DTLS) driven from Python: the end-to-end interop peer
        for q in gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice \
                 python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0; do
          dpkg -s "$q" >/dev/null 2>&1 || missing+=("$q")
        done ;;
      iptables) command -v iptables >/dev/null || missing+=(iptables) ;;
      libnss3-tools) command -v certutil >/dev/null || missing+=(libnss3-tools) ;;
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
# reach the repository (a checkout under a private home, a 0700 WEBINAR_DATA_DIR from mktemp -d), the cluster
# lives under /var/tmp instead. Its log goes beside the cluster, where the postgres user can always write.
pg_dir() {
  local dir="$WEBINAR_DATA_DIR/pg"
  if ! runuser -u postgres -- test -w "$(dirname "$dir")" 2>/dev/null && ! runuser -u postgres -- test -x "$WEBINAR_DATA_DIR" 2>/dev/null; then
    dir="/var/tmp/webinar-pg-$WEBINAR_PG_PORT"
  fi
  echo "$dir"
}

pg_log() { echo "$(pg_dir).log"; }

start_postgres() {
  local dir log; dir="$(pg_dir)"; log="$(pg_log)"
  if port_open "$WEBINAR_PG_PORT"; then
    "$PG_BIN/psql" -h 127.0.0.1 -p "$WEBINAR_PG_PORT" -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1 \
      || die "something listens on port $WEBINAR_PG_PORT but it is not a PostgreSQL that user postgres can use without a password; stop it or set WEBINAR_PG_PORT"
    say "reusing the PostgreSQL already on 127.0.0.1:$WEBINAR_PG_PORT (user postgres answers)"
    return 0
  fi
  mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "creating a PostgreSQL cluster in $dir"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOG_DIR/initdb.log" 2>&1 \
      || die "initdb failed (see $LOG_DIR/initdb.log)"
  fi
  say "starting PostgreSQL on 127.0.0.1:$WEBINAR_PG_PORT"
  touch "$log" && chown postgres "$log"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" -l "$log" -w -t 60 \
    -o "-p $WEBINAR_PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=/tmp -c max_connections=400 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null || die "PostgreSQL did not start (see $log)"
  STARTED_PG=1
}

stop_postgres() {
  [ "${STARTED_PG:-0}" = 1 ] || return 0
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$(pg_dir)" -m fast stop >/dev/null 2>&1 || true
}

start_rabbitmq() {
  if port_open "$WEBINAR_RABBITMQ_PORT"; then
    "$REPO/infra/rabbitmq" ctl status >/dev/null 2>&1 \
      || die "something listens on port $WEBINAR_RABBITMQ_PORT but it is not our RabbitMQ node (webinar$WEBINAR_RABBITMQ_PORT@localhost); stop it or set WEBINAR_RABBITMQ_PORT"
    say "reusing our RabbitMQ node already on 127.0.0.1:$WEBINAR_RABBITMQ_PORT (webinar$WEBINAR_RABBITMQ_PORT@localhost answers)"
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

# Bus trust (docs/architecture.md, "Trust model"): one P-256 key pair per principal — the control plane and each
# node infra/up starts (node id <region>-a) — every public key in one directory that all of them read.
ensure_trust_keys() {
  local dir="$WEBINAR_DATA_DIR/keys/trust" principal
  mkdir -p "$dir/private" && chmod 700 "$dir/private"
  for principal in control-plane $(for r in $WEBINAR_REGIONS; do echo "$r-a"; done); do
    [ -f "$dir/private/$principal.key.pem" ] && [ -f "$dir/$principal.pub.pem" ] && continue
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$dir/private/$principal.key.pem"
    openssl ec -in "$dir/private/$principal.key.pem" -pubout -out "$dir/$principal.pub.pem" 2>/dev/null
    chmod 600 "$dir/private/$principal.key.pem"
  done
  export WEBINAR_TRUST_KEYS_DIR="$dir"
}

# The development platform's webhook signing secret (never its API key), kept across runs.
ensure_webhook_secret() {
  local file="$WEBINAR_DATA_DIR/keys/webhook-secret"
  if [ -z "${WEBINAR_WEBHOOK_SECRET:-}" ]; then
    [ -f "$file" ] || { echo "whsec-$(openssl rand -hex 24)" >"$file"; chmod 600 "$file"; }
    WEBINAR_WEBHOOK_SECRET="$(cat "$file")"
  fi
  export WEBINAR_WEBHOOK_SECRET
}

# RabbitMQ users with only what each role needs (infra/rabbitmq grant): webinar-control-plane and webinar-sfu, with
# passwords kept under $WEBINAR_DATA_DIR/keys. Skipped when the broker was not started here (a reused broker keeps
# whatever users it has; the services then use WEBINAR_*_RABBITMQ_USER if set, else guest).
ensure_rabbitmq_users() {
  [ "${STARTED_RABBIT:-0}" = 1 ] || { say "RabbitMQ was not started here: not creating its users"; return 0; }
  local dir="$WEBINAR_DATA_DIR/keys" role user
  "$REPO/infra/rabbitmq" ctl await_startup >/dev/null 2>&1 || die "RabbitMQ did not finish starting"
  for role in control-plane sfu; do
    user="webinar-$role"
    [ -f "$dir/rabbitmq-$role.password" ] || openssl rand -hex 24 >"$dir/rabbitmq-$role.password"
    chmod 600 "$dir/rabbitmq-$role.password"
    "$REPO/infra/rabbitmq" grant "$role" "$user" "$(cat "$dir/rabbitmq-$role.password")" "${WEBINAR_RABBITMQ_VHOST:-/}" \
      || die "could not create the RabbitMQ user $user"
  done
  export WEBINAR_CONTROL_PLANE_RABBITMQ_USER=webinar-control-plane WEBINAR_SFU_RABBITMQ_USER=webinar-sfu
  WEBINAR_CONTROL_PLANE_RABBITMQ_PASSWORD="$(cat "$dir/rabbitmq-control-plane.password")"
  WEBINAR_SFU_RABBITMQ_PASSWORD="$(cat "$dir/rabbitmq-sfu.password")"
  export WEBINAR_CONTROL_PLANE_RABBITMQ_PASSWORD WEBINAR_SFU_RABBITMQ_PASSWORD
}

build() {
  say "building ($WEBINAR_CONFIGURATION)"
  dotnet build "$REPO/Webinar.sln" -c "$WEBINAR_CONFIGURATION" -v quiet -nologo >"$LOG_DIR/build.log" 2>&1 \
    || { tail -40 "$LOG_DIR/build.log" >&2; die "build failed (see $LOG_DIR/build.log)"; }
}

service_dll() { echo "$REPO/src/$1/bin/$WEBINAR_CONFIGURATION/net10.0/$1.dll"; }

# HTTP status of GET $1 with our API key (000 when nothing answers).
api_status() { curl -s -o /dev/null -w '%{http_code}' -m 5 -H "Authorization: Bearer $WEBINAR_API_KEY" "http://127.0.0.1:$WEBINAR_HTTP_PORT$1" || true; }

start_control_plane() {
  if port_open "$WEBINAR_HTTP_PORT"; then
    local status; status="$(api_status '/meetings?MaxResults=1')"
    case "$status" in
      200) say "reusing the control plane already on http://127.0.0.1:$WEBINAR_HTTP_PORT (it accepts our API key)" ;;
      401) die "the control plane on port $WEBINAR_HTTP_PORT refuses our API key ($WEBINAR_DATA_DIR/keys/api-key): another copy runs there; stop it or set WEBINAR_HTTP_PORT" ;;
      *) die "something listens on port $WEBINAR_HTTP_PORT but is not a control plane (GET /meetings answered $status); stop it or set WEBINAR_HTTP_PORT" ;;
    esac
    return 0
  fi
  say "starting the control plane on http://127.0.0.1:$WEBINAR_HTTP_PORT"
  control_plane_tls_environment
  (cd "$REPO/src/Webinar.ControlPlane" && exec env "${CONTROL_PLANE_ENV[@]}" dotnet "$(service_dll Webinar.ControlPlane)" >"$LOG_DIR/control-plane.log" 2>&1) &
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
      curl -fs -m 5 -o /dev/null "http://127.0.0.1:$ws/healthz" \
        || die "something listens on port $ws but is not an SFU node (no /healthz); stop it or set WEBINAR_SFU_WS_BASE_PORT"
      say "reusing the SFU node already on 127.0.0.1:$ws as the $region node (it must heartbeat to this control plane: see below)"
      continue
    fi
    say "starting the SFU node for $region (signalling ws://127.0.0.1:$ws, media udp/$udp and tcp/$udp on every address)"
    sfu_tls_environment $((i - 1))
    (cd "$REPO/src/Webinar.Sfu" && WEBINAR_SFU_REGION="$region" WEBINAR_SFU_NODE_ID="$region-a" \
      WEBINAR_SFU_WS_PORT="$ws" WEBINAR_SFU_UDP_PORT="$udp" \
      exec env "${SFU_ENV[@]}" dotnet "$(service_dll Webinar.Sfu)" >"$LOG_DIR/sfu-$region.log" 2>&1) &
    PIDS+=($!)
    wait_port "$ws" 60 "the $region SFU node"
  done
}

# Waits until every region has a healthy node (GET /readyz/nodes answers 200): until then CreateMeeting answers 503.
wait_for_regions() { # seconds
  local i body
  for ((i = 0; i < $1 * 2; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$WEBINAR_HTTP_PORT/readyz/nodes" || true)" = 200 ] && return 0
    sleep 0.5
  done
  body="$(curl -s -m 5 "http://127.0.0.1:$WEBINAR_HTTP_PORT/readyz/nodes" || true)"
  die "not every region has a healthy SFU node after $1 s: $body (logs: $LOG_DIR)"
}

stop_services() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

stop_all() {
  stop_services
  stop_coturn
  stop_rabbitmq
  stop_postgres
}

prepare() {
  mkdir -p "$WEBINAR_DATA_DIR" "$LOG_DIR"
  ensure_packages "$@"
  check_ports
  start_postgres
  start_rabbitmq
  ensure_keys
  prepare_turn_tls
}

# ---- TURN (coturn) and TLS -----------------------------------------------------------------------------------------
# Kept in functions of their own. The TURN secret and the development certificates are made once and cached in the
# data dir; the control plane mints TURN credentials with the same secret; every TLS listener uses the same certificate.
# These settings go only to the processes started here (never exported), so the tests' own services don't inherit them.
: "${WEBINAR_TURN_PORT:=3478}"
: "${WEBINAR_TURNS_PORT:=5349}"
: "${WEBINAR_HTTPS_PORT:=8443}"
: "${WEBINAR_SFU_WSS_BASE_PORT:=8451}"

# This machine's first non-loopback IPv4 address (what another host uses), or 127.0.0.1.
machine_address() {
  local a
  for a in $(hostname -I 2>/dev/null); do case "$a" in *:*) ;; *) echo "$a"; return 0 ;; esac; done
  echo 127.0.0.1
}

# The development CA and server certificate (infra/dev-certs), unless WEBINAR_TLS_CERT_FILE names a real one.
ensure_tls_certificates() {
  if [ -z "${WEBINAR_TLS_CERT_FILE:-}" ]; then
    "$REPO/infra/dev-certs" "$WEBINAR_DATA_DIR/tls" || die "could not create the development certificates"
    WEBINAR_TLS_CERT_FILE="$WEBINAR_DATA_DIR/tls/server.pem" WEBINAR_TLS_KEY_FILE="$WEBINAR_DATA_DIR/tls/server.key.pem"
  fi
}

# The TURN secret shared by coturn and the control plane, and the URLs attendees get (UDP, TCP, TLS).
ensure_turn_secret() {
  local dir="$WEBINAR_DATA_DIR/keys" host
  mkdir -p "$dir"
  if [ -z "${WEBINAR_TURN_SECRET:-}" ]; then
    [ -f "$dir/turn-secret" ] || (umask 077; openssl rand -hex 32 >"$dir/turn-secret")
    WEBINAR_TURN_SECRET="$(cat "$dir/turn-secret")"
  fi
  host="$(machine_address)"
  : "${WEBINAR_TURN_URLS:=turn:$host:$WEBINAR_TURN_PORT?transport=udp turn:$host:$WEBINAR_TURN_PORT?transport=tcp turns:$host:$WEBINAR_TURNS_PORT?transport=tcp}"
}

# TLS settings every service gets (as NAME=VALUE words for env).
tls_environment() {
  TLS_ENV=("WEBINAR_TLS_CERT_FILE=$WEBINAR_TLS_CERT_FILE" "WEBINAR_TLS_KEY_FILE=${WEBINAR_TLS_KEY_FILE:-$WEBINAR_TLS_CERT_FILE}")
}

# The control plane's: HTTPS on every address, and the TURN secret and URLs it mints credentials for.
control_plane_tls_environment() {
  tls_environment
  CONTROL_PLANE_ENV=("${TLS_ENV[@]}" "WEBINAR_HTTPS_PORT=$WEBINAR_HTTPS_PORT" "WEBINAR_TURN_SECRET=$WEBINAR_TURN_SECRET" "WEBINAR_TURN_URLS=$WEBINAR_TURN_URLS")
}

# Node i's: WSS on port WSS_BASE+i, its signalling URL naming this machine's address.
sfu_tls_environment() { # index
  tls_environment
  SFU_ENV=("${TLS_ENV[@]}" "WEBINAR_SFU_WSS_PORT=$((WEBINAR_SFU_WSS_BASE_PORT + $1))" "WEBINAR_SFU_SIGNALING_HOST=${WEBINAR_SFU_SIGNALING_HOST:-$(machine_address)}")
}

start_coturn() {
  say "starting coturn on udp/tcp $WEBINAR_TURN_PORT, tls $WEBINAR_TURNS_PORT"
  tls_environment
  env "${TLS_ENV[@]}" WEBINAR_TURN_SECRET="$WEBINAR_TURN_SECRET" WEBINAR_TURN_PORT="$WEBINAR_TURN_PORT" WEBINAR_TURNS_PORT="$WEBINAR_TURNS_PORT" \
    "$REPO/infra/coturn" start || die "coturn did not start (see $WEBINAR_DATA_DIR/coturn-$WEBINAR_TURN_PORT/)"
  STARTED_COTURN=1
}

stop_coturn() {
  [ "${STARTED_COTURN:-0}" = 1 ] || return 0
  WEBINAR_TURN_SECRET="$WEBINAR_TURN_SECRET" WEBINAR_TURN_PORT="$WEBINAR_TURN_PORT" "$REPO/infra/coturn" stop || true
}

prepare_turn_tls() {
  ensure_tls_certificates
  ensure_turn_secret
  start_coturn
}

# ---- Docker (the integration tests' containers, docker-compose) ----------------------------------------------------
# Debian's docker.io engine (API 1.41) started here when no engine answers: its data under $WEBINAR_DATA_DIR/docker,
# published ports on 127.0.0.1 unless a container names another address, the firewall untouched. Images come from infra/images (debootstrap,
# docker import), nothing is pulled. These functions are kept apart from the rest of this file.
ensure_docker() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] || ensure_packages "${missing[@]}"
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  say "starting dockerd (data in $WEBINAR_DATA_DIR/docker, published ports on 127.0.0.1)"
  mkdir -p "$WEBINAR_DATA_DIR/docker"
  # --iptables=false: the engine leaves the firewall alone (its FORWARD DROP policy and NAT rules would change what the
  # network-namespace and ICE-TCP tests see); published ports go through docker-proxy, containers talk over their
  # bridge, and nothing in a container needs to reach outside this machine.
  setsid dockerd --data-root "$WEBINAR_DATA_DIR/docker" --pidfile "$WEBINAR_DATA_DIR/docker.pid" --ip 127.0.0.1 --iptables=false \
    >"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 600; i++)); do
    docker info >/dev/null 2>&1 && { STARTED_DOCKER=1; return 0; }
    sleep 0.1
  done
  die "dockerd did not answer within 60 s (see $LOG_DIR/dockerd.log)"
}

# Builds (or finds cached) the local base images and exports their names (WEBINAR_*_IMAGE) for the tests and compose.
ensure_images() {
  ensure_docker
  "$REPO/infra/images/build" >"$LOG_DIR/images.log" 2>&1 || { tail -30 "$LOG_DIR/images.log" >&2; die "building the local images failed (see $LOG_DIR/images.log)"; }
  export WEBINAR_RABBITMQ_IMAGE=webinar-local/rabbitmq:local WEBINAR_POSTGRES_IMAGE=webinar-local/postgresql:local \
    WEBINAR_COTURN_IMAGE=webinar-local/coturn:local WEBINAR_DOTNET_IMAGE=webinar-local/dotnet-runtime:local
}

# Removes what the tests left behind (the compose project; test containers: Testcontainers' resource reaper needs an
# image from a registry, so it is off) and, when dockerd was started here, stops it.
stop_docker() {
  command -v docker >/dev/null || return 0
  local leftovers
  if [ -n "$(docker ps -aq --filter label=com.docker.compose.project=webinar-local 2>/dev/null || true)" ]; then
    "$REPO/infra/compose" down >/dev/null 2>&1 || true
  fi
  leftovers="$(docker ps -aq --filter label=org.testcontainers=true 2>/dev/null || true)"
  [ -z "$leftovers" ] || docker rm -f $leftovers >/dev/null 2>&1 || true
  [ "${STARTED_DOCKER:-0}" = 1 ] || return 0
  kill "$(cat "$WEBINAR_DATA_DIR/docker.pid" 2>/dev/null)" 2>/dev/null || true
  local i
  for ((i = 0; i < 200; i++)); do docker info >/dev/null 2>&1 || return 0; sleep 0.1; done
}
