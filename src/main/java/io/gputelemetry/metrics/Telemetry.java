package io.gputelemetry.metrics;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * Our own meters ({@code telemetry_*}), on the process's Prometheus registry. Label values are
 * bounded: topics, routes and reasons are ours; every label fed by input (model, tenant, GPU model,
 * node) is capped by {@link Caps} (then "_other"), and GPUs beyond their cap are not exported; each
 * value turned away is counted in {@code telemetry_metrics_label_overflow_total}.
 */
public final class Telemetry implements AutoCloseable {
  public static final String OTHER = "_other";

  /** The tenant label of every token counter when per-tenant labels are off. */
  public static final String ALL_TENANTS = "_all";

  private volatile boolean tenantLabels = true;

  /**
   * The most distinct values of each input-fed label: GPUs exported, nodes, GPU models, LLMs,
   * tenants, and (LLM, tenant) pairs of the token counters.
   */
  public record Caps(
      int gpus, int nodes, int gpuModels, int models, int tenants, int modelTenants) {
    /** Defaults that fit a fleet of a few thousand GPUs serving a few hundred models. */
    public static final Caps DEFAULTS = new Caps(5000, 1000, 100, 500, 1000, 5000);
  }

  /** The labels {@link Caps} bounds, as the overflow counter names them. */
  static final List<String> CAPPED_LABELS =
      List.of("gpu_uuid", "node", "gpu_model", "model", "tenant", "model_tenant");

  /** The buckets of our own timers: the one latency ladder of every timer (30 s exact). */
  private static final Duration[] LATENCY_SLOS =
      MeterFilters.LATENCY_BUCKETS.toArray(Duration[]::new);

  private final PrometheusMeterRegistry registry;
  private final ZeroFirstCounters zeroFirst;
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  private final Caps caps;
  private final LabelCap tenants;
  private final LabelCap models;
  private final LabelCap modelTenants;
  private final LabelCap nodes;
  private final LabelCap gpuModels;
  private final Map<String, GpuGauges> gpus = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> lags = new ConcurrentHashMap<>();
  private final AtomicLong paused = new AtomicLong();
  private final AtomicLong lastCommitMillis = new AtomicLong();
  private final PauseClock pauses = new PauseClock();
  private SourceMeters sources;

  private final String role;
  private final String version;

  /** The live figures of one model that its gauges show; ratios are NaN without tokens. */
  public record ModelRates(
      double tokensPerSecond,
      double requestsPerSecond,
      double costPerToken,
      double energyPerToken) {}

  public Telemetry(String role, String version) {
    this(role, version, Caps.DEFAULTS);
  }

  public Telemetry(String role, String version, Caps caps) {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.zeroFirst = new ZeroFirstCounters(registry);
    this.role = role;
    this.version = version;
    this.caps = caps;
    this.tenants = new LabelCap(caps.tenants(), () -> labelOverflow("tenant"));
    this.models = new LabelCap(caps.models(), () -> labelOverflow("model"));
    this.modelTenants = new LabelCap(caps.modelTenants(), () -> labelOverflow("model_tenant"));
    this.nodes = new LabelCap(caps.nodes(), () -> labelOverflow("node"));
    this.gpuModels = new LabelCap(caps.gpuModels(), () -> labelOverflow("gpu_model"));
  }

