package io.gputelemetry.metrics;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.micrometer.core.instrument.Counter;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Our own meters ({@code telemetry_*}), on the process's Prometheus registry. Label values are
 * bounded: topics, routes, reasons, models, and tenants and GPUs up to a cap (then "_other" /
 * dropped).
 */
public final class Telemetry implements AutoCloseable {
  public static final String OTHER = "_other";
  private static final int MAX_TENANTS = 500;
  private static final int MAX_GPUS = 4096;
  private static final Duration[] LATENCY_SLOS = {
    Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
    Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
    Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
    Duration.ofSeconds(60), Duration.ofMinutes(5)
  };

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  private final Map<String, Boolean> tenants = new ConcurrentHashMap<>();
  private final Map<String, GpuGauges> gpus = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> lags = new ConcurrentHashMap<>();
  private final AtomicLong paused = new AtomicLong();
  private final AtomicLong lastCommitMillis = new AtomicLong();
  private final DoubleAdder pausedSeconds = new DoubleAdder();

  private final String role;
  private final String version;

  /** The live figures of one model that its gauges show; ratios are NaN without tokens. */
  public record ModelRates(
      double tokensPerSecond,
      double requestsPerSecond,
      double costPerToken,
      double energyPerToken) {}

  public Telemetry(String role, String version) {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.role = role;
    this.version = version;
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
    FunctionCounter.builder("telemetry.consumer.paused.seconds", pausedSeconds, DoubleAdder::sum)
        .description("Time consumption spent paused")
        .register(registry);
    Gauge.builder(
            "telemetry.consumer.last.commit.timestamp.seconds",
            lastCommitMillis,
            a -> a.get() / 1000.0)
        .description("When offsets were last committed (Unix time)")
        .register(registry);
    return this;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  /**
   * A counter by name and tags, registered once and then found by a map lookup (hot paths call this
   * per event).
   */
  private Counter counter(String name, String description, String... tags) {
    String key = name + '\u0000' + String.join("\u0000", tags);
    Counter c = counters.get(key);
    if (c == null) {
      c =
          counters.computeIfAbsent(
              key,
              k -> Counter.builder(name).description(description).tags(tags).register(registry));
    }
    return c;
  }

  /**
   * Registers at zero the series whose labels are known up front, so that rates and alerts see a 0
   * rather than no data before the first failure.
   */
  public void initProducer(List<String> topics) {
    for (String t : topics) {
      Counter.builder("telemetry.produce.failures")
          .description("Sends Kafka did not acknowledge")
          .tags("topic", t)
          .register(registry);
    }
  }

  /** See {@link #initProducer}. */
  public void initIngest(List<String> routes) {
    for (String r : routes) {
      Counter.builder("telemetry.ingest.backpressure")
          .description("Ingest requests answered 503 because Kafka could not keep up")
          .tags("route", r)
          .register(registry);
    }
  }

  /** See {@link #initProducer}. */
  public void initProcessor(List<String> topics, List<String> collections) {
    for (String t : topics) {
      Counter.builder("telemetry.events.late")
          .description("Events stored later than the allowed lateness")
          .tags("topic", t)
          .register(registry);
      Counter.builder("telemetry.events.duplicate")
          .description("Events already stored (duplicate key), skipped")
          .tags("topic", t)
          .register(registry);
    }
    for (String c : collections) {
      for (String kind : List.of("infrastructure", "data")) {
        Counter.builder("telemetry.store.write.failures")
            .description(
                "Documents whose MongoDB write failed, per attempt (infrastructure: retried; data:"
                    + " to the DLQ)")
            .tags("collection", c, "kind", kind)
            .register(registry);
      }
    }
    Counter.builder("telemetry.store.retries")
        .description("Batch write retries after an infrastructure failure")
        .register(registry);
    Counter.builder("telemetry.consumer.commit.failures")
        .description("Offset commits that failed (the batch is re-read, stored once)")
        .register(registry);
  }

  // --- ingest and produce ---

  public void ingestRequest(String route, int status, long nanos) {
    counter(
            "telemetry.ingest.requests",
            "HTTP ingest requests by route and status",
            "route",
            route,
            "status",
            Integer.toString(status))
        .increment();
    timers
        .computeIfAbsent(
            route,
            r ->
                Timer.builder("telemetry.ingest.request.duration")
                    .description("HTTP ingest request duration")
                    .tags("route", r)
                    .serviceLevelObjectives(LATENCY_SLOS)
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  public void ingestBackpressure(String route) {
    counter(
            "telemetry.ingest.backpressure",
            "Ingest requests answered 503 because Kafka could not keep up",
            "route",
            route)
        .increment();
  }

  public void eventsRejected(String topic, String reason, long n) {
    counter(
            "telemetry.events.rejected",
            "Events rejected by validation at ingest",
            "topic",
            topic,
            "reason",
            reason)
        .increment((double) n);
  }

  public void eventsProduced(String topic, String source, long n) {
    counter(
            "telemetry.events.produced",
            "Events acknowledged by Kafka",
            "topic",
            topic,
            "source",
            source)
        .increment((double) n);
  }

  public void produceFailed(String topic) {
    counter("telemetry.produce.failures", "Sends Kafka did not acknowledge", "topic", topic)
        .increment();
  }

  // --- consume and store ---

  public void eventsConsumed(String topic, long n) {
    counter("telemetry.events.consumed", "Records consumed from Kafka", "topic", topic)
        .increment((double) n);
  }

  public void eventsStored(String topic, long n) {
    counter("telemetry.events.stored", "Events newly stored in MongoDB", "topic", topic)
        .increment((double) n);
  }

  public void eventsDuplicate(String topic, long n) {
    counter(
            "telemetry.events.duplicate",
            "Events already stored (duplicate key), skipped",
            "topic",
            topic)
        .increment((double) n);
  }

  public void eventsDlq(String topic, String reason, long n) {
    counter(
            "telemetry.events.dlq",
            "Records sent to the dead-letter topic, by reason",
            "topic",
            topic,
            "reason",
            reason)
        .increment((double) n);
  }

  public void eventsLate(String topic, long n) {
    counter(
            "telemetry.events.late",
            "Events stored later than the allowed lateness",
            "topic",
            topic)
        .increment((double) n);
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
    counter(
            "telemetry.store.write.failures",
            "Documents whose MongoDB write failed, per attempt (infrastructure: retried; data: to"
                + " the DLQ)",
            "collection",
            collection,
            "kind",
            kind)
        .increment((double) documents);
  }

  public void storeRetry() {
    counter("telemetry.store.retries", "Batch write retries after an infrastructure failure")
        .increment();
  }

  public void commitFailed() {
    counter(
            "telemetry.consumer.commit.failures",
            "Offset commits that failed (the batch is re-read, stored once)")
        .increment();
  }

  public void committed() {
    lastCommitMillis.set(System.currentTimeMillis());
  }

  public void setPaused(boolean p) {
    paused.set(p ? 1 : 0);
  }

  public void addPausedSeconds(double s) {
    pausedSeconds.add(s);
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

  /** A bounded tenant label: the first {@value #MAX_TENANTS} tenants by name, then "_other". */
  public String tenantLabel(String tenant) {
    if (tenants.containsKey(tenant)) {
      return tenant;
    }
    if (tenants.size() < MAX_TENANTS) {
      tenants.put(tenant, Boolean.TRUE);
      return tenant;
    }
    return OTHER;
  }

  /**
   * Adds the tokens and requests of stored token events (summed per model and tenant by the
   * caller).
   */
  public void tokens(String model, String tenant, long input, long output, long requests) {
    String t = tenantLabel(tenant);
    counter(
            "telemetry.tokens",
            "Tokens stored, by model, tenant and direction",
            "model",
            model,
            "tenant",
            t,
            "direction",
            "input")
        .increment((double) input);
    counter(
            "telemetry.tokens",
            "Tokens stored, by model, tenant and direction",
            "model",
            model,
            "tenant",
            t,
            "direction",
            "output")
        .increment((double) output);
    counter(
            "telemetry.requests",
            "Requests stored, by model and tenant",
            "model",
            model,
            "tenant",
            t)
        .increment((double) requests);
  }

  /**
   * The live per-model gauges, computed from the supplier on each scrape (held strongly: it is a
   * lambda).
   */
  public void modelRates(String model, Supplier<ModelRates> rates) {
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
  }

  public void unpriced(String gpuModel) {
    counter(
            "telemetry.unpriced.events",
            "Events whose GPU has no hourly price in force",
            "gpu_model",
            gpuModel)
        .increment();
  }

  /** Updates the per-GPU gauges from a sample; GPUs beyond the cap are not exported. */
  public void gpuSample(Event sample) {
    String uuid = sample.scope();
    GpuGauges g = gpus.get(uuid);
    if (g == null) {
      if (gpus.size() >= MAX_GPUS) {
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
                          sample.text(EventFields.G_NODE),
                          "gpu_model",
                          sample.text(EventFields.G_GPU_MODEL),
                          "gpu_index",
                          gpuIndex)));
    }
    g.update(sample);
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
