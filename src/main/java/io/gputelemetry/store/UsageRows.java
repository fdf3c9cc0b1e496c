package io.gputelemetry.store;

/** What the usage computation reads from the raw events. */
public final class UsageRows {
  private UsageRows() {}

  /** One stored GPU sample, reduced to what accounting needs. energyMj and model may be null. */
  public record Sample(
      String gpuUuid, long ts, String gpuModel, String model, Long energyMj, double powerW) {}

  /** One stored token event, reduced to what accounting needs. */
  public record Tokens(long ts, String model, String tenant, long input, long output) {}
}
