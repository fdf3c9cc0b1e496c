package io.gputelemetry.store;

/** What the usage computation reads from the raw events. */
public final class UsageRows {
  private UsageRows() {}

  /**
   * One stored GPU sample, reduced to what accounting needs. energyMj, model and maxGapMs (the
   * longest gap it may cover, from its max_gap_s) may be null; migInstance marks a MIG slice, whose
   * parent GPU's samples carry the GPU's time, migParentUuid that parent and migProfile its MIG
   * profile (DCGM's GPU_I_PROFILE), either null when unknown; node the host it runs on (null when
   * unknown), which decides the price that applies.
   */
  public record Sample(
      String gpuUuid,
      long ts,
      String gpuModel,
      String model,
      Long energyMj,
      double powerW,
      Long maxGapMs,
      boolean migInstance,
      String node,
      String migParentUuid,
      String migProfile) {
    /** A sample without node or MIG details (a MIG slice of it covers nothing). */
    public Sample(
        String gpuUuid,
        long ts,
        String gpuModel,
        String model,
        Long energyMj,
        double powerW,
        Long maxGapMs,
        boolean migInstance) {
      this(gpuUuid, ts, gpuModel, model, energyMj, powerW, maxGapMs, migInstance, null, null, null);
    }

    /** A sample of a whole GPU that carries no max_gap_s. */
    public Sample(
        String gpuUuid, long ts, String gpuModel, String model, Long energyMj, double powerW) {
      this(gpuUuid, ts, gpuModel, model, energyMj, powerW, null, false, null, null, null);
    }
  }

  /** One stored token event, reduced to what accounting needs. */
  public record Tokens(long ts, String model, String tenant, long input, long output) {}

  /**
   * One stored counter reading of an inference server: the series (reading_of, model), who it
   * bills, the three totals, and when the server's counters started (Unix seconds; null if
   * unknown).
   */
  public record Reading(
      long ts,
      String readingOf,
      String model,
      String tenant,
      long promptTotal,
      long generationTotal,
      long requestsTotal,
      Double countersSince) {}

  /** One stored request's latency figures (milliseconds; either may be null). */
  public record Latency(String model, Double latencyMs, Double ttftMs) {}

  /**
   * One stored request's reported cost: who, which model, and the cost its sender reported
   * (reported_cost_usd, LiteLLM's response_cost), null when it reported none.
   */
  public record Reported(String tenant, String model, Double costUsd) {}
}
