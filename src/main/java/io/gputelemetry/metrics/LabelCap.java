package io.gputelemetry.metrics;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The values one input-fed label may take on /metrics: the first {@code max} distinct values seen,
 * then {@value Telemetry#OTHER}. Each value turned away runs {@code overflow} (a counter), so that
 * a flood of invented names costs one series, not one per name.
 */
final class LabelCap {
  private final int max;
  private final Set<String> admitted = ConcurrentHashMap.newKeySet();
  private final Runnable overflow;

  LabelCap(int max, Runnable overflow) {
    this.max = max;
    this.overflow = overflow;
  }

  /** The value itself when admitted (now or before), else {@value Telemetry#OTHER}. */
  String label(String value) {
    if (admitted.contains(value)) {
      return value;
    }
    synchronized (this) {
      if (admitted.size() < max) {
        admitted.add(value);
        return value;
      }
    }
    overflow.run();
    return Telemetry.OTHER;
  }
}
