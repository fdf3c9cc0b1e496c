package io.gputelemetry.retry;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Capped exponential backoff with jitter: attempt n waits between half and all of {@code initial ×
 * 2^n}, at most {@code max}. The jitter keeps replicas that hit the same outage from retrying in
 * lockstep.
 */
public record Backoff(Duration initial, Duration max) {

  public Backoff {
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "backoff needs 0 < initial <= max: " + initial + ", " + max);
    }
  }

  /** The upper bound of attempt {@code attempt}'s delay (0-based), before jitter. */
  public long ceilingMillis(int attempt) {
    long initialMs = Math.max(1, initial.toMillis());
    return Math.min(max.toMillis(), initialMs << Math.min(Math.max(attempt, 0), 20));
  }

  /**
   * The delay before retry {@code attempt} (0-based), in [ceiling / 2, ceiling] and at least 1 ms
   * (the shortest timer Vert.x accepts).
   */
  public long delayMillis(int attempt) {
    long ceiling = ceilingMillis(attempt);
    return Math.max(1, ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1));
  }
}
