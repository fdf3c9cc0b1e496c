package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gputelemetry.accounting.LiveRates;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.support.Scrapes;
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
}
