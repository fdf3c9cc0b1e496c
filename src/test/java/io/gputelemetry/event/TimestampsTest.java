package io.gputelemetry.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gputelemetry.support.Tries;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TimestampsTest {

  @Test
  void agreesWithOffsetDateTimeOnRandomDateTimes() {
    Random r = new Random(7);
    for (int i = 0; i < Tries.of(50_000); i++) {
      LocalDate d = LocalDate.ofEpochDay(r.nextInt(3_000_000) - 700_000);
      if (d.getYear() < 0 || d.getYear() > 9999) {
        continue;
      }
      int offsetMinutes = r.nextInt(3) == 0 ? 0 : (r.nextInt(14 * 60 * 2 + 1) - 14 * 60);
      int nanos = r.nextInt(3) == 0 ? 0 : r.nextInt(1_000_000_000);
      OffsetDateTime t =
          OffsetDateTime.of(
              d.getYear(),
              d.getMonthValue(),
              d.getDayOfMonth(),
              r.nextInt(24),
              r.nextInt(60),
              r.nextInt(60),
              nanos,
              ZoneOffset.ofTotalSeconds(offsetMinutes * 60));
      String s = t.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
      if (s.length() > 40) {
        continue;
      }
      assertEquals(OffsetDateTime.parse(s).toInstant(), Timestamps.parse(s), s);
    }
  }

  @Test
  void epochDayAgreesWithLocalDate() {
    for (long day = -719_528; day < 2_932_897; day += 37) {
      LocalDate d = LocalDate.ofEpochDay(day);
      assertEquals(
          day,
          Timestamps.epochDay(d.getYear(), d.getMonthValue(), d.getDayOfMonth()),
          d.toString());
    }
  }

  @Test
  void leavesUnusualFormsToTheFullParser() {
    for (String s :
        new String[] {
          "2026-11-28t12:00:00Z",
          "2026-11-28T12:00:00z",
          "2026-11-28T12:00:60Z",
          "2026-02-29T12:00:00Z",
          "2026-04-31T12:00:00Z",
          "2026-11-28T24:00:00Z",
          "2026-11-28T12:00:00",
          "2026-11-28T12:00:00.Z",
          "2026-11-28T12:00:00.1234567890Z",
          "2026-11-28T12:00:00+15:00",
          "2026-11-28T12:00:00+0100",
          "2026-11-28 12:00:00Z",
          "+2026-11-28T12:00:00Z",
          "2026-11-28T12:00Z",
          "2026-13-01T00:00:00Z",
          "2026-00-01T00:00:00Z",
          "2026-11-28T12:00:00Z ",
          "２026-11-28T12:00:00Z"
        }) {
      assertNull(Timestamps.parse(s), s);
    }
    assertEquals(
        OffsetDateTime.parse("2024-02-29T23:59:59.999+14:00").toInstant(),
        Timestamps.parse("2024-02-29T23:59:59.999+14:00"));
  }
}
