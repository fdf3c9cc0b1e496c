package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The dead letters the console's pipeline page lists: counted, newest first, the last 20 only. */
class ProcessorStatsTest {
  private static ProcessorStats.DeadLetterNote note(long offset) {
    return new ProcessorStats.DeadLetterNote(1_000 + offset, "token.usage.v1", 0, offset, "r");
  }

  @Test
  void theRecentDeadLettersAreTheLastTwentyNewestFirst() {
    ProcessorStats stats = new ProcessorStats();
    assertEquals(List.of(), stats.recentDeadLetters());
    stats.deadLettered(note(0));
    stats.deadLettered(note(1));
    assertEquals(List.of(note(1), note(0)), stats.recentDeadLetters());
    for (long o = 2; o <= 20; o++) {
      stats.deadLettered(note(o));
    }
    List<ProcessorStats.DeadLetterNote> recent = stats.recentDeadLetters();
    assertEquals(21, stats.dlq.get(), "every dead letter counted");
    assertEquals(ProcessorStats.RECENT_DEAD_LETTERS, recent.size());
    assertEquals(note(20), recent.get(0), "newest first");
    assertEquals(note(1), recent.get(19), "the oldest (offset 0) dropped");
  }
}
