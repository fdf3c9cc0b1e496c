package io.gputelemetry.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gputelemetry.config.AppConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * verify's "last success recent": the newest stored sample of a target's GPUs, against 2 x interval
 * + timeout.
 */
class SourceRecentTest {
  // 30 s interval, 10 s timeout: allowed 70 s.
  private static final AppConfig.Target T =
      new AppConfig.Target(
          "dcgm",
          "http://10.0.0.5:9400/metrics",
          Duration.ofSeconds(30),
          Duration.ofSeconds(10),
          Map.of());
  private static final long NOW = 1_800_000_000_000L;

  @Test
  void theNewestOfItsGpusCountsAndSeventySecondsPass() {
    assertEquals(
        "newest stored sample 70 s old",
        SourceCheck.recent(T, List.of(NOW - 500_000, NOW - 70_000), NOW));
  }

  @Test
  void seventyOneSecondsIsStale() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> SourceCheck.recent(T, List.of(NOW - 71_000), NOW));
    assertEquals(
        "its newest stored sample is 71 s old (allowed 70 s: two intervals and the timeout)",
        e.getMessage());
  }

  @Test
  void gpusNeverStoredFailNamingHowMany() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> SourceCheck.recent(T, List.of(0L, 0L), NOW));
    assertEquals("no sample of its 2 GPU(s) stored: is a producer scraping it?", e.getMessage());
  }
}
