package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.LiveRates;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.store.GpuRecord;
import io.gputelemetry.support.Events;
import io.gputelemetry.support.Scrapes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The live side of pricing: the estimate each stored event carries (unpriced when its GPU has no
 * price in force, else the model's live cost per token), the GPU model an event names, the lateness
 * verdict, and the live gauges, which show the snapshot of the last refresh: a scrape reads it and
 * computes nothing, so tokens recorded since show at the next refresh, not before.
 *
 * <p>Prices: H100 at $3.60 an hour ($0.001 a second) since the epoch, A100 only from an hour after
 * now, B200 never. The live window is 60 s, the allowed lateness 5 s.
 */
class LivePricingTest {
  private static final long NOW = Instant.now().toEpochMilli();
  private final Telemetry telemetry = new Telemetry("test", "0");
  private final PriceBook prices =
      new PriceBook(
          Map.of(
              "H100", List.of(new PriceBook.Price(0, 3.6)),
              "A100", List.of(new PriceBook.Price(NOW + 3_600_000, 2.0))),
          Map.of());
  private final LiveRates live = new LiveRates(60_000, 5_000, prices);
  private final LivePricing pricing = new LivePricing(prices, live, telemetry);
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  @AfterEach
  void close() {
    telemetry.close();
  }

  private double gauge(String name, String model) {
    return Scrapes.value(telemetry.registry().scrape(), name, "model", model);
  }

  private double tokensPerSecond() {
    return gauge("telemetry_model_tokens_per_second", "m");
  }

  private Event event(EventType type, String json) {
    Event e =
        parser
            .parse(type, json.getBytes(StandardCharsets.UTF_8), Instant.ofEpochMilli(NOW), null)
            .event();
    assertTrue(e != null, "a valid event: " + json);
    return e;
  }

  private Event sample(String gpuModel) {
    return event(
        EventType.GPU_SAMPLE,
        "{\"event_id\":\"s-"
            + gpuModel
            + "\",\"ts\":\""
            + Instant.ofEpochMilli(NOW)
            + "\",\"node\":\"n\",\"gpu_uuid\":\"GPU-S\",\"gpu_model\":\""
            + gpuModel
            + "\",\"utilization_pct\":1,\"memory_used_mib\":1,"
            + "\"memory_total_mib\":2,\"power_w\":3,\"temperature_c\":4}");
  }

  /** A token event of a model, served by the given GPU (null: no GPU named). */
  private Event tokens(String model, String gpuUuid) {
    return event(
        EventType.TOKEN_USAGE,
        "{\"event_id\":\"t-"
            + model
            + "-"
            + gpuUuid
            + "\",\"ts\":\""
            + Instant.ofEpochMilli(NOW)
            + "\",\"tenant\":\"acme\",\"model\":\""
            + model
            + "\""
            + (gpuUuid == null ? "" : ",\"gpu_uuid\":\"" + gpuUuid + "\"")
            + ",\"input_tokens\":10,\"output_tokens\":5}");
  }

  /** A GPU seen for the last two minutes, its newest sample carrying the given fields. */
  private static GpuRecord gpu(
      String uuid, String gpuModel, String model, Map<String, Object> last) {
    return new GpuRecord(
        uuid, "node-1", gpuModel, model, new GpuRecord.Span(NOW - 120_000, NOW), last);
  }

  /**
   * llama on GPU-1 (H100, 300 W, no energy counter), qwen on GPU-2 (B200, unpriced); 500 input +
   * 100 output llama tokens a second ago.
   */
  private void fleet() {
    pricing.recordTokens("llama", NOW - 1_000, 500, 100, NOW);
    pricing.refresh(
        List.of(
            gpu("GPU-1", "H100", "llama", Map.of("power_w", 300.0)),
            gpu("GPU-2", "B200", "qwen", Map.of("power_w", 200))),
        NOW);
  }

  @Test
  void aScrapeShowsTheLastRefreshNotTheTokensRecordedSince() {
    long now = System.currentTimeMillis();
    pricing.gauges("m");
    // 500 input + 100 output tokens a second ago.
    pricing.recordTokens("m", now - 1_000, 500, 100, now);
    assertEquals(0.0, tokensPerSecond(), "not refreshed yet: the scrape computes nothing");
    pricing.refresh(List.of(), System.currentTimeMillis());
    // 600 tokens over the 60 s window: 10 tokens/s.
    assertEquals(10.0, tokensPerSecond(), 1e-9);
    pricing.recordTokens("m", now - 500, 600, 0, now);
    assertEquals(10.0, tokensPerSecond(), 1e-9, "still the last refresh");
    pricing.refresh(List.of(), System.currentTimeMillis());
    assertEquals(20.0, tokensPerSecond(), 1e-9);
  }

  @Test
  void aSampleIsUnpricedExactlyWhenItsGpuModelHasNoPriceInForceAtItsTime() {
    LivePricing.Estimate priced = pricing.estimate(sample("H100"));
    assertFalse(priced.unpriced());
    assertTrue(Double.isNaN(priced.costPerToken()), "a sample has no cost per token");
    assertTrue(pricing.estimate(sample("B200")).unpriced(), "no price at all");
    assertTrue(pricing.estimate(sample("A100")).unpriced(), "a price only from an hour later");
  }

  @Test
  void aTokenEventCarriesItsModelsLiveCostPerToken() {
    fleet();
    // GPU-1 over the whole 60 s window: $0.06 for llama's 600 tokens.
    LivePricing.Estimate onGpu = pricing.estimate(tokens("llama", "GPU-1"));
    assertFalse(onGpu.unpriced());
    assertEquals(0.0001, onGpu.costPerToken(), 1e-12);
    assertEquals(0.0001, pricing.estimate(tokens("llama", null)).costPerToken(), 1e-12);
    assertEquals(0.0001, gauge("telemetry_model_cost_per_token_usd", "llama"), 1e-12);
    // 300 W x 60 s = 18 000 J for 600 tokens; the gauges came with the refresh.
    assertEquals(30.0, gauge("telemetry_model_energy_per_token_joules", "llama"), 1e-9);
  }

  @Test
  void aTokenEventIsUnpricedWhenItsGpuOrItsModelsGpusLackAPrice() {
    fleet();
    // Served by the unpriced B200, although llama's own GPUs are priced.
    assertTrue(pricing.estimate(tokens("llama", "GPU-2")).unpriced());
    // qwen's only GPU is unpriced, whatever GPU the event names (or none).
    assertTrue(pricing.estimate(tokens("qwen", "GPU-1")).unpriced());
    assertTrue(pricing.estimate(tokens("qwen", null)).unpriced());
    // A model without live figures: only the serving GPU's price decides.
    assertTrue(pricing.estimate(tokens("mistral", "GPU-2")).unpriced());
    LivePricing.Estimate none = pricing.estimate(tokens("mistral", "GPU-1"));
    assertFalse(none.unpriced());
    assertTrue(Double.isNaN(none.costPerToken()));
    assertFalse(pricing.estimate(tokens("mistral", "GPU-9")).unpriced(), "a GPU not in the fleet");
  }

  @Test
  void aModelWithTokensButNoGpusHasNoCostPerToken() {
    fleet();
    pricing.recordTokens("phi", NOW - 1_000, 10, 10, NOW);
    pricing.refresh(List.of(gpu("GPU-1", "H100", "llama", Map.of("power_w", 300.0))), NOW);
    LivePricing.Estimate phi = pricing.estimate(tokens("phi", "GPU-1"));
    assertFalse(phi.unpriced());
    assertTrue(Double.isNaN(phi.costPerToken()));
    assertEquals(20.0 / 60, gauge("telemetry_model_tokens_per_second", "phi"), 1e-12);
  }

  @Test
  void theGpuModelOfAnEventIsItsOwnOrItsServingGpusFromTheFleet() {
    fleet();
    assertEquals("H100", pricing.gpuModelOf(tokens("llama", "GPU-1")));
    assertEquals("B200", pricing.gpuModelOf(tokens("llama", "GPU-2")));
    assertNull(pricing.gpuModelOf(tokens("llama", null)));
    assertNull(pricing.gpuModelOf(tokens("llama", "GPU-9")));
    assertEquals("A100", pricing.gpuModelOf(sample("A100")));
  }

  @Test
  void energyComesFromTheCounterWhenTheInventoryHasTwoReadingsOfIt() {
    // Counter readings 10 s apart: 20 000 J, i.e. 2 000 W, while the sample's power says 300 W.
    pricing.refresh(
        List.of(gpu("GPU-1", "H100", "llama", Map.of("power_w", 300.0, "energy_mj", 1_000_000L))),
        NOW - 10_000);
    pricing.recordTokens("llama", NOW - 1_000, 500, 100, NOW);
    pricing.refresh(
        List.of(gpu("GPU-1", "H100", "llama", Map.of("power_w", 300.0, "energy_mj", 21_000_000L))),
        NOW);
    // 2 J/ms over the 60 s window: 120 000 J for 600 tokens.
    assertEquals(200.0, gauge("telemetry_model_energy_per_token_joules", "llama"), 1e-9);
  }

  @Test
  void tokensAreLateOnlyBeyondTheAllowedLateness() {
    assertFalse(pricing.recordTokens("m", NOW - 5_000, 1, 1, NOW), "5 000 ms: on time");
    assertTrue(pricing.recordTokens("m", NOW - 5_001, 1, 1, NOW), "5 001 ms: late");
    assertFalse(pricing.recordTokens("m", NOW - 5_000, 1, 1, 4, NOW));
    assertTrue(pricing.recordTokens("m", NOW - 5_001, 1, 1, 4, NOW));
    pricing.refresh(List.of(), NOW);
    // 1 + 1 + 4 + 4 requests in the 60 s window.
    assertEquals(10.0 / 60, gauge("telemetry_model_requests_per_second", "m"), 1e-12);
  }

  private static boolean unpriced(LivePricing p, String node) {
    byte[] json = Events.sample("g1").put("node", node).encode().getBytes(StandardCharsets.UTF_8);
    EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));
    return p.estimate(parser.parse(EventType.GPU_SAMPLE, json, Instant.now(), null).event())
        .unpriced();
  }

  /** A sample is unpriced where no price applies to its own node, not to every node. */
  @Test
  void aSampleIsPricedByThePriceOfItsNode() {
    PriceBook spotOnly =
        new PriceBook(
            List.of(
                new PriceBook.Line(
                    "H100-SXM-80GB",
                    PriceBook.Kind.SPOT,
                    List.of("spot-*"),
                    null,
                    List.of(new PriceBook.Entry(0, Long.MAX_VALUE, 2.0)))),
            Map.of());
    LivePricing p = new LivePricing(spotOnly, new LiveRates(60_000, 5_000, spotOnly), telemetry);
    assertFalse(unpriced(p, "spot-1"), "the spot price applies to spot-1");
    assertTrue(unpriced(p, "node-1"), "no price applies to node-1");
  }
}
