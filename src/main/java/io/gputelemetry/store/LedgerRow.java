package io.gputelemetry.store;

import java.util.Objects;

/**
 * One line of the ledger: what accounting allocated within one interval [start, end) of the
 * allocation grid (a minute ledger row), or the sum of such lines with the same key over an hour or
 * a day (a roll-up row). A usage report of any grouping is a sum of rows, so that the figures of a
 * range read from the ledger are those computed from the raw events of the range.
 *
 * <p>The kinds, and how each grouping sums them (what {@code UsageCalculator.report} does):
 *
 * <ul>
 *   <li>{@link Kind#GPU}: a tenant's share (by tokens) of the GPU time of one model on one GPU
 *       model: GPU-seconds, cost and energy; with the tenant's tokens, requests and priced tokens
 *       split among the model's GPU models by GPU-seconds, which only the GPU-model grouping uses.
 *   <li>{@link Kind#IDLE}: GPU time of one model (or of none: {@code model} "") on one GPU model
 *       that no token was allocated to; {@code tenant} is "". The idle line.
 *   <li>{@link Kind#TOKENS}: a tenant's tokens, requests and priced tokens of one model that had
 *       GPU time in the interval; {@code gpuModel} is "". The model and tenant groupings use them
 *       (the GPU-model grouping uses the GPU rows' split instead).
 *   <li>{@link Kind#UNMETERED}: a tenant's tokens and requests of one model that had no GPU time in
 *       the interval (their cost is unknown); {@code gpuModel} is "", the key they are grouped
 *       under by GPU model. Every grouping uses them.
 *   <li>{@link Kind#GAPS}: the fleet's GPU time not covered by samples and the gaps that began in
 *       the interval; model, tenant and GPU model "". Fleet totals only.
 * </ul>
 *
 * <p>GPU and IDLE rows also carry the price in force as part of their key: {@code priceKind} (the
 * price book's {@code price_kind}: {@code on_demand}, {@code committed} or {@code spot}; "" for GPU
 * time without a price in force) and {@code commitment} (a committed price's commitment id, else
 * ""), so that a row is on-demand, spot, one commitment's, or unpriced. The other kinds have "" for
 * both. A row without them keeps the key it had before prices had kinds.
 */
public record LedgerRow(
    long start,
    long end,
    Kind kind,
    String model,
    String tenant,
    String gpuModel,
    String priceKind,
    String commitment,
    Amounts amounts) {

  /** A row without a price kind or commitment (the kinds other than GPU and IDLE). */
  public LedgerRow(
      long start,
      long end,
      Kind kind,
      String model,
      String tenant,
      String gpuModel,
      Amounts amounts) {
    this(start, end, kind, model, tenant, gpuModel, "", "", amounts);
  }

  /** What a row is: see the class comment. */
  public enum Kind {
    GPU,
    IDLE,
    TOKENS,
    UNMETERED,
    GAPS
  }

  public LedgerRow {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(gpuModel, "gpuModel");
    Objects.requireNonNull(priceKind, "priceKind");
    Objects.requireNonNull(commitment, "commitment");
    Objects.requireNonNull(amounts, "amounts");
    if (end <= start) {
      throw new IllegalArgumentException("end must be after start");
    }
  }

  /**
   * What identifies a row within its interval: rows of successive intervals with the same key sum
   * into one roll-up row.
   */
  public String key() {
    String key = kind + "\u0000" + model + "\u0000" + tenant + "\u0000" + gpuModel;
    return priceKind.isEmpty() && commitment.isEmpty()
        ? key
        : key + "\u0000" + priceKind + "\u0000" + commitment;
  }

  /** This row over a wider interval with other amounts: a roll-up's row. */
  public LedgerRow over(long start, long end, Amounts amounts) {
    return new LedgerRow(start, end, kind, model, tenant, gpuModel, priceKind, commitment, amounts);
  }

  /**
   * The additive figures of a row (seconds, USD, joules, tokens, requests); each sums over rows and
   * intervals. {@code costUsd} is the effective cost (the price that applies to each GPU's node);
   * the list, contracted and billed costs are beside it (docs/accounting.md). Which of them a kind
   * carries: see {@link LedgerRow}.
   */
  public record Amounts(
      double gpuSeconds,
      double pricedGpuSeconds,
      double unpricedGpuSeconds,
      double costUsd,
      double listCostUsd,
      double contractedCostUsd,
      double billedCostUsd,
      double energyJ,
      double activeEnergyJ,
      double inputTokens,
      double outputTokens,
      double requests,
      double pricedTokens,
      double unmeteredTokens,
      double uncoveredGpuSeconds,
      long sampleGaps) {

    /** Nothing. */
    public static final Amounts ZERO = new Amounts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** The sum of two amounts, figure by figure. */
    public Amounts plus(Amounts o) {
      return new Amounts(
          gpuSeconds + o.gpuSeconds,
          pricedGpuSeconds + o.pricedGpuSeconds,
          unpricedGpuSeconds + o.unpricedGpuSeconds,
          costUsd + o.costUsd,
          listCostUsd + o.listCostUsd,
          contractedCostUsd + o.contractedCostUsd,
          billedCostUsd + o.billedCostUsd,
          energyJ + o.energyJ,
          activeEnergyJ + o.activeEnergyJ,
          inputTokens + o.inputTokens,
          outputTokens + o.outputTokens,
          requests + o.requests,
          pricedTokens + o.pricedTokens,
          unmeteredTokens + o.unmeteredTokens,
          uncoveredGpuSeconds + o.uncoveredGpuSeconds,
          sampleGaps + o.sampleGaps);
    }
  }
}
