package io.gputelemetry.processor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Running totals of this processor, for progress lines, the console and tests. */
public final class ProcessorStats {
  /** How many recent dead letters {@link #recentDeadLetters()} keeps. */
  public static final int RECENT_DEAD_LETTERS = 20;

  public final AtomicLong consumed = new AtomicLong();
  public final AtomicLong stored = new AtomicLong();
  public final AtomicLong duplicates = new AtomicLong();
  public final AtomicLong dlq = new AtomicLong();
  public final AtomicLong tokens = new AtomicLong();
  public final AtomicLong batches = new AtomicLong();
  public final AtomicLong lag = new AtomicLong();

  private final ArrayDeque<DeadLetterNote> recent = new ArrayDeque<>();

  /** One record sent to the dead-letter topic: when, from where, and why. */
  public record DeadLetterNote(
      long atMillis, String topic, int partition, long offset, String reason) {}

  /** Counts a dead letter and keeps it among the recent ones (the oldest dropped). */
  public void deadLettered(DeadLetterNote note) {
    dlq.incrementAndGet();
    synchronized (recent) {
      if (recent.size() == RECENT_DEAD_LETTERS) {
        recent.removeFirst();
      }
      recent.addLast(note);
    }
  }

  /** The most recent dead letters, newest first. */
  public List<DeadLetterNote> recentDeadLetters() {
    synchronized (recent) {
      List<DeadLetterNote> out = new ArrayList<>(recent);
      java.util.Collections.reverse(out);
      return out;
    }
  }
}
