package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gputelemetry.accounting.LiveRates;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.store.StoredEvent;
import io.gputelemetry.store.WriteOutcome;
import io.gputelemetry.support.Scrapes;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BatchAccountingTest {
  private static final Instant NOW = Instant.now();
  private final Telemetry telemetry = new Telemetry("test", "0");
  private final ProcessorStats stats = new ProcessorStats();
  private final PriceBook prices = new PriceBook(Map.of(), Map.of());
  private final BatchAccounting accounting =
      new BatchAccounting(
          Map.of(EventType.GPU_SAMPLE, "gpu", EventType.TOKEN_USAGE, "tok"),
          new LivePricing(prices, new LiveRates(60_000, 5_000, prices), telemetry),
          telemetry,
          stats,
          5_000);
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  @AfterEach
  void close() {
    telemetry.close();
  }

  private Event event(EventType type, String json) {
    return parser.parse(type, json.getBytes(StandardCharsets.UTF_8), NOW, null).event();
  }

  private void add(Batch b, int offset, Event e) {
    ConsumerRecord<String, byte[]> r = new ConsumerRecord<>("t", 0, offset, "k", new byte[] {1});
    b.track(r);
    b.add(r, new StoredEvent(e, NOW.toEpochMilli(), false, Double.NaN));
  }

  private Event tokens(String id, String tenant, int in, int out) {
    return tokens(id, tenant, in, out, NOW);
  }

  private Event tokens(String id, String tenant, int in, int out, Instant ts) {
    return event(
        EventType.TOKEN_USAGE,
        "{\"event_id\":\""
            + id
            + "\",\"ts\":\""
            + ts
            + "\",\"tenant\":\""
            + tenant
            + "\",\"model\":\"llama\",\"input_tokens\":"
            + in
            + ",\"output_tokens\":"
            + out
            + "}");
  }

  private double tokenCounter(String tenant, String direction) {
    return Scrapes.settled(
        telemetry,
        "telemetry_tokens_total",
        "model",
        "llama",
        "tenant",
        tenant,
        "direction",
        direction);
  }

  @Test
  void onlyNewlyStoredTokensCountAndWhatTheStoreRefusedIsDeadLettered() {
    Batch b = new Batch();
    add(b, 0, tokens("a", "acme", 10, 1));
    add(b, 1, tokens("b", "acme", 100, 2)); // already stored
    add(b, 2, tokens("c", "acme", 1000, 3)); // refused
    add(b, 3, tokens("d", "globex", 7, 4));
    WriteOutcome out = new WriteOutcome(4, Set.of(1), Map.of(2, "document too large"));

    accounting.tokens(b, out, NOW.toEpochMilli());

    assertEquals(10.0, tokenCounter("acme", "input"));
    assertEquals(1.0, tokenCounter("acme", "output"));
    assertEquals(7.0, tokenCounter("globex", "input"));
    assertEquals(2, stats.stored.get());
    assertEquals(1, stats.duplicates.get());
    assertEquals(22, stats.tokens.get());
    assertEquals(1, b.deadLetters().size());
    assertEquals("store_rejected", b.deadLetters().get(0).reason());
    assertEquals(2, b.deadLetters().get(0).record().offset());
    assertEquals("document too large", b.deadLetters().get(0).detail());
  }

  @Test
  void theSamplesHeldByTheStoreIncludeDuplicatesButNotRefusals() {
    Batch b = new Batch();
    for (int i = 0; i < 3; i++) {
      add(
          b,
          i,
          event(
              EventType.GPU_SAMPLE,
              "{\"event_id\":\"s"
                  + i
                  + "\",\"ts\":\""
                  + NOW
                  + "\",\"node\":\"n\",\"gpu_uuid\":\"GPU-"
                  + i
                  + "\",\"gpu_model\":\"X\",\"utilization_pct\":1,\"memory_used_mib\":1,"
                  + "\"memory_total_mib\":2,\"power_w\":3,\"temperature_c\":4}"));
    }
    List<Event> held =
        accounting.samples(
            b, new WriteOutcome(3, Set.of(0), Map.of(1, "refused")), NOW.toEpochMilli());
    assertEquals(List.of("GPU-0", "GPU-2"), held.stream().map(Event::scope).toList());
    assertEquals(1, stats.stored.get());
  }

  private Event sample(String id, Instant ts) {
    return event(
        EventType.GPU_SAMPLE,
        "{\"event_id\":\""
            + id
            + "\",\"ts\":\""
            + ts
            + "\",\"node\":\"n\",\"gpu_uuid\":\"GPU-"
            + id
            + "\",\"gpu_model\":\"X\",\"utilization_pct\":1,\"memory_used_mib\":1,"
            + "\"memory_total_mib\":2,\"power_w\":3,\"temperature_c\":4}");
  }

  @Test
  void newlyStoredSamplesAreCountedTimedAndJudgedLateAgainstTheAllowedLateness() {
    // Allowed lateness 5 000 ms. Newly stored: 5 000 ms old (on time), 5 001 ms old (late), 1 s in
    // the future (0 ms end to end). A duplicate 9 s old is neither late nor timed; a refused one
    // is a write failure. Unpriced: the sample stored as such.
    long now = NOW.toEpochMilli();
    Batch b = new Batch();
    add(b, 0, sample("a", NOW.minusMillis(5_000)));
    add(b, 1, sample("b", NOW.minusMillis(5_001)));
    ConsumerRecord<String, byte[]> r = new ConsumerRecord<>("t", 0, 2, "k", new byte[] {1});
    b.track(r);
    b.add(r, new StoredEvent(sample("c", NOW.plusSeconds(1)), now, true, Double.NaN));
    add(b, 3, sample("d", NOW.minusSeconds(9)));
    add(b, 4, sample("e", NOW.minusSeconds(9)));
    accounting.samples(b, new WriteOutcome(5, Set.of(3), Map.of(4, "refused")), now);

    assertEquals(3.0, Scrapes.settled(telemetry, "telemetry_events_stored_total", "topic", "gpu"));
    assertEquals(
        1.0, Scrapes.settled(telemetry, "telemetry_events_duplicate_total", "topic", "gpu"));
    assertEquals(1.0, Scrapes.settled(telemetry, "telemetry_events_late_total", "topic", "gpu"));
    assertEquals(
        1.0,
        Scrapes.settled(
            telemetry,
            "telemetry_store_write_failures_total",
            "collection",
            "gpu_metrics",
            "kind",
            "data"));
    assertEquals(
        1.0, Scrapes.settled(telemetry, "telemetry_unpriced_events_total", "gpu_model", "X"));
    Timer e2e = telemetry.endToEnd("gpu");
    assertEquals(3, e2e.count());
    assertEquals(5_000 + 5_001 + 0, e2e.totalTime(TimeUnit.MILLISECONDS), 1e-6);
    assertEquals(3, stats.stored.get());
    assertEquals(1, stats.duplicates.get());
  }

  @Test
  void eachNewlyStoredTokenEventIsOneRequestOfItsTenant() {
    Batch b = new Batch();
    add(b, 0, tokens("a", "acme", 10, 1));
    add(b, 1, tokens("b", "acme", 20, 2));
    add(b, 2, tokens("c", "acme", 30, 3)); // already stored
    accounting.tokens(b, new WriteOutcome(3, Set.of(2), Map.of()), NOW.toEpochMilli());
    assertEquals(
        2.0,
        Scrapes.settled(telemetry, "telemetry_requests_total", "model", "llama", "tenant", "acme"));
    assertEquals(2.0, Scrapes.settled(telemetry, "telemetry_events_stored_total", "topic", "tok"));
    assertEquals(
        1.0, Scrapes.settled(telemetry, "telemetry_events_duplicate_total", "topic", "tok"));
  }

  private Event reading(long secondsAgo, long prompt, long generation, long requests) {
    return event(
        EventType.TOKEN_USAGE,
        "{\"ts\":\""
            + NOW.minusSeconds(secondsAgo)
            + "\",\"tenant\":\"acme\",\"model\":\"llama\",\"reading_of\":\"http://v/metrics\","
            + "\"prompt_tokens_total\":"
            + prompt
            + ",\"generation_tokens_total\":"
            + generation
            + ",\"requests_total\":"
            + requests
            + "}");
  }

  @Test
  void aCounterReadingCountsItsIncreaseOverTheLastOneAndALateOneNothing() {
    Batch b = new Batch();
    add(b, 0, reading(30, 1000, 400, 10)); // the baseline
    add(b, 1, reading(10, 1600, 640, 25));
    add(b, 2, reading(20, 1300, 520, 17)); // another producer's, older than the last
    add(b, 3, reading(0, 2500, 1000, 40));
    accounting.tokens(b, WriteOutcome.allInserted(4), NOW.toEpochMilli());
    assertEquals(1500.0, tokenCounter("acme", "input"), "600 + 900");
    assertEquals(600.0, tokenCounter("acme", "output"), "240 + 360");
    assertEquals(
        30.0,
        Scrapes.settled(telemetry, "telemetry_requests_total", "model", "llama", "tenant", "acme"),
        "15 + 15, not one per reading");
  }

  @Test
  void aTokenEventStoredLaterThanTheAllowedLatenessIsCountedLate() {
    // Allowed lateness 5 000 ms: 5 000 ms old and 1 s old are on time, 5 001 ms old is late.
    Batch b = new Batch();
    add(b, 0, tokens("a", "acme", 1, 1, NOW.minusMillis(5_000)));
    add(b, 1, tokens("b", "acme", 1, 1, NOW.minusMillis(5_001)));
    add(b, 2, tokens("c", "acme", 1, 1, NOW.minusMillis(1_000)));
    accounting.tokens(b, new WriteOutcome(3, Set.of(), Map.of()), NOW.toEpochMilli());
    assertEquals(1.0, Scrapes.settled(telemetry, "telemetry_events_late_total", "topic", "tok"));
  }

  @Test
  void aModelsLiveGaugesAppearWithItsFirstStoredTokens() {
    Batch b = new Batch();
    add(b, 0, tokens("a", "acme", 10, 1));
    accounting.tokens(b, new WriteOutcome(1, Set.of(), Map.of()), NOW.toEpochMilli());
    // Not refreshed yet: the gauge exists and shows the (empty) last refresh.
    assertEquals(
        0.0,
        Scrapes.settled(telemetry, "telemetry_model_tokens_per_second", "model", "llama"),
        "registered with the model's first tokens");
  }

  private Event firstReading(String target, long secondsAgo) {
    return event(
        EventType.TOKEN_USAGE,
        "{\"ts\":\""
            + NOW.minusSeconds(secondsAgo)
            + "\",\"tenant\":\"acme\",\"model\":\"llama\",\"reading_of\":\""
            + target
            + "\",\"prompt_tokens_total\":1,\"generation_tokens_total\":1,\"requests_total\":1}");
  }

  @Test
  void aFirstReadingOlderThanTheAllowedLatenessIsCountedLateAndOneAtItIsNot() {
    // A series' first reading is its baseline (no tokens); it is late like any event.
    Batch b = new Batch();
    add(b, 0, firstReading("http://v/metrics", 5)); // exactly the allowed 5 000 ms: on time
    add(b, 1, firstReading("http://w/metrics", 10));
    add(b, 2, firstReading("http://x/metrics", 6));
    accounting.tokens(b, WriteOutcome.allInserted(3), NOW.toEpochMilli());
    assertEquals(2.0, Scrapes.settled(telemetry, "telemetry_events_late_total", "topic", "tok"));
  }
}
