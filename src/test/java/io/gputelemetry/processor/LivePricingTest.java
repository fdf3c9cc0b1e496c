package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.LiveRates;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.metrics.Telemetry;
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
 * The live gauges show the snapshot of the last refresh: a scrape reads it and computes nothing, so
 * tokens recorded since show at the next refresh, not before.
 */
class LivePricingTest {
  private final Telemetry telemetry = new Telemetry("test", "0");
  private final PriceBook prices = new PriceBook(Map.of(), Map.of());
  private final LiveRates live = new LiveRates(60_000, 5_000, prices);
  private final LivePricing pricing = new LivePricing(prices, live, telemetry);

  @AfterEach
  void close() {
    telemetry.close();
  }

  private double tokensPerSecond() {
    return Scrapes.value(
        telemetry.registry().scrape(), "telemetry_model_tokens_per_second", "model", "m");
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