  /**
   * Registers the JVM, process and our always-present meters. Called once Vert.x has configured the
   * registry (Micrometer wants meter filters before the first meter).
   */
  public Telemetry bindStandardMeters(BooleanSupplier ready) {
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    Gauge.builder("telemetry.build.info", () -> 1)
        .tags("version", version, "role", role)
        .description("Build and role of this process")
        .register(registry);
    Gauge.builder("telemetry.ready", ready, r -> r.getAsBoolean() ? 1 : 0)
        .description("1 when the role's dependencies are reachable (what /health/ready answers)")
        .register(registry);
    Gauge.builder("telemetry.consumer.paused", paused, AtomicLong::get)
        .description("1 while consumption is paused (store unavailable, retrying)")
        .register(registry);
    FunctionCounter.builder("telemetry.consumer.paused.seconds", pauses, PauseClock::seconds)
        .description("Time consumption spent paused, the current pause included")
        .register(registry);
    Gauge.builder(
            "telemetry.consumer.last.commit.timestamp.seconds",
            lastCommitMillis,
            a -> a.get() / 1000.0)
        .description("When offsets were last committed (Unix time)")
        .register(registry);
    CAPPED_LABELS.forEach(label -> counter(LABEL_OVERFLOW, "label", label));
    CONNECTION_DROP_REASONS.forEach(reason -> counter(CONNECTIONS_DROPPED, "reason", reason));
    return this;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The meters of scraped sources (created on first use). */
  public synchronized SourceMeters sources() {
    if (sources == null) {
      sources = new SourceMeters(registry, zeroFirst, this::modelLabel);
    }
    return sources;
  }

  /** A counter family: its name and what it counts (labels are given per series). */
  private record Family(String name, String description) {}

  private static final Family INGEST_REQUESTS =
      new Family("telemetry.ingest.requests", "HTTP ingest requests by route and status");
  private static final Family INGEST_BACKPRESSURE =
      new Family(
          "telemetry.ingest.backpressure",
          "Ingest requests answered 503 because Kafka could not keep up");
  private static final Family OTLP_ITEMS =
      new Family(
          "telemetry.otlp.items",
          "OTLP spans and data points received, by signal and outcome: accepted (part of an event"
              + " Kafka acknowledged), rejected (in the answer's partial success), skipped (nothing"
              + " for us: spans without token usage, other metrics)");

  /** The outcomes of {@link #otlpItems}. */
  public static final List<String> OTLP_OUTCOMES = List.of("accepted", "rejected", "skipped");

  private static final Family REJECTED =
      new Family("telemetry.events.rejected", "Events rejected by validation at ingest");
  private static final Family PRODUCED =
      new Family("telemetry.events.produced", "Events acknowledged by Kafka");
  private static final Family PRODUCE_FAILURES =
      new Family("telemetry.produce.failures", "Sends Kafka did not acknowledge");
  private static final Family CONSUMED =
      new Family("telemetry.events.consumed", "Records consumed from Kafka");
  private static final Family STORED =
      new Family("telemetry.events.stored", "Events newly stored in MongoDB");
  private static final Family DUPLICATE =
      new Family("telemetry.events.duplicate", "Events already stored (duplicate key), skipped");
  private static final Family DLQ =
      new Family("telemetry.events.dlq", "Records sent to the dead-letter topic, by reason");
  private static final Family LATE =
      new Family("telemetry.events.late", "Events stored later than the allowed lateness");
  private static final Family WRITE_FAILURES =
      new Family(
          "telemetry.store.write.failures",
          "Documents whose MongoDB write failed, per attempt (infrastructure: retried; data: to"
              + " the DLQ)");
  private static final Family STORE_RETRIES =
      new Family("telemetry.store.retries", "Batch write retries after an infrastructure failure");
  private static final Family COMMIT_FAILURES =
      new Family(
          "telemetry.consumer.commit.failures",
          "Offset commits that failed (the batch is re-read, stored once)");
  private static final Family TOKENS =
      new Family("telemetry.tokens", "Tokens stored, by model, tenant and direction");
  private static final Family REQUESTS =
      new Family("telemetry.requests", "Requests stored, by model and tenant");
  private static final Family SAMPLE_GAPS =
      new Family(
          "telemetry.gpu.sample.gaps",
          "Times a GPU's sample came later than the gap it allows (max_gap_s) after the one"
              + " before");
  private static final Family UNCOVERED =
      new Family(
          "telemetry.gpu.uncovered.seconds",
          "GPU time beyond those gaps: seen running, not billed (live view of the usage API's"
              + " uncovered_gpu_seconds)");
  private static final Family UNPRICED =
      new Family("telemetry.unpriced.events", "Events whose GPU has no hourly price in force");

  private static final Family LABEL_OVERFLOW =
      new Family(
          "telemetry.metrics.label.overflow",
          "Label values turned away by their cap (shown as _other, or a GPU not exported), by"
              + " label");

  private static final Family CONNECTIONS_DROPPED =
      new Family(
          "telemetry.http.connections.dropped",
          "HTTP connections closed by the server's limits: over the connection cap (limit), header"
              + " or body not received in time (header, body)");

  /** Why the HTTP server drops a connection (see {@link #connectionDropped}). */
  public static final List<String> CONNECTION_DROP_REASONS = List.of("limit", "header", "body");

  private final Map<String, ZeroFirstCounters.Series> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  /**
   * A counter series by family and tags, registered once (at zero, see {@link ZeroFirstCounters})
   * and then found by a map lookup (hot paths call this per event).
   */
  private ZeroFirstCounters.Series counter(Family family, String... tags) {
    String key = family.name() + '\u0000' + String.join("\u0000", tags);
    ZeroFirstCounters.Series c = counters.get(key);
    if (c == null) {
      c =
          counters.computeIfAbsent(
              key, k -> zeroFirst.register(family.name(), family.description(), tags));
    }
    return c;
  }

  /**
   * Registers at zero the producer's series whose labels are known up front, so that rates, alerts
   * and panels see a 0 rather than no data before the first event or failure.
   */
  public void initProducer(List<String> topics, List<String> sources) {
    for (String t : topics) {
      counter(PRODUCE_FAILURES, "topic", t);
      for (String source : sources) {
        counter(PRODUCED, "topic", t, "source", source);
      }
    }
  }

  /** See {@link #initProducer}: each ingest route with its topic, statuses and reject reasons. */
  public void initIngest(
      Map<String, String> routeTopics, List<Integer> statuses, List<String> reasons) {
    routeTopics.forEach(
        (route, topic) -> {
          counter(INGEST_BACKPRESSURE, "route", route);
          ingestTimer(route);
          for (int status : statuses) {
            counter(INGEST_REQUESTS, "route", route, "status", Integer.toString(status));
          }
          for (String reason : reasons) {
            counter(REJECTED, "topic", topic, "reason", reason);
          }
        });
  }

  /** See {@link #initProducer}; {@code knownGpuModels} are those a price or profile names. */
  public void initProcessor(
      List<String> topics,
      List<String> collections,
      List<String> dlqReasons,
      Collection<String> knownGpuModels) {
    counter(SAMPLE_GAPS);
    counter(UNCOVERED);
    for (String t : topics) {
      counter(CONSUMED, "topic", t);
      counter(STORED, "topic", t);
      counter(DUPLICATE, "topic", t);
      counter(LATE, "topic", t);
      for (String reason : dlqReasons) {
        counter(DLQ, "topic", t, "reason", reason);
      }
    }
    for (String c : collections) {
      for (String kind : List.of("infrastructure", "data")) {
        counter(WRITE_FAILURES, "collection", c, "kind", kind);
      }
    }
    for (String m : knownGpuModels) {
      counter(UNPRICED, "gpu_model", gpuModels.label(m));
    }
    counter(STORE_RETRIES);
    counter(COMMIT_FAILURES);
  }

  // --- ingest and produce ---

  public void ingestRequest(String route, int status, long nanos) {
    counter(INGEST_REQUESTS, "route", route, "status", Integer.toString(status)).increment();
    ingestTimer(route).record(nanos, TimeUnit.NANOSECONDS);
  }

  private Timer ingestTimer(String route) {
    return timers.computeIfAbsent(
        route,
        r ->
            Timer.builder("telemetry.ingest.request.duration")
                .description("HTTP ingest request duration")
                .tags("route", r)
                .serviceLevelObjectives(LATENCY_SLOS)
                .register(registry));
  }

  /** An HTTP connection closed by a server limit, by reason. */
  public void connectionDropped(String reason) {
    counter(CONNECTIONS_DROPPED, "reason", reason).increment();
  }

  /** See {@link #initProducer}: the OTLP item counters of each signal. */
  public void initOtlp(List<String> signals) {
    for (String signal : signals) {
      for (String outcome : OTLP_OUTCOMES) {
        counter(OTLP_ITEMS, "signal", signal, "outcome", outcome);
      }
    }
  }

  /** OTLP spans or data points of one request, by outcome. */
  public void otlpItems(String signal, String outcome, long n) {
    if (n > 0) {
      counter(OTLP_ITEMS, "signal", signal, "outcome", outcome).increment((double) n);
    }
  }

  public void ingestBackpressure(String route) {
    counter(INGEST_BACKPRESSURE, "route", route).increment();
  }

  /** Events rejected at ingest since start, every topic and reason together (for the console). */
  public double rejectedTotal() {
    String prefix = REJECTED.name() + '\u0000';
    return counters.entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix))
        .mapToDouble(e -> e.getValue().total())
        .sum();
  }

  public void eventsRejected(String topic, String reason, long n) {
    counter(REJECTED, "topic", topic, "reason", reason).increment((double) n);
  }

  public void eventsProduced(String topic, String source, long n) {
    counter(PRODUCED, "topic", topic, "source", source).increment((double) n);
  }

  public void produceFailed(String topic) {
    counter(PRODUCE_FAILURES, "topic", topic).increment();
  }

  // --- consume and store ---

  public void eventsConsumed(String topic, long n) {
    counter(CONSUMED, "topic", topic).increment((double) n);
  }

  public void eventsStored(String topic, long n) {
    counter(STORED, "topic", topic).increment((double) n);
  }

  public void eventsDuplicate(String topic, long n) {
    counter(DUPLICATE, "topic", topic).increment((double) n);
  }

  public void eventsDlq(String topic, String reason, long n) {
    counter(DLQ, "topic", topic, "reason", reason).increment((double) n);
  }

  public void eventsLate(String topic, long n) {
    counter(LATE, "topic", topic).increment((double) n);
  }

  public Timer endToEnd(String topic) {
    return Timer.builder("telemetry.event.end.to.end.latency")
        .description("Event time to stored time")
        .tags("topic", topic)
        .serviceLevelObjectives(LATENCY_SLOS)
        .register(registry);
  }

  public Timer batchWrite(String collection) {
    return Timer.builder("telemetry.store.batch.write")
        .description("MongoDB bulk write duration")
        .tags("collection", collection)
        .serviceLevelObjectives(LATENCY_SLOS)
        .register(registry);
  }

  public DistributionSummary batchSize() {
    return DistributionSummary.builder("telemetry.consumer.batch.records")
        .description("Records per processed batch")
        .serviceLevelObjectives(1, 10, 100, 500, 1000, 2000, 5000, 10000)
        .register(registry);
  }

  /** Documents whose write failed, per attempt (infrastructure: retried; data: sent to the DLQ). */
  public void writeFailure(String collection, String kind, long documents) {
    counter(WRITE_FAILURES, "collection", collection, "kind", kind).increment((double) documents);
  }

  public void storeRetry() {
    counter(STORE_RETRIES).increment();
  }

  public void commitFailed() {
    counter(COMMIT_FAILURES).increment();
  }

  public void committed() {
    lastCommitMillis.set(System.currentTimeMillis());
  }

  /** Consumption paused or resumed: the gauge, and the paused time that counts while paused. */
  public void setPaused(boolean p) {
    pauses.set(p);
    paused.set(p ? 1 : 0);
  }

  /** Time spent paused, the current pause included, so that a long pause shows while it lasts. */
  private static final class PauseClock {
    private long doneNanos;
    private long since = -1;

    synchronized void set(boolean paused) {
      long now = System.nanoTime();
      if (paused && since < 0) {
        since = now;
      } else if (!paused && since >= 0) {
        doneNanos += now - since;
        since = -1;
      }
    }

    synchronized double seconds() {
      long t = doneNanos + (since >= 0 ? System.nanoTime() - since : 0);
      return t / 1e9;
    }
  }

  public void lag(String topic, int partition, long records) {
    lags.computeIfAbsent(
            topic + "/" + partition,
            k -> {
              AtomicLong a = new AtomicLong();
              Gauge.builder("telemetry.consumer.lag.records", a, AtomicLong::get)
                  .description("Records behind the end of each assigned partition")
                  .tags("topic", topic, "partition", Integer.toString(partition))
                  .register(registry);
              return a;
            })
        .set(records);
  }

  /** Drops lag gauges of partitions this consumer no longer owns. */
  public void retainLag(java.util.Set<String> topicPartitions) {
    List<String> gone = new ArrayList<>();
    lags.keySet()
        .forEach(
            k -> {
              if (!topicPartitions.contains(k)) {
                gone.add(k);
              }
            });
    for (String k : gone) {
      lags.remove(k);
      int slash = k.lastIndexOf('/');
      Meter m =
          registry
              .find("telemetry.consumer.lag.records")
              .tags("topic", k.substring(0, slash), "partition", k.substring(slash + 1))
              .gauge();
      if (m != null) {
        registry.remove(m);
      }
    }
  }

  // --- tokens and GPUs ---

  private void labelOverflow(String label) {
    counter(LABEL_OVERFLOW, "label", label).increment();
  }

  /**
   * Whether token and request counters carry the tenant; off, every tenant is summed into {@value
   * #ALL_TENANTS} so that /metrics names no tenant. Set before the first token is counted.
   */
  public void tenantLabels(boolean on) {
    tenantLabels = on;
  }

  /** A bounded tenant label: the first tenants seen up to the cap, then "_other". */
  public String tenantLabel(String tenant) {
    return tenants.label(tenant);
  }

  /** A bounded model label: the first models seen up to the cap, then "_other". */
  public String modelLabel(String model) {
    return models.label(model);
  }

  /**
   * Adds the tokens and requests of stored token events (summed per model and tenant by the
   * caller). Model and tenant are capped, and so are their pairs: a pair beyond the cap counts
   * under its model's "_other" tenant. Series: at most 3 x (pairs + models + tenants + 1).
   */
  public void tokens(String model, String tenant, long input, long output, long requests) {
    String m = modelLabel(model);
    String t = tenantLabels ? tenantLabel(tenant) : ALL_TENANTS;
    // Pairs with "_other" are bounded by the model and tenant caps already.
    if (tenantLabels
        && !OTHER.equals(t)
        && !OTHER.equals(m)
        && OTHER.equals(modelTenants.label(m + '\n' + t))) {
      t = OTHER;
    }
    counter(TOKENS, "model", m, "tenant", t, "direction", "input").increment((double) input);
    counter(TOKENS, "model", m, "tenant", t, "direction", "output").increment((double) output);
    counter(REQUESTS, "model", m, "tenant", t).increment((double) requests);
  }

  /**
   * Registers the live per-model gauges, which read the supplier on each scrape (held strongly: it
   * is a lambda); the supplier must answer at once (a value computed beforehand, not a
   * computation). False, and nothing registered, when the model is beyond the model cap.
   */
  public boolean modelRates(String model, Supplier<ModelRates> rates) {
    if (OTHER.equals(modelLabel(model))) {
      return false;
    }
    Gauge.builder("telemetry.model.tokens.per.second", rates, r -> r.get().tokensPerSecond())
        .tag("model", model)
        .strongReference(true)
        .description("Tokens per second over the rolling window (input + output)")
        .register(registry);
    Gauge.builder("telemetry.model.requests.per.second", rates, r -> r.get().requestsPerSecond())
        .tag("model", model)
        .strongReference(true)
        .description("Requests per second over the rolling window")
        .register(registry);
    Gauge.builder("telemetry.model.cost.per.token.usd", rates, r -> r.get().costPerToken())
        .tag("model", model)
        .strongReference(true)
        .description(
            "Live estimate: GPU cost of the model's GPUs over the window / tokens (NaN without"
                + " tokens)")
        .register(registry);
    Gauge.builder("telemetry.model.energy.per.token.joules", rates, r -> r.get().energyPerToken())
        .tag("model", model)
        .strongReference(true)
        .description(
            "Live estimate: energy drawn by the model's GPUs over the window / tokens (NaN without"
                + " tokens)")
        .register(registry);
    return true;
  }

  /**
   * Registers a budgeted tenant's two gauges of one kind ("cost" or "energy"): month-to-date use
   * and month-end forecast as fractions of the budget, read from the suppliers on each scrape (they
   * must answer at once; NaN while unknown). Tenants come from the budgets file, not from input, so
   * the series are as many as its entries; none while tenant labels are off.
   */
  public boolean budget(String tenant, String kind, DoubleSupplier used, DoubleSupplier forecast) {
    if (!tenantLabels) {
      return false;
    }
    Gauge.builder("telemetry.budget.used.ratio", used, DoubleSupplier::getAsDouble)
        .tags("tenant", tenant, "kind", kind)
        .strongReference(true)
        .description("Month-to-date use of the tenant's monthly budget, as a fraction of it")
        .register(registry);
    Gauge.builder("telemetry.budget.forecast.ratio", forecast, DoubleSupplier::getAsDouble)
        .tags("tenant", tenant, "kind", kind)
        .strongReference(true)
        .description("Month-end forecast of the tenant's use, as a fraction of its budget")
        .register(registry);
    return true;
  }

  public void unpriced(String gpuModel) {
    counter(UNPRICED, "gpu_model", gpuModels.label(gpuModel)).increment();
  }

  /** Updates the per-GPU gauges from a sample; GPUs beyond the cap are not exported. */
  public void gpuSample(Event sample) {
    String uuid = sample.scope();
    GpuGauges g = gpus.get(uuid);
    if (g == null) {
      if (gpus.size() >= caps.gpus()) {
        labelOverflow("gpu_uuid");
        return;
      }
      // The GPU's index on its node (DCGM's "gpu"); an empty value is no label in Prometheus.
      String index = sample.text(EventFields.G_GPU_INDEX);
      String gpuIndex = index == null ? "" : index;
      g =
          gpus.computeIfAbsent(
              uuid,
              u ->
                  new GpuGauges(
                      registry,
                      Tags.of(
                          "gpu_uuid",
                          u,
                          "node",
                          nodes.label(sample.text(EventFields.G_NODE)),
                          "gpu_model",
                          gpuModels.label(sample.text(EventFields.G_GPU_MODEL)),
                          "gpu_index",
                          gpuIndex)));
    }
    long beyond = g.update(sample);
    if (beyond > 0) {
      counter(SAMPLE_GAPS).increment();
      counter(UNCOVERED).increment(beyond / 1000.0);
    }
  }

  /** Removes gauges of GPUs not seen for {@code staleAfter}. */
  public void sweepGpus(Duration staleAfter) {
    long cutoff = System.currentTimeMillis() - staleAfter.toMillis();
    gpus.entrySet()
        .removeIf(
            e -> {
              if (e.getValue().lastUpdate < cutoff) {
                e.getValue().remove(registry);
                return true;
              }
              return false;
            });
  }

  @Override
  public void close() {
    gcMetrics.close();
    registry.close();
  }
}
