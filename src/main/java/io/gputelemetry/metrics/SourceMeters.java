package io.gputelemetry.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The meters of scraped sources, per source kind and target. Targets come from configuration, and
 * reasons from a fixed list, so the series are bounded.
 */
public final class SourceMeters {
  /**
   * Why a scrape failed or a sample was left out: the values of the reason label ("exited": a
   * source's child process, nvidia-smi, ended).
   */
  public static final List<String> REASONS =
      List.of(
          "connect",
          "timeout",
          "http_status",
          "content_type",
          "too_large",
          "parse",
          "missing_field",
          "missing_label",
          "bad_value",
          "invalid",
          "too_many_models",
          "kafka",
          "exited");

  private final PrometheusMeterRegistry registry;
  private final ZeroFirstCounters zeroFirst;
  private final Map<String, Target> targets = new ConcurrentHashMap<>();
  private final java.util.function.UnaryOperator<String> modelLabel;
  private final java.util.Set<String> latencies = ConcurrentHashMap.newKeySet();
  private final Map<String, Discovery> discoveries = new ConcurrentHashMap<>();

  SourceMeters(
      PrometheusMeterRegistry registry,
      ZeroFirstCounters zeroFirst,
      java.util.function.UnaryOperator<String> modelLabel) {
    this.registry = registry;
    this.zeroFirst = zeroFirst;
    this.modelLabel = modelLabel;
  }

  /**
   * Registers, once, the gauge of a model's latency quantile read from inference servers ({@code
   * latency}: ttft, e2e or itl); nothing for a model beyond the model label cap. The supplier
   * answers NaN while the window holds no observation.
   */
  public void latency(
      String model, String latency, double quantile, java.util.function.DoubleSupplier value) {
    String key = model + '\n' + latency + '\n' + quantile;
    if (latencies.contains(key) || Telemetry.OTHER.equals(modelLabel.apply(model))) {
      return;
    }
    if (latencies.add(key)) {
      Gauge.builder(
              "telemetry.model.latency.seconds",
              value,
              java.util.function.DoubleSupplier::getAsDouble)
          .description(
              "Latency quantile of a model over sources.vllm.latency-window, from its inference"
                  + " servers' histograms (latency: ttft, e2e, itl)")
          .tags("model", model, "latency", latency, "quantile", String.valueOf(quantile))
          .strongReference(true)
          .register(registry);
    }
  }

  /** The meters of one target, registered on first call. */
  public Target target(String source, String target) {
    return targets.computeIfAbsent(source + '\u0000' + target, k -> new Target(source, target));
  }

  /**
   * Unregisters a target's meters (a discovered target that is gone), so that the series of a
   * churning fleet stay bounded by the targets there are now.
   */
  public void remove(String source, String target) {
    if (targets.remove(source + '\u0000' + target) == null) {
      return;
    }
    for (Meter m : List.copyOf(registry.getMeters())) {
      if (source.equals(m.getId().getTag("source")) && target.equals(m.getId().getTag("target"))) {
        registry.remove(m);
      }
    }
  }

  /** The meters of one discovery, registered on first call; reasons: its failures' labels. */
  public Discovery discovery(String source, String discovery, List<String> reasons) {
    return discoveries.computeIfAbsent(
        source + '\u0000' + discovery, k -> new Discovery(source, discovery, reasons));
  }

  /** One discovery's meters: targets found, failed refreshes by reason, last success. */
  public final class Discovery {
    private final AtomicLong found = new AtomicLong();
    private final AtomicLong lastSuccessMillis = new AtomicLong();
    private final Map<String, ZeroFirstCounters.Series> errors = new ConcurrentHashMap<>();

