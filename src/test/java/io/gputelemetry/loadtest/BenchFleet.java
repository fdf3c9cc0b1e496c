package io.gputelemetry.loadtest;

import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.Settings;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.producer.FleetSimulator;
import io.gputelemetry.store.LedgerGrain;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.Store;
import io.gputelemetry.store.StoredEvent;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * What the benches store, made the way the pipeline makes it: the fleet simulator's events, parsed
 * again from their JSON as the processor parses a record and stored through {@link Store#insert};
 * the minute ledger computed from the stored events by {@link UsageCalculator#rows()}, and its hour
 * and day roll-ups (the sum of the finer rows by key), written through {@link Store#replaceLedger}.
 */
final class BenchFleet {
  static final long MINUTE = 60_000L;

  /** The live estimate stored with each token event (USD per token; any non-NaN value). */
  static final double COST_PER_TOKEN = 2.5e-7;

  private static final int CHUNK = 5_000;

  private BenchFleet() {}

  /** A fleet: nodes of gpusPerNode GPUs, GPU models by node, models by GPU, tenants by weight. */
  static AppConfig.Simulator simulator(
      int nodes,
      int gpusPerNode,
      List<String> gpuModels,
      int models,
      int tenants,
      double requestsPerSecond,
      Duration sampleInterval) {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("simulator.nodes", Integer.toString(nodes));
    s.put("simulator.gpus-per-node", Integer.toString(gpusPerNode));
    s.put("simulator.gpu-models", String.join(",", gpuModels));
    s.put("simulator.models", names("model-", models));
    s.put("simulator.tenants", names("tenant-", tenants));
    s.put("simulator.rate", Double.toString(requestsPerSecond));
    s.put("simulator.sample-interval", sampleInterval.toMillis() + "ms");
    return AppConfig.from(Settings.load(null, Map.of(), s)).simulator();
  }

  private static String names(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> prefix + i).collect(Collectors.joining(","));
  }

  /** The parser of the processor, accepting the simulated past. */
  static EventParser parser() {
    return new EventParser(Duration.ofDays(1), Duration.ofDays(3650));
  }

  /**
   * Runs the simulator from {@code start} for {@code duration} in steps of a second and stores its
   * events as the processor does; returns the events stored, by type.
   */
  static Map<EventType, Long> storeRaw(
      Store store, AppConfig.Simulator config, Instant start, Duration duration) throws Exception {
    EventParser parser = parser();
    FleetSimulator sim = new FleetSimulator(config, GpuProfiles.load(), parser, "bench", start);
    Map<EventType, List<StoredEvent>> pending = new EnumMap<>(EventType.class);
    Map<EventType, Long> stored = new EnumMap<>(EventType.class);
    for (EventType t : EventType.values()) {
      pending.put(t, new ArrayList<>());
      stored.put(t, 0L);
    }
    Instant end = start.plus(duration);
    for (Instant t = start.plusSeconds(1); !t.isAfter(end); t = t.plusSeconds(1)) {
      for (Event e : sim.advance(t, Duration.ofSeconds(1), Long.MAX_VALUE)) {
        // The record's bytes as the producer sends them, parsed again as the processor does.
        ParseResult pr = parser.parse(e.type(), e.json(), t, null);
        if (!pr.ok()) {
          throw new IllegalStateException("invalid simulated event: " + pr.violations());
        }
        boolean token = e.type() == EventType.TOKEN_USAGE;
        List<StoredEvent> p = pending.get(e.type());
        p.add(
            new StoredEvent(
                pr.event(), t.toEpochMilli(), false, token ? COST_PER_TOKEN : Double.NaN));
        if (p.size() >= CHUNK) {
          flush(store, e.type(), p, stored);
        }
      }
    }
    for (EventType t : EventType.values()) {
      flush(store, t, pending.get(t), stored);
    }
    return stored;
  }

  private static void flush(
      Store store, EventType type, List<StoredEvent> events, Map<EventType, Long> stored)
      throws Exception {
    if (events.isEmpty()) {
      return;
    }
    get(store.insert(type, List.copyOf(events)));
    stored.merge(type, (long) events.size(), Long::sum);
    events.clear();
  }

  /**
   * The minute ledger of [from, to) computed from the stored raw events, as the ledger's writer
   * computes an interval: every row of {@link UsageCalculator#rows()} on a one-minute grid.
   */
  static List<LedgerRow> minuteRows(Store store, long from, long to, long maxGapMillis)
      throws Exception {
    UsageCalculator calc =
        new UsageCalculator(
            from, to, 0, MINUTE, maxGapMillis, PriceBook.load(null), GpuProfiles.load());
    get(store.usage(from, to, maxGapMillis, calc::addSample, calc::addTokens));
    return calc.rows();
  }

  /** Rows by the start of their interval. */
  static TreeMap<Long, List<LedgerRow>> byStart(List<LedgerRow> rows) {
    TreeMap<Long, List<LedgerRow>> m = new TreeMap<>();
    rows.forEach(r -> m.computeIfAbsent(r.start(), k -> new ArrayList<>()).add(r));
    return m;
  }

  /** The roll-up of rows into [start, end): one row per key, the sum of its rows' amounts. */
  static List<LedgerRow> rollUp(List<LedgerRow> rows, long start, long end) {
    Map<String, LedgerRow> byKey = new LinkedHashMap<>();
    for (LedgerRow r : rows) {
      byKey.merge(
          r.key(),
          r.over(start, end, r.amounts()),
          (a, b) -> a.over(start, end, a.amounts().plus(b.amounts())));
    }
    return new ArrayList<>(byKey.values());
  }

  /** Writes each interval's rows of a grain (one revision). */
  static void write(Store store, LedgerGrain grain, long length, Map<Long, List<LedgerRow>> rows)
      throws Exception {
    List<Future<Boolean>> writes = new ArrayList<>();
    for (Map.Entry<Long, List<LedgerRow>> e : rows.entrySet()) {
      long start = e.getKey();
      writes.add(store.replaceLedger(grain, start, start + length, 1, e.getValue(), start));
      if (writes.size() >= 8) {
        get(Future.all(writes));
        writes.clear();
      }
    }
    get(Future.all(writes));
  }

  static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
  }
}
