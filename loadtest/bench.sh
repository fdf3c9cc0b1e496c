#!/usr/bin/env bash
# Performance benchmarks of gpu-telemetry, one command per scenario. Everything listens on 127.0.0.1
# and is started here (broker, store, roles, peer, load generators) and stopped on exit.
#
#   loadtest/bench.sh drain  [--events N] [--runs R] [--no-peer]   processor drain, and the MongoDB sink connector on the same topics
#   loadtest/bench.sh peer   [--events N] [--runs R]               the peer alone (for trying its settings)
#   loadtest/bench.sh ingest [--duration S] [--runs R]             HTTP ingest: wrk at full speed, paced at half of it, ProducerPerformance
#   loadtest/bench.sh otlp   [--duration S] [--runs R]             OTLP/HTTP token spans (protobuf) against JSON ingest, same run
#   loadtest/bench.sh paced  --rates R[,R...] [--batch B] [--duration S] [--runs R]   HTTP ingest at fixed rates only
#   loadtest/bench.sh e2e    [--rates 1000,5000,10000] [--duration S] [--runs R]   event time -> stored, at fixed rates
#
# Options: --runs R (default 3) --events N (drain/peer, default 1000000) --duration S (ingest default 20,
# e2e default 60) --warmup S (e2e and paced runs, default 10) --rates LIST (e2e) --conns C (ingest, default 32)
# --peer-tasks N --peer-poll N --peer-batch N --peer-write replace|insert (peer settings)
# --batch B (paced, default 100) --jfr (record the processor / producer with Java Flight Recorder) --out DIR (default target/bench/...).
# --store-gc parallel|g1 (the Mongo-wire stand-in's collector: parallel, the default, for throughput; g1 with
# a 50 ms pause goal for latency runs, since real MongoDB has no stop-the-world collector). GC logs of the
# store and the processor go to OUT/*.gc.log.
# BENCH_JAR=path runs another build of the jar (e.g. an older commit's, for a before/after comparison).
# Needs: Java 17, Maven (resolves the broker, Connect and the connector into loadtest/.cache once),
# wrk for `ingest` (apt-get install -y wrk), python3 (free ports), curl, awk.
# Exit status: 0 when every run completed and stored exactly what was produced; non-zero otherwise.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CACHE=$HERE/.cache
JAR=${BENCH_JAR:-$ROOT/target/gpu-telemetry.jar}
CLASSES=$CACHE/classes
KCP="$CACHE/lib-kafka/*"
CONNECT_CP="$CACHE/lib-connect/*:$CACHE/lib-kafka/reload4j-1.2.19.jar:$CACHE/lib-kafka/slf4j-reload4j-1.7.36.jar"
WATCH_CP="$CLASSES:$CACHE/lib-sink/*"
STORE_CP="$CLASSES:$CACHE/lib-store/*"
LOG4J="-Dlog4j.configuration=file:$HERE/log4j.properties"
ROLE_HEAP=${ROLE_HEAP:--Xmx256m}

SCENARIO=${1:-}
[[ -n $SCENARIO ]] || { sed -n '2,20p' "$0"; exit 2; }
shift
STORE_GC=parallel RUNS=3 EVENTS=1000000 DURATION="" WARMUP=10 RATES=1000,5000,10000 CONNS=32 WITH_PEER=1 JFR=0 OUT=""
BATCH=100
WRK_OPTS=${WRK_OPTS:-}
# The peer's best settings here (see docs/performance.md for the others tried).
PEER_TASKS=2 PEER_POLL=2000 PEER_BATCH=0 PEER_WRITE=insert
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) RUNS=$2; shift ;;
    --events) EVENTS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --rates) RATES=$2; shift ;;
    --conns) CONNS=$2; shift ;;
    --batch) BATCH=$2; shift ;;
    --no-peer) WITH_PEER=0 ;;
    --peer-tasks) PEER_TASKS=$2; shift ;;
    --peer-poll) PEER_POLL=$2; shift ;;
    --peer-batch) PEER_BATCH=$2; shift ;;
    --peer-write) PEER_WRITE=$2; shift ;;
    --jfr) JFR=1 ;;
    --store-gc) STORE_GC=$2; shift ;;
    --out) OUT=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$ROOT/target/bench/$(date +%Y%m%d-%H%M%S)-$SCENARIO}
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv
: > "$RESULTS"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
fail() { echo "BENCH FAILED: $*" >&2; exit 1; }

# --- processes -----------------------------------------------------------------------------------
PIDS=()
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  local i
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do stop_pid "${PIDS[$i]}"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port seconds
  local i
  for i in $(seq $(( $2 * 10 ))); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
