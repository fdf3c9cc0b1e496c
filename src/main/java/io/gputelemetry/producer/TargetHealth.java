package io.gputelemetry.producer;

import java.time.Duration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The log of one target's outages, incident-style: one WARN when it stops answering, one more per
 * {@code warnEvery} while it stays down (not one per scrape) or when the failure changes kind (a
 * timeout becoming a refused connection), one INFO when it answers again.
 */
final class TargetHealth {
  private static final Logger LOG = LogManager.getLogger(SourcesVerticle.class);
  private final String name;
  private final String action;
  private final long warnEveryMillis;
  private long downSince = -1;
  private long lastWarn;
  private long failures;
  private String reason;

  /**
   * @param name what the log lines name: "source KIND URL", "discovery KIND ID"
   * @param action what fails: scrape, refresh
   */
  TargetHealth(String name, String action, Duration warnEvery) {
    this.name = name;
    this.action = action;
    this.warnEveryMillis = warnEvery.toMillis();
  }

  /** A failed scrape at {@code now}; true when it was logged. */
  boolean failed(ScrapeFailure f, long now) {
    failures++;
    if (downSince < 0) {
      downSince = now;
      reason = f.reason();
      lastWarn = now;
      LOG.warn("{}: {} failed ({}): {}", name, action, f.reason(), f.getMessage());
      return true;
    }
    if (!f.reason().equals(reason)) {
      reason = f.reason();
      lastWarn = now;
      LOG.warn("{}: {} failed ({}): {}", name, action, f.reason(), f.getMessage());
      return true;
    }
    if (now - lastWarn >= warnEveryMillis) {
      lastWarn = now;
      LOG.warn(
          "{}: still failing after {} {}s over {} s ({}): {}",
          name,
          failures,
          action,
          (now - downSince) / 1000,
          f.reason(),
          f.getMessage());
      return true;
    }
    return false;
  }

  /** A successful scrape at {@code now}. */
  void succeeded(long now) {
    if (downSince >= 0) {
      LOG.info(
          "{}: answering again after {} failed {}s over {} s",
          name,
          failures,
          action,
          (now - downSince) / 1000);
    }
    downSince = -1;
    failures = 0;
    reason = null;
  }
}
