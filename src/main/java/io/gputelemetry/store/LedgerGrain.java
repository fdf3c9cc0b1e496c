package io.gputelemetry.store;

/**
 * The grains of the ledger: one interval of the allocation grid (the minute ledger, written from
 * raw events), an hour and a UTC day (roll-ups, the sum of the finer grain's rows by key).
 */
public enum LedgerGrain {
  MINUTE("ledger_minute", 0),
  HOUR("ledger_hour", 3_600_000L),
  DAY("ledger_day", 86_400_000L);

  private final String collection;
  private final long millis;

  LedgerGrain(String collection, long millis) {
    this.collection = collection;
    this.millis = millis;
  }

  /** The collection of this grain's rows. */
  public String collection() {
    return collection;
  }

  /** The length of an interval of this grain in ms; 0 for MINUTE (the allocation interval). */
  public long millis() {
    return millis;
  }

  /** The next coarser grain, or null. */
  public LedgerGrain coarser() {
    return this == MINUTE ? HOUR : this == HOUR ? DAY : null;
  }
}