wait_ready() { # http-port seconds
  local i
  for i in $(seq $(( $2 * 5 ))); do
    [[ $(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health/ready") == 200 ]] && return 0
    sleep 0.2
  done
  return 1
}
cpu_s() { awk '{print ($14+$15)/100}' "/proc/$1/stat"; }
hwm_mib() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# --- set-up: jars, helpers ------------------------------------------------------------------------
setup() {
  local p
  for p in kafka connect sink store; do
    if [[ ! -d $CACHE/lib-$p ]]; then
      log "resolving $p jars into loadtest/.cache/lib-$p"
      local extra=""
      [[ $p == sink ]] && extra="-DexcludeArtifactIds=connect-api,kafka-clients,slf4j-api"
      mvn -B -q -f "$HERE/pom.xml" -P$p dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$CACHE/lib-$p" $extra
    fi
  done
  # The sink connector as a Connect plugin (its own class loader).
  if [[ ! -d $CACHE/plugins/mongo-kafka-connect ]]; then
    mkdir -p "$CACHE/plugins/mongo-kafka-connect"
    cp "$CACHE"/lib-sink/*.jar "$CACHE/plugins/mongo-kafka-connect/"
  fi
  if [[ ! -f $JAR ]]; then
    log "building target/gpu-telemetry.jar"
    (cd "$ROOT" && { mvn -B -q -o package -DskipTests || mvn -B -q -o package -DskipTests; })
  fi
  mkdir -p "$CLASSES"
  if [[ -n $(find "$HERE/src" -name '*.java' -newer "$CLASSES/.built" 2>/dev/null) || ! -f $CLASSES/.built ]]; then
    javac -nowarn -d "$CLASSES" -cp "$CACHE/lib-store/*:$CACHE/lib-sink/*:$JAR" "$HERE"/src/*.java
    touch "$CLASSES/.built"
  fi
}

# --- broker -----------------------------------------------------------------------------------------
BOOTSTRAP=""
start_broker() {
  local dir=$OUT/broker bport cport id
  mkdir -p "$dir"
  bport=$(free_port); cport=$(free_port)
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=6
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
  id=$(python3 -c 'import uuid,base64; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')
  java $LOG4J -cp "$KCP" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" > "$dir/format.log" 2>&1 \
    || fail "broker format failed (see $dir/format.log)"
  java -Xms1g -Xmx1g $LOG4J -cp "$KCP" kafka.Kafka "$dir/server.properties" > "$dir/broker.log" 2>&1 &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  wait_port "$bport" 60 || fail "broker did not listen (see $dir/broker.log)"
  BOOTSTRAP=127.0.0.1:$bport
  java $LOG4J -cp "$KCP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --list > /dev/null 2>&1 \
    || fail "broker not answering (see $dir/broker.log)"
  log "broker at $BOOTSTRAP (pid $BROKER_PID)"
}
end_offsets() { # topic... -> sum of end offsets
  local t sum=0 n
  for t in "$@"; do
    n=$(java $LOG4J -cp "$KCP" org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$BOOTSTRAP" --topic "$t" 2>/dev/null \
      | awk -F: '{s+=$NF} END {print s+0}')
    sum=$((sum + n))
  done
  echo "$sum"
}

# --- store ------------------------------------------------------------------------------------------
start_store() { # name -> STORE_PID STORE_URI
  local port
  port=$(free_port)
  local gc=-XX:+UseParallelGC
  [[ $STORE_GC == g1 ]] && gc="-XX:+UseG1GC -XX:MaxGCPauseMillis=50"
  java -Xms2g -Xmx6g $gc -Xlog:gc:file="$OUT/$1.store-gc.log" -cp "$STORE_CP" BenchStore "$port" > "$OUT/$1.store.log" 2>&1 &
  STORE_PID=$!
  PIDS+=("$STORE_PID")
  wait_port "$port" 30 || fail "store did not listen (see $OUT/$1.store.log)"
  STORE_URI=mongodb://127.0.0.1:$port
}

# --- roles ------------------------------------------------------------------------------------------
jfr_opts() { # name
  [[ $JFR == 1 ]] && echo "-XX:StartFlightRecording=filename=$OUT/$1.jfr,settings=profile,dumponexit=true" || true
}
start_processor() { # name group gpu-topic token-topic -> PROC_PID PROC_PORT
  PROC_PORT=$(free_port)
  java $ROLE_HEAP -Xlog:gc:file="$OUT/$1.gc.log" $(jfr_opts "$1") -jar "$JAR" --role processor --kafka "$BOOTSTRAP" --mongo "$STORE_URI" \
    --http-port "$PROC_PORT" --set processor.group-id="$2" --set kafka.topic.gpu-metrics="$3" \
    --set kafka.topic.token-usage="$4" > "$OUT/$1.log" 2>&1 &
  PROC_PID=$!
  PIDS+=("$PROC_PID")
}
metric_sum() { # port name -> sum over all series of that metric
  curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 {s += $NF} END {printf "%.0f", s}'
}
record() { echo -e "$1\t$2\t$3" >> "$RESULTS"; } # variant metric value
# The machine is shared: every run's line in info.tsv ends with the load average when it finished.
note() { echo "$* loadavg=$(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/info.tsv"; }

# --- scenario 1/2: drain ------------------------------------------------------------------------------
GPU_TOPIC=gpu.metrics.v1
TOKEN_TOPIC=token.usage.v1
preload() {
  # The product's simulator, time-compressed: 128 GPUs sampled every 5 ms and 60k requests/s of
  # simulated time, about 30% GPU samples and 70% token events; --count bounds the token events.
  local count=$(( EVENTS * 60000 / 85600 )) port t0 t1
  port=$(free_port)
  log "pre-loading about $EVENTS events (count $count token events + GPU samples)"
  t0=$(date +%s.%N)
  java -Xmx1g -jar "$JAR" --role producer --kafka "$BOOTSTRAP" --mongo mongodb://127.0.0.1:1 --http-port "$port" \
    --set simulator.nodes=16 --set simulator.gpus-per-node=8 --set simulator.sample-interval=5ms \
    --set simulator.rate=60000 --count "$count" > "$OUT/preload.log" 2>&1 || fail "pre-load failed (see $OUT/preload.log)"
  t1=$(date +%s.%N)
  GPU_N=$(end_offsets $GPU_TOPIC)
  TOKEN_N=$(end_offsets $TOKEN_TOPIC)
  TOTAL=$((GPU_N + TOKEN_N))
  log "pre-loaded $TOTAL events ($GPU_N GPU samples, $TOKEN_N token events) in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
  echo -e "preload\tgpu_samples=$GPU_N\ttoken_events=$TOKEN_N\ttotal=$TOTAL" >> "$OUT/info.tsv"
}
record_watch() { # variant watch-line events
  local v=$1 line=$2 n=$3 steady_n wall cpu0 cpu1
  kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $line"; }
  steady_n=$(( n - $(kv first_count) ))
  wall=$(kv wall_steady_s)
  cpu0=$(kv cpu_steady_s_0); cpu1=$(kv cpu_steady_s_1)
  record "$v" events_per_s "$(awk -v n="$steady_n" -v w="$wall" 'BEGIN{printf "%.0f", n/w}')"
  record "$v" cpu_ms_per_1k_events "$(awk -v c="$cpu0" -v n="$steady_n" 'BEGIN{printf "%.1f", c*1e6/n}')"
  record "$v" store_cpu_ms_per_1k_events "$(awk -v c="$cpu1" -v n="$steady_n" 'BEGIN{printf "%.1f", c*1e6/n}')"
  # The second half of the drain: JIT-compiled code, the warm cost per event.
  local half_n=$(( n - $(kv half_count) ))
  record "$v" warm_events_per_s "$(awk -v n="$half_n" -v w="$(kv wall_half_s)" 'BEGIN{printf "%.0f", n/w}')"
  record "$v" warm_cpu_ms_per_1k_events "$(awk -v c="$(kv cpu_half_s_0)" -v n="$half_n" 'BEGIN{printf "%.1f", c*1e6/n}')"
  record "$v" warm_jit_ms_per_1k_events "$(awk -v c="$(kv jit_half_s_0)" -v n="$half_n" 'BEGIN{printf "%.1f", c*1e6/n}')"
  record "$v" warm_store_cpu_ms_per_1k_events "$(awk -v c="$(kv cpu_half_s_1)" -v n="$half_n" 'BEGIN{printf "%.1f", c*1e6/n}')"
  record "$v" jit_cpu_s_steady "$(kv jit_steady_s_0)"
  record "$v" cpu_s_incl_startup "$(kv cpu_total_s_0)"
  record "$v" wall_s_incl_startup "$(kv wall_total_s)"
  record "$v" peak_rss_mib "$(awk -v k="$(kv hwm_kib_0)" 'BEGIN{printf "%.0f", k/1024}')"
}
run_ours() { # run
  local r=$1 line stored dup dlq
  start_store "ours-$r"
  start_processor "ours-$r" "bench-drain-$r" $GPU_TOPIC $TOKEN_TOPIC
  log "run $r: processor (pid $PROC_PID) draining $TOTAL events"
  line=$(java -cp "$WATCH_CP" DrainWatch "$STORE_URI" telemetry gpu_metrics,token_usage "$TOTAL" "$PROC_PID,$STORE_PID" 500 120 \
    2>> "$OUT/watch.log") || fail "run $r: processor drain did not complete: $line (see $OUT/ours-$r.log)"
  sleep 1
  stored=$(metric_sum "$PROC_PORT" telemetry_events_stored_total)
  dup=$(metric_sum "$PROC_PORT" telemetry_events_duplicate_total)
  dlq=$(metric_sum "$PROC_PORT" telemetry_events_dlq_total)
  [[ $stored == "$TOTAL" && $dlq == 0 ]] || fail "run $r: processor stored $stored (dlq $dlq) of $TOTAL produced"
  log "run $r ours: $line duplicates=$dup"
  note "ours run $r: $line stored_metric=$stored duplicates=$dup dlq=$dlq"
  record_watch ours "$line" "$TOTAL"
  stop_pid "$PROC_PID"; stop_pid "$STORE_PID"
}
run_peer() { # run
  local r=$1 dir=$OUT/peer-$r rest line strategy
  mkdir -p "$dir"
  start_store "peer-$r"
  rest=$(free_port)
  cat > "$dir/worker.properties" <<EOF
bootstrap.servers=$BOOTSTRAP
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.storage.file.filename=$dir/connect.offsets
offset.flush.interval.ms=10000
plugin.path=$CACHE/plugins
listeners=http://127.0.0.1:$rest
consumer.max.poll.records=$PEER_POLL
consumer.auto.offset.reset=earliest
EOF
  if [[ $PEER_WRITE == insert ]]; then
    strategy="writemodel.strategy=com.mongodb.kafka.connect.sink.writemodel.strategy.InsertOneDefaultStrategy
mongo.errors.tolerance=all
errors.tolerance=all"
  else
    strategy="writemodel.strategy=com.mongodb.kafka.connect.sink.writemodel.strategy.ReplaceOneDefaultStrategy"
  fi
  cat > "$dir/sink.properties" <<EOF
name=mongo-sink-$r
connector.class=com.mongodb.kafka.connect.MongoSinkConnector
tasks.max=$PEER_TASKS
topics=$GPU_TOPIC,$TOKEN_TOPIC
connection.uri=$STORE_URI
database=telemetry
collection=token_usage
topic.override.$GPU_TOPIC.collection=gpu_metrics
topic.override.$TOKEN_TOPIC.collection=token_usage
document.id.strategy=com.mongodb.kafka.connect.sink.processor.id.strategy.PartialValueStrategy
document.id.strategy.partial.value.projection.type=AllowList
document.id.strategy.partial.value.projection.list=event_id
document.id.strategy.overwrite.existing=true
max.batch.size=$PEER_BATCH
bulk.write.ordered=false
$strategy
EOF
  java -Xms256m -Xmx2g $LOG4J -cp "$CONNECT_CP" org.apache.kafka.connect.cli.ConnectStandalone \
    "$dir/worker.properties" "$dir/sink.properties" > "$dir/connect.log" 2>&1 &
  local cpid=$!
  PIDS+=("$cpid")
  log "run $r: MongoDB sink connector (pid $cpid, tasks.max=$PEER_TASKS max.poll.records=$PEER_POLL max.batch.size=$PEER_BATCH $PEER_WRITE) draining $TOTAL events"
  line=$(java -cp "$WATCH_CP" DrainWatch "$STORE_URI" telemetry gpu_metrics,token_usage "$TOTAL" "$cpid,$STORE_PID" 500 120 \
    2>> "$OUT/watch.log") || fail "run $r: peer drain did not complete: $line (see $dir/connect.log)"
  log "run $r peer: $line"
  note "peer run $r: $line"
  record_watch peer "$line" "$TOTAL"
  stop_pid "$cpid"; stop_pid "$STORE_PID"
}

# --- scenario 3: ingest ------------------------------------------------------------------------------
start_producer_http() { # name -> PRODUCER_PID PRODUCER_PORT
  PRODUCER_PORT=$(free_port)
  java $ROLE_HEAP $(jfr_opts "$1") -jar "$JAR" --role producer --no-simulator --kafka "$BOOTSTRAP" \
    --mongo mongodb://127.0.0.1:1 --http-port "$PRODUCER_PORT" > "$OUT/$1.log" 2>&1 &
  PRODUCER_PID=$!
  PIDS+=("$PRODUCER_PID")
  wait_ready "$PRODUCER_PORT" 60 || fail "producer not ready (see $OUT/$1.log)"
}
run_wrk() { # run batch -> records variant wrk-b$batch
  local r=$1 b=$2 url line before after delta req non2xx acc dur
  url=http://127.0.0.1:$PRODUCER_PORT/v1/token-usage
  wrk -t2 -c16 -d5s -s "$HERE/lua/ingest.lua" "$url" -- "$b" "warm$r-$b-$RANDOM" > /dev/null 2>&1 || true
  sleep 2
  before=$(end_offsets $TOKEN_TOPIC)
  line=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" $WRK_OPTS -s "$HERE/lua/ingest.lua" "$url" -- "$b" "run$r-$b-$RANDOM" | grep '^WRK')
  sleep 3
  after=$(end_offsets $TOKEN_TOPIC)
  kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $line"; }
  req=$(kv requests); non2xx=$(kv non2xx); dur=$(kv duration_s)
  acc=$(( (req - non2xx) * b ))
  delta=$((after - before))
  note "ingest wrk run $r batch $b: $line accepted_events=$acc kafka_delta=$delta"
  log "run $r wrk batch $b: $line accepted=$acc kafka=+$delta"
  # Requests still in flight when wrk stops may be published without being counted by wrk.
  (( delta >= acc && delta - acc <= CONNS * b )) || fail "run $r batch $b: $acc events accepted but Kafka grew by $delta"
  [[ $(kv socket_errors) == 0 ]] || log "WARNING: socket errors in run $r batch $b"
  record "wrk-b$b" events_per_s "$(awk -v a="$acc" -v d="$dur" 'BEGIN{printf "%.0f", a/d}')"
  record "wrk-b$b" requests_per_s "$(awk -v a="$req" -v d="$dur" 'BEGIN{printf "%.0f", a/d}')"
  record "wrk-b$b" p50_ms "$(kv p50_ms)"
  record "wrk-b$b" p99_ms "$(kv p99_ms)"
  record "wrk-b$b" rejected_503 "$non2xx"
}
run_wrk_otlp() { # run batch -> records variant otlp-b$batch
  local r=$1 b=$2 url line before after delta req non2xx acc dur body
  url=http://127.0.0.1:$PRODUCER_PORT/v1/traces
  body=$OUT/otlp-$r-$b.pb
  java -cp "$JAR" "$HERE/otlp/OtlpBody.java" "$body" "$b" "$r" || fail "could not write the OTLP body"
  wrk -t2 -c16 -d5s -s "$HERE/lua/otlp.lua" "$url" -- "$body" > /dev/null 2>&1 || true
  sleep 2
  before=$(end_offsets $TOKEN_TOPIC)
  line=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" $WRK_OPTS -s "$HERE/lua/otlp.lua" "$url" -- "$body" | grep '^WRK')
  sleep 3
  after=$(end_offsets $TOKEN_TOPIC)
  kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $line"; }
  req=$(kv requests); non2xx=$(kv non2xx); dur=$(kv duration_s)
  acc=$(( (req - non2xx) * b ))
  delta=$((after - before))
  note "otlp wrk run $r batch $b: $line accepted_spans=$acc kafka_delta=$delta"
  log "run $r otlp batch $b: $line accepted=$acc kafka=+$delta"
  (( delta >= acc && delta - acc <= CONNS * b )) || fail "run $r otlp batch $b: $acc spans accepted but Kafka grew by $delta"
  record "otlp-b$b" events_per_s "$(awk -v a="$acc" -v d="$dur" 'BEGIN{printf "%.0f", a/d}')"
  record "otlp-b$b" p50_ms "$(kv p50_ms)"
  record "otlp-b$b" p99_ms "$(kv p99_ms)"
  record "otlp-b$b" rejected_503 "$non2xx"
}
record_otlp_ratio() { # run batch: this run's OTLP spans/s over its JSON events/s
  local r=$1 b=$2 json otlp
  json=$(awk -F'\t' -v v="wrk-b$b" '$1 == v && $2 == "events_per_s" {x = $3} END {print x}' "$RESULTS")
  otlp=$(awk -F'\t' -v v="otlp-b$b" '$1 == v && $2 == "events_per_s" {x = $3} END {print x}' "$RESULTS")
  [[ -n $json && -n $otlp ]] || fail "run $r: no JSON or OTLP figure"
  record "otlp-b$b" ratio_to_json "$(awk -v o="$otlp" -v j="$json" 'BEGIN{printf "%.3f", o/j}')"
}
run_paced() { # run batch rate
  local r=$1 b=$2 rate=$3 url line before after delta acc
  url=http://127.0.0.1:$PRODUCER_PORT/v1/token-usage
  # Warm the producer up at full speed first; PacedLoad then runs --warmup seconds at the rate before measuring.
  wrk -t2 -c16 -d5s -s "$HERE/lua/ingest.lua" "$url" -- "$b" "warmp$r-$b-$RANDOM" > /dev/null 2>&1 || true
  sleep 2
  before=$(end_offsets $TOKEN_TOPIC)
  line=$(java -Xmx512m -cp "$CLASSES:$JAR" PacedLoad "$url" "$rate" "$b" "$DURATION" "$CONNS" "p$r-$b-$RANDOM" "$WARMUP" 2>> "$OUT/paced.log" | grep '^PACED') \
    || fail "run $r paced batch $b: requests failed: $line"
  after=$(end_offsets $TOKEN_TOPIC)
  kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $line"; }
  acc=$(kv accepted_events)
  delta=$((after - before))
  note "ingest paced run $r batch $b: $line kafka_delta=$delta"
  log "run $r paced batch $b: $line kafka=+$delta"
  (( delta == acc )) || fail "run $r paced batch $b: $acc events accepted but Kafka grew by $delta"
  record "paced-b$b" events_per_s "$(kv achieved_events_per_s)"
  record "paced-b$b" p50_ms "$(kv p50_ms)"
  record "paced-b$b" p99_ms "$(kv p99_ms)"
  record "paced-b$b" max_ms "$(kv max_ms)"
}
run_producer_perf() { # run
  local r=$1 line n=2000000 payload=$OUT/payload.txt
  if [[ ! -f $payload ]]; then
    # Records like the ingest's (about 300 bytes of token-usage JSON), so compression sees the same data.
    awk 'BEGIN { split("acme globex initech umbrella hooli", t, " "); split("llama-3.1-70b-instruct llama-3.1-8b-instruct mistral-7b-instruct", m, " ");
      for (i = 0; i < 2000; i++) printf "{\"event_id\":\"perf-%08d\",\"ts\":\"2026-01-01T00:00:%02d.%03dZ\",\"tenant\":\"%s\",\"model\":\"%s\",\"provider\":\"vllm\",\"input_tokens\":%d,\"output_tokens\":%d,\"latency_ms\":%d.5,\"gpu_uuid\":\"GPU-5a1c0f2e-8d3b-4c6e-9f10-%012x\",\"node\":\"gpu-node-0%d\"}\n",
        i, i % 60, i % 1000, t[i % 5 + 1], m[i % 3 + 1], 100 + (i * 37) % 1900, 20 + (i * 11) % 600, 200 + (i * 7) % 3000, i % 8, 1 + i % 2 }' > "$payload"
  fi
  java $LOG4J -cp "$KCP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "perf.$r" --partitions 6 --replication-factor 1 > /dev/null 2>&1
  line=$(java -Xmx512m $LOG4J -cp "$KCP" org.apache.kafka.tools.ProducerPerformance --topic "perf.$r" --num-records $n \
    --payload-file "$payload" --throughput -1 --producer-props bootstrap.servers="$BOOTSTRAP" acks=all \
    enable.idempotence=true linger.ms=5 batch.size=131072 compression.type=lz4 2>> "$OUT/perf.log" | tail -1)
  note "ProducerPerformance run $r: $line"
  log "run $r ProducerPerformance: $line"
  record producer-perf events_per_s "$(sed -n 's/.* sent, \([0-9.]*\) records\/sec.*/\1/p' <<< "$line" | awk '{printf "%.0f", $1}')"
  record producer-perf p50_ms "$(sed -n 's/.*, \([0-9]*\) ms 50th.*/\1/p' <<< "$line")"
  record producer-perf p99_ms "$(sed -n 's/.*, \([0-9]*\) ms 99th.*/\1/p' <<< "$line")"
}

# --- scenario 4: end to end -------------------------------------------------------------------------
buckets() { # port -> "le count" summed over topics
  curl -s "http://127.0.0.1:$1/metrics" | awk '/^telemetry_event_end_to_end_latency_seconds_bucket\{/ {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); c[le] += $NF }
    END { for (k in c) print k, c[k] }' | sort -g
}
quantile() { # before-file after-file q -> seconds (linear within the bucket, as histogram_quantile does)
  join -a2 -e0 -o 2.1,1.2,2.2 <(sort -k1,1 "$1") <(sort -k1,1 "$2") | awk '{print $1, $3 - $2}' | sort -g \
    | awk -v q="$3" '{ le[NR] = $1; c[NR] = $2 } END {
        total = c[NR]; if (total == 0) { print "nan"; exit }
        rank = q * total; prev_le = 0; prev_c = 0
        for (i = 1; i <= NR; i++) {
          if (c[i] >= rank) {
            if (le[i] == "+Inf") { printf "%.3f\n", prev_le; exit }
            printf "%.3f\n", prev_le + (le[i] - prev_le) * (rank - prev_c) / (c[i] - prev_c); exit
          }
          prev_le = le[i]; prev_c = c[i]
        } }'
}
run_e2e() { # rate run
  local rate=$1 r=$2 name=e2e-$1-$2 gt tt pport prod_pid line produced stored dup maxs total_s p50 p99 hwm_prod cpu_p0 cpu_p1
  gt=bench.$name.gpu; tt=bench.$name.token
  start_store "$name"
  start_processor "$name" "$name" "$gt" "$tt"
  wait_ready "$PROC_PORT" 60 || fail "$name: processor not ready (see $OUT/$name.log)"
  pport=$(free_port)
  total_s=$((WARMUP + DURATION))
  # Default fleet: 8 GPUs sampled every second, so the token rate is the target minus 8.
  java $ROLE_HEAP -jar "$JAR" --role producer --kafka "$BOOTSTRAP" --mongo mongodb://127.0.0.1:1 --http-port "$pport" \
    --set kafka.topic.gpu-metrics="$gt" --set kafka.topic.token-usage="$tt" --set simulator.rate=$((rate - 8)) \
    --duration "${total_s}s" > "$OUT/$name.producer.log" 2>&1 &
  prod_pid=$!
  PIDS+=("$prod_pid")
  log "$name: simulator at $rate events/s for ${WARMUP}s warm-up + ${DURATION}s measured"
  sleep "$WARMUP"
  buckets "$PROC_PORT" > "$OUT/$name.before"
  cpu_p0=$(cpu_s "$PROC_PID")
  sleep "$DURATION"
  buckets "$PROC_PORT" > "$OUT/$name.after"
  cpu_p1=$(cpu_s "$PROC_PID")
  hwm_prod=$(hwm_mib "$prod_pid" 2>/dev/null || echo 0)
  wait "$prod_pid" || fail "$name: producer failed (see $OUT/$name.producer.log)"
  produced=$(end_offsets "$gt" "$tt")
  line=$(java -cp "$WATCH_CP" DrainWatch "$STORE_URI" telemetry gpu_metrics,token_usage "$produced" "$PROC_PID,$STORE_PID" 200 60 \
    2>> "$OUT/watch.log") || fail "$name: stored count does not reach $produced: $line"
  sleep 1
  stored=$(metric_sum "$PROC_PORT" telemetry_events_stored_total)
  dup=$(metric_sum "$PROC_PORT" telemetry_events_duplicate_total)
  [[ $stored == "$produced" ]] || fail "$name: stored $stored of $produced produced"
  maxs=$(curl -s "http://127.0.0.1:$PROC_PORT/metrics" | awk '/^telemetry_event_end_to_end_latency_seconds_max\{/ {if ($NF > m) m = $NF} END {printf "%.3f", m}')
  p50=$(quantile "$OUT/$name.before" "$OUT/$name.after" 0.50)
  p99=$(quantile "$OUT/$name.before" "$OUT/$name.after" 0.99)
  local within500
  within500=$(join -a2 -e0 -o 2.1,1.2,2.2 <(sort -k1,1 "$OUT/$name.before") <(sort -k1,1 "$OUT/$name.after") \
    | awk '{d[$1] = $3 - $2} END {printf "%.4f", d["0.5"] / d["+Inf"]}')
  log "$name: produced $produced, stored $stored, duplicates $dup, p50 ${p50}s p99 ${p99}s max ${maxs}s, share <= 500 ms $within500"
  note "$name: produced=$produced stored=$stored duplicates=$dup p50_s=$p50 p99_s=$p99 max_s=$maxs le500ms_share=$within500 $line producer_hwm_mib=$hwm_prod"
  record "e2e-$rate" p50_ms "$(awk -v s="$p50" 'BEGIN{printf "%.0f", s*1000}')"
  record "e2e-$rate" p99_ms "$(awk -v s="$p99" 'BEGIN{printf "%.0f", s*1000}')"
  record "e2e-$rate" max_ms "$(awk -v s="$maxs" 'BEGIN{printf "%.0f", s*1000}')"
  record "e2e-$rate" share_le_500ms "$within500"
  record "e2e-$rate" processor_cpu_pct "$(awk -v a="$cpu_p0" -v b="$cpu_p1" -v d="$DURATION" 'BEGIN{printf "%.1f", (b-a)*100/d}')"
  record "e2e-$rate" processor_peak_rss_mib "$(hwm_mib "$PROC_PID")"
  record "e2e-$rate" producer_peak_rss_mib "$hwm_prod"
  stop_pid "$PROC_PID"; stop_pid "$STORE_PID"
}

# --- summary ------------------------------------------------------------------------------------------
summary() {
  {
    echo
    echo "| variant | metric | median | min–max | runs |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '{ k = $1 "\t" $2; if (!(k in n)) order[++m] = k; v[k, ++n[k]] = $3 }
      END { for (i = 1; i <= m; i++) { k = order[i]; c = n[k]
              for (a = 1; a <= c; a++) x[a] = v[k, a] + 0
              for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++) if (x[b] < x[a]) { t = x[a]; x[a] = x[b]; x[b] = t }
              med = (c % 2) ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
              split(k, p, "\t"); printf "| %s | %s | %g | %g–%g | %d |\n", p[1], p[2], med, x[1], x[c], c } }' "$RESULTS"
    median_of() { awk -F'\t' -v a="$1" -v b="$2" '$1 == a && $2 == b {x[++n] = $3 + 0}
      END { if (!n) exit; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) {t = x[i]; x[i] = x[j]; x[j] = t}
            print (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }' "$RESULTS"; }
    ratio() { local a b; a=$(median_of "$1" "$3"); b=$(median_of "$2" "$3")
      [[ -n $a && -n $b ]] && awk -v a="$a" -v b="$b" -v t="$4" 'BEGIN{ if (b > 0) printf "%s: %.2f\n", t, a / b }' || true; }
    echo
    ratio ours peer events_per_s "events/s ours/peer (target >= 1)"
    ratio ours peer cpu_ms_per_1k_events "processor CPU per event ours/peer (target <= 0.5)"
    ratio ours peer warm_events_per_s "second half (warm JVMs): events/s ours/peer"
    ratio ours peer warm_cpu_ms_per_1k_events "second half (warm JVMs): processor CPU per event ours/peer"
    ratio wrk-b100 producer-perf events_per_s "ingest batches of 100 / ProducerPerformance (target >= 0.6)"
    ratio wrk-b1 producer-perf events_per_s "ingest single events / ProducerPerformance"
    ratio otlp-b100 wrk-b100 events_per_s "OTLP token spans / JSON ingest events, batches of 100, medians (target >= 0.5)"
  } | tee "$OUT/summary.md"
  log "results in $OUT (results.tsv, info.tsv, summary.md, logs)"
}

# --- main ----------------------------------------------------------------------------------------------
setup
# Run a snapshot of the jar: a rebuild in the working tree during the benchmark does not change it.
cp "$JAR" "$OUT/gpu-telemetry.jar"
JAR=$OUT/gpu-telemetry.jar
{
  echo -e "jar\tsha256=$(sha256sum "$JAR" | cut -c1-16)\tgit_head=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)\tsource_changes=$(git -C "$ROOT" status --porcelain -- src pom.xml 2>/dev/null | wc -l)"
  echo -e "machine\tnproc=$(nproc)\tmem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)\tloadavg_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo -e "java\t$(java -version 2>&1 | head -1)"
  echo -e "command\tloadtest/bench.sh $SCENARIO runs=$RUNS events=$EVENTS duration=$DURATION rates=$RATES peer_tasks=$PEER_TASKS peer_poll=$PEER_POLL peer_batch=$PEER_BATCH peer_write=$PEER_WRITE"
} > "$OUT/info.tsv"
case $SCENARIO in
  drain|peer)
    start_broker
    preload
    for r in $(seq "$RUNS"); do
      if [[ $SCENARIO == drain ]]; then run_ours "$r"; fi
      if [[ $SCENARIO == peer || $WITH_PEER == 1 ]]; then run_peer "$r"; fi
    done
    ;;
  ingest)
    DURATION=${DURATION:-20}
    command -v wrk > /dev/null || fail "wrk not found (apt-get install -y wrk)"
    start_broker
    for r in $(seq "$RUNS"); do
      start_producer_http "ingest-$r"
      run_wrk "$r" 1
      run_wrk "$r" 100
      stop_pid "$PRODUCER_PID"
      run_producer_perf "$r"
    done
    for b in 1 100; do
      half=$(awk -F'\t' -v v="wrk-b$b" '$1 == v && $2 == "events_per_s" {x[++n] = $3 + 0}
        END {for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) {t = x[i]; x[i] = x[j]; x[j] = t}
             m = (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2; printf "%.0f", m / 2}' "$RESULTS")
      log "paced runs, batch $b, at half the maximum: $half events/s"
      for r in $(seq "$RUNS"); do
        start_producer_http "paced-$b-$r"
        run_paced "$r" "$b" "$half"
        stop_pid "$PRODUCER_PID"
      done
    done
    ;;
  otlp)
    DURATION=${DURATION:-20}
    # A request slower than wrk's default 2 s timeout is not counted though Kafka gets its events.
    WRK_OPTS=${WRK_OPTS:---timeout 10s}
    command -v wrk > /dev/null || fail "wrk not found (apt-get install -y wrk)"
    start_broker
    for r in $(seq "$RUNS"); do
      # One producer per run: the JSON ingest and the OTLP receiver on the same warm process.
      start_producer_http "otlp-$r"
      # Both on the same warm process; which goes first alternates between runs.
      if (( r % 2 )); then
        run_wrk "$r" 100
        run_wrk_otlp "$r" 100
      else
        run_wrk_otlp "$r" 100
        run_wrk "$r" 100
      fi
      record_otlp_ratio "$r" 100
      stop_pid "$PRODUCER_PID"
    done
    ;;
  paced)
    DURATION=${DURATION:-20}
    start_broker
    IFS=, read -ra rate_list <<< "$RATES"
    for rate in "${rate_list[@]}"; do
      for r in $(seq "$RUNS"); do
        start_producer_http "paced-$BATCH-$rate-$r"
        run_paced "$r" "$BATCH" "$rate"
        stop_pid "$PRODUCER_PID"
      done
    done
    ;;
  e2e)
    DURATION=${DURATION:-60}
    start_broker
    IFS=, read -ra rate_list <<< "$RATES"
    for rate in "${rate_list[@]}"; do
      for r in $(seq "$RUNS"); do run_e2e "$rate" "$r"; done
    done
    ;;
  *) echo "unknown scenario $SCENARIO (drain|peer|ingest|otlp|paced|e2e)" >&2; exit 2 ;;
esac
summary
