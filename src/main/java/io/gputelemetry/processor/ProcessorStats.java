package io.gputelemetry.processor;

import java.util.concurrent.atomic.AtomicLong;

/** Running totals of this processor, for progress lines and tests. */
public final class ProcessorStats {
  public final AtomicLong consumed = new AtomicLong();
  public final AtomicLong stored = new AtomicLong();
  public final AtomicLong duplicates = new AtomicLong();
  public final AtomicLong dlq = new AtomicLong();
  public final AtomicLong tokens = new AtomicLong();
  public final AtomicLong batches = new AtomicLong();
  public final AtomicLong lag = new AtomicLong();
}