    Discovery(String source, String discovery, List<String> reasons) {
      String[] tags = {"source", source, "discovery", discovery};
      Gauge.builder("telemetry.source.discovery.targets", found, AtomicLong::get)
          .description("Targets the discovery found at its last successful refresh")
          .tags(tags)
          .register(registry);
      Gauge.builder(
              "telemetry.source.discovery.last.success.timestamp.seconds",
              lastSuccessMillis,
              a -> a.get() / 1000.0)
          .description("When the discovery last refreshed successfully (Unix seconds)")
          .tags(tags)
          .register(registry);
      for (String r : reasons) {
        errors.put(
            r,
            zeroFirst.register(
                "telemetry.source.discovery.errors",
                "Refreshes of the discovery that failed, by reason (its targets were kept)",
                "source",
                source,
                "discovery",
                discovery,
                "reason",
                r));
      }
    }

    public void succeeded(long nowMillis, int targets) {
      found.set(targets);
      lastSuccessMillis.set(nowMillis);
    }

    public void failed(String reason) {
      errors.get(reason).increment();
    }

    public long lastSuccessMillis() {
      return lastSuccessMillis.get();
    }
  }

  /** One target's meters. */
  public final class Target {
    private final AtomicLong up = new AtomicLong();
    private final AtomicLong lastSuccessMillis = new AtomicLong();
    private final Timer duration;
    private final ZeroFirstCounters.Series parsed;
    private final Map<String, ZeroFirstCounters.Series> rejected = new ConcurrentHashMap<>();
    private final Map<String, ZeroFirstCounters.Series> failures = new ConcurrentHashMap<>();
    private final ZeroFirstCounters.Series resets;

    Target(String source, String target) {
      String[] tags = {"source", source, "target", target};
      Gauge.builder("telemetry.source.up", up, AtomicLong::get)
          .description("1 when the target's last scrape succeeded, else 0")
          .tags(tags)
          .register(registry);
      Gauge.builder(
              "telemetry.source.last.success.timestamp.seconds",
              lastSuccessMillis,
              a -> a.get() / 1000.0)
          .description("When the target last answered a scrape that parsed (Unix seconds)")
          .tags(tags)
          .register(registry);
      duration =
          Timer.builder("telemetry.source.scrape.duration")
              .description("Scrape duration, request to parsed samples")
              .tags(tags)
              .serviceLevelObjectives(MeterFilters.LATENCY_BUCKETS.toArray(Duration[]::new))
              .register(registry);
      parsed =
          zeroFirst.register(
              "telemetry.source.samples.parsed",
              "GPU samples read from the target and handed to Kafka",
              tags);
      // Only sources of counter readings have resets.
      resets =
          "vllm".equals(source)
              ? zeroFirst.register(
                  "telemetry.source.counter.resets",
                  "Counter readings of the target below the previous one (the server restarted)",
                  tags)
              : null;
      for (String r : REASONS) {
        rejected.put(
            r,
            zeroFirst.register(
                "telemetry.source.samples.rejected",
                "Samples of the target left out, by reason",
                "source",
                source,
                "target",
                target,
                "reason",
                r));
        failures.put(
            r,
            zeroFirst.register(
                "telemetry.source.scrape.failures",
                "Scrapes of the target that failed, by reason",
                "source",
                source,
                "target",
                target,
                "reason",
                r));
      }
    }

    public void succeeded(long nanos, long nowMillis, int samples) {
      up.set(1);
      lastSuccessMillis.set(nowMillis);
      duration.record(Duration.ofNanos(nanos));
      parsed.increment(samples);
    }

    public void failed(String reason, long nanos) {
      up.set(0);
      duration.record(Duration.ofNanos(nanos));
      failures.get(reason).increment();
    }

    public void rejected(String reason, long n) {
      rejected.get(reason).increment((double) n);
    }

    /** A counter reading below the one before (the server restarted). */
    public void counterReset() {
      if (resets != null) {
        resets.increment(1);
      }
    }

    public boolean up() {
      return up.get() == 1;
    }

    public long lastSuccessMillis() {
      return lastSuccessMillis.get();
    }
  }
}
