package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.store.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The ledger intervals a batch re-opens: allocation interval 60 s, horizon 120 s (an interval is
 * marked once its end is 60 s in the past), samples covering 3 s unless they say otherwise, counter
 * readings counted up to 600 s apart.
 */
class LedgerMarksTest {
  private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z"); // on the grid
  private static final long N = NOW.toEpochMilli();
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));
  private final LedgerMarks marks = new LedgerMarks(60_000, 120_000, 3_000, 600_000);

  private Set<Long> marked(Event... events) {
    Batch b = new Batch();
    int offset = 0;
    for (Event e : events) {
      ConsumerRecord<String, byte[]> r = new ConsumerRecord<>("t", 0, offset++, "k", new byte[1]);
      b.track(r);
      b.add(r, new StoredEvent(e, N, false, Double.NaN));
    }
    return marks.intervals(b, N);
  }

  /** Minutes before NOW, as interval starts. */
  private static Set<Long> starts(long... minutesAgo) {
    Set<Long> s = new TreeSet<>();
    for (long m : minutesAgo) {
      s.add(N - m * 60_000);
    }
    return s;
  }

  private Event event(EventType type, String json) {
    return parser.parse(type, json.getBytes(StandardCharsets.UTF_8), NOW, null).event();
  }

  private Event sample(long secondsAgo, String maxGap) {
    return event(
        EventType.GPU_SAMPLE,
        "{\"event_id\":\"s"
            + secondsAgo
            + "\",\"ts\":\""
            + NOW.minusSeconds(secondsAgo)
            + "\",\"node\":\"n\",\"gpu_uuid\":\"GPU-1\",\"gpu_model\":\"X\","
            + "\"utilization_pct\":1,\"memory_used_mib\":1,\"memory_total_mib\":2,"
            + "\"power_w\":3,\"temperature_c\":4"
            + (maxGap == null ? "" : ",\"max_gap_s\":" + maxGap)
            + "}");
  }

  private Event request(long secondsAgo) {
    return event(
        EventType.TOKEN_USAGE,
        "{\"event_id\":\"t"
            + secondsAgo
            + "\",\"ts\":\""
            + NOW.minusSeconds(secondsAgo)
            + "\",\"tenant\":\"acme\",\"model\":\"llama\",\"input_tokens\":1,"
            + "\"output_tokens\":1}");
  }

  private Event reading(long secondsAgo) {
    return event(
        EventType.TOKEN_USAGE,
        "{\"event_id\":\"r"
            + secondsAgo
            + "\",\"ts\":\""
            + NOW.minusSeconds(secondsAgo)
            + "\",\"tenant\":\"acme\",\"model\":\"llama\",\"reading_of\":\"http://v/metrics\","
            + "\"prompt_tokens_total\":10,\"generation_tokens_total\":10,\"requests_total\":1}");
  }

  @Test
  void eventsWithinHalfTheHorizonReopenNothing() {
    // A sample 30 s old covers [-33 s, -27 s]: the minute [-60 s, 0) has not ended 60 s ago.
    assertEquals(Set.of(), marked(sample(30, null), request(59)));
  }

  @Test
  void aLateSampleReopensTheIntervalsOfTheSpanItCoversAndOfTheNextSamplesSpan() {
    // -299 s, 3 s either side: [-302 s, -296 s] lies in the minutes from -6 and from -5.
    assertEquals(starts(6, 5), marked(sample(299, null)));
    // Its own max_gap_s (90 s) counts where longer: [-290 s, -110 s], minutes from -5 to -2.
    assertEquals(starts(5, 4, 3, 2), marked(sample(200, "90")));
  }

  @Test
  void aLateRequestReopensItsMinuteAndAReadingTheMinutesOfTheNextReadingsDifference() {
    assertEquals(starts(2), marked(request(61)));
    // A reading at -900 s: the next reading's difference may count up to 600 s later (-300 s).
    assertEquals(starts(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5), marked(reading(900)));
  }
}
