package io.gputelemetry.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.Settings;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FleetSimulatorTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  private static AppConfig.Simulator config(double rate) {
    return config(rate, 0);
  }

  private static AppConfig.Simulator config(double rate, double xidPerGpuHour) {
    return AppConfig.from(
            Settings.load(
                null,
                Map.of(),
                Map.of(
                    "simulator.rate",
                    Double.toString(rate),
                    "simulator.nodes",
                    "3",
                    "simulator.gpus-per-node",
                    "4",
                    "simulator.gpu-models",
                    "H100-SXM-80GB,L4-24GB",
                    "simulator.xid-per-gpu-hour",
                    Double.toString(xidPerGpuHour))))
        .simulator();
  }

  @Test
  void xidErrorsAreInjectedOnlyWhenAskedFor() {
    // 12 GPUs for an hour of 1 s samples.
    List<Event> calm =
        run(new FleetSimulator(config(1), GpuProfiles.load(), parser, "r", T0), 3600);
    assertTrue(
        calm.stream()
            .filter(e -> e.type() == EventType.GPU_SAMPLE)
            .allMatch(
                e ->
                    e.body().get("xid_errors").asLong() == 0
                        && e.body().get("last_xid").asInt() == 0),
        "no XID by default");
    // 60 per GPU-hour over 10 minutes: about 10 per GPU, 120 in all.
    List<Event> faulty =
        run(new FleetSimulator(config(1, 60), GpuProfiles.load(), parser, "r", T0), 600);
    Map<String, Event> last = new java.util.HashMap<>();
    faulty.stream()
        .filter(e -> e.type() == EventType.GPU_SAMPLE)
        .forEach(e -> last.put(e.body().get("gpu_uuid").asText(), e));
    long total = last.values().stream().mapToLong(e -> e.body().get("xid_errors").asLong()).sum();
    assertTrue(total > 70 && total < 170, "XIDs injected " + total);
    Set<Integer> known = Set.of(13, 31, 43, 45, 48, 63, 74, 79, 94);
    last.values()
        .forEach(
            e -> {
              int code = e.body().get("last_xid").asInt();
              assertTrue(
                  e.body().get("xid_errors").asLong() == 0 ? code == 0 : known.contains(code),
                  "last XID " + code + " with count " + e.body().get("xid_errors"));
            });
  }

  private List<Event> run(FleetSimulator sim, int seconds) {
    List<Event> all = new ArrayList<>();
    for (int i = 1; i <= seconds * 10; i++) {
      all.addAll(sim.advance(T0.plusMillis(100L * i), Duration.ofMillis(100), Long.MAX_VALUE));
    }
    return all;
  }

  /** The content of an event without its id, which carries the run id. */
  private static String content(Event e) {
    return e.body().deepCopy().without("event_id").toString();
  }

  @Test
  void sameSeedGivesTheSameEventsButNewIds() {
    List<Event> a =
        run(new FleetSimulator(config(200), GpuProfiles.load(), parser, "runA", T0), 10);
    List<Event> b =
        run(new FleetSimulator(config(200), GpuProfiles.load(), parser, "runB", T0), 10);
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertEquals(content(a.get(i)), content(b.get(i)));
      assertNotEquals(a.get(i).eventId(), b.get(i).eventId());
    }
  }

  @Test
  void arrivalsFollowTheRateAndEveryGpuSamplesEachInterval() {
    List<Event> events =
        run(new FleetSimulator(config(500), GpuProfiles.load(), parser, "r", T0), 20);
    long requests = events.stream().filter(e -> e.type() == EventType.TOKEN_USAGE).count();
    long samples = events.stream().filter(e -> e.type() == EventType.GPU_SAMPLE).count();
    // Poisson(10000): 5 standard deviations is 500.
    assertTrue(Math.abs(requests - 10_000) < 500, "requests " + requests);
    Map<String, Long> perGpu =
        events.stream()
            .filter(e -> e.type() == EventType.GPU_SAMPLE)
            .collect(
                java.util.stream.Collectors.groupingBy(
                    e -> e.body().get("gpu_uuid").asText(),
                    java.util.stream.Collectors.counting()));
    assertEquals(12, perGpu.size());
    // One sample per GPU per second over 20 s; the first GPU's phase puts a sample at both ends.
    perGpu.values().forEach(n -> assertTrue(n == 20 || n == 21, "samples per GPU " + n));
    assertTrue(samples >= 240);
    Set<String> ids = new HashSet<>();
    events.forEach(e -> ids.add(e.storeId()));
    assertEquals(events.size(), ids.size(), "ids are unique");
  }

  @Test
  void tokenCountsAreHeavyTailedAndPowerFollowsLoad() {
    List<Event> busy =
        run(new FleetSimulator(config(2000), GpuProfiles.load(), parser, "r", T0), 10);
    List<Event> idle = run(new FleetSimulator(config(0), GpuProfiles.load(), parser, "r", T0), 10);
    List<Long> out =
        busy.stream()
            .filter(e -> e.type() == EventType.TOKEN_USAGE)
            .map(e -> e.body().get("output_tokens").asLong())
            .sorted()
            .toList();
    long median = out.get(out.size() / 2);
    long p99 = out.get(out.size() * 99 / 100);
    assertTrue(p99 > 5 * median, "p99 " + p99 + " vs median " + median);
    assertTrue(
        meanPower(busy) > meanPower(idle) * 1.5,
        meanPower(busy) + " W busy vs " + meanPower(idle) + " W idle");
  }

  private static double meanPower(List<Event> events) {
    return events.stream()
        .filter(e -> e.type() == EventType.GPU_SAMPLE)
        .mapToDouble(e -> e.body().get("power_w").asDouble())
        .average()
        .orElse(0);
  }

  @Test
  void runIdsFromADataDirectoryNeverRepeat(@TempDir Path dir) {
    String first = RunIds.next(dir);
    String second = RunIds.next(dir);
    assertNotEquals(first, second);
    assertNotEquals(RunIds.next(null), RunIds.next(null));
  }
}
