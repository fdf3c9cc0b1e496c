package io.gputelemetry.store;

import java.util.Map;

/**
 * A GPU of the inventory: where it is, what it serves, when it was first and last seen, and its
 * newest sample ({@code last}: field name to String, Integer, Long, Double or, for {@code ts}, an
 * {@link java.time.Instant}).
 */
public record GpuRecord(
    String gpuUuid,
    String node,
    String gpuModel,
    String model,
    Span seen,
    Map<String, Object> last) {

  /** First and last seen, epoch milliseconds. */
  public record Span(long firstMillis, long lastMillis) {}

  /** A numeric field of the last sample, or null. */
  public Number lastNumber(String field) {
    return last.get(field) instanceof Number n ? n : null;
  }
}
