package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gputelemetry.store.UsageRows;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Counter readings to token records: resets, gaps, duplicates, two producers interleaved. */
class CounterReadingsTest {
  private static final long HOUR = 3_600_000L;
  private static final double START = 1_764_000_000.0;

  private static UsageRows.Reading r(long ts, long p, long g, long q, Double since) {
    return new UsageRows.Reading(ts, "http://v:8000/metrics", "m", "acme", p, g, q, since);
  }

  private static UsageRows.Reading r(long ts, long p, long g, long q) {
    return r(ts, p, g, q, START);
  }

  private static long[] sum(List<CounterReadings.Delta> ds) {
    long[] t = new long[3];
    for (CounterReadings.Delta d : ds) {
      t[0] += d.input();
      t[1] += d.output();
      t[2] += d.requests();
    }
    return t;
  }

  /**
   * One producer every 10 s: 1000 -> 1600 -> 2500, restart, 300 -> 900 (and 400 / 120 / 10 ...).
   */
  private static List<UsageRows.Reading> oneProducer() {
    return List.of(
        r(0, 1000, 400, 10),
        r(10_000, 1600, 640, 25),
        r(20_000, 2500, 1000, 40),
        r(30_000, 300, 120, 5, START + 25),
        r(40_000, 900, 360, 20, START + 25));
  }

  @Test
  void consecutiveReadingsGiveTheirIncreasesAndARestartCountsFromZero() {
    List<CounterReadings.Delta> d = CounterReadings.deltas(oneProducer(), HOUR);
    assertEquals(4, d.size(), "the first reading is the baseline");
    // 600 + 900 + 300 (after the restart, from 0) + 600.
    assertEquals(List.of(2400L, 960L, 50L), List.of(sum(d)[0], sum(d)[1], sum(d)[2]));
    assertEquals(new CounterReadings.Delta(30_000, "m", "acme", 300, 120, 5), d.get(2));
  }

  @Test
  void duplicatesAndAnyOrderChangeNothing() {
    List<UsageRows.Reading> twice = new ArrayList<>(oneProducer());
    twice.addAll(oneProducer());
    Collections.shuffle(twice, new Random(7));
    assertEquals(
        List.of(2400L, 960L, 50L),
        java.util.Arrays.stream(sum(CounterReadings.deltas(twice, HOUR))).boxed().toList());
  }

  @Test
  void aSecondProducerInterleavedGivesTheSameFiguresEvenWhenItsAnswerArrivesLate() {
    List<UsageRows.Reading> both = new ArrayList<>(oneProducer());
    both.add(r(5_000, 1300, 520, 17));
    both.add(r(15_000, 2000, 800, 30));
    // Its answer of the state before 2500 arrived after the first producer's 2500: below the base
    // without a restart, it counts nothing (and cannot make 2500 count twice).
    both.add(r(21_000, 2000, 800, 30));
    both.add(r(35_000, 600, 240, 12, START + 25));
    assertEquals(
        java.util.Arrays.stream(sum(CounterReadings.deltas(oneProducer(), HOUR))).boxed().toList(),
        java.util.Arrays.stream(sum(CounterReadings.deltas(both, HOUR))).boxed().toList());
  }

  @Test
  void missedScrapesChangeNothingAndAGapBeyondTheLimitCountsNothing() {
    List<UsageRows.Reading> sparse =
        List.of(
            r(0, 1000, 400, 10), r(20_000, 2500, 1000, 40), r(40_000, 900, 360, 20, START + 25));
    // 1500 before the restart, 900 after it: the readings in between were not needed.
    assertEquals(
        List.of(2400L, 960L, 50L),
        java.util.Arrays.stream(sum(CounterReadings.deltas(sparse, HOUR))).boxed().toList());
    List<CounterReadings.Delta> gap =
        CounterReadings.deltas(
            List.of(
                r(0, 1000, 400, 10), r(HOUR + 1, 5000, 2000, 90), r(HOUR + 10_001, 5100, 2040, 92)),
            HOUR);
    assertEquals(List.of(new CounterReadings.Delta(HOUR + 10_001, "m", "acme", 100, 40, 2)), gap);
  }

  @Test
  void withoutAStartTimeADecreaseIsARestart() {
    List<CounterReadings.Delta> d =
        CounterReadings.deltas(
            List.of(r(0, 1000, 400, 10, null), r(10_000, 50, 20, 1, null)), HOUR);
    assertEquals(List.of(new CounterReadings.Delta(10_000, "m", "acme", 50, 20, 1)), d);
  }

  @Test
  void theLiveFormCountsEachIncreaseOnceWhateverTheArrivalOrder() {
    CounterReadings.Live live = new CounterReadings.Live(HOUR, 100);
    assertNull(live.add(r(0, 1000, 400, 10)), "baseline");
    assertEquals(600, live.add(r(10_000, 1600, 640, 25)).input());
    assertNull(live.add(r(5_000, 1300, 520, 17)), "older than the last: another producer's");
    assertNull(live.add(r(10_000, 1600, 640, 25)), "a duplicate");
    assertEquals(900, live.add(r(20_000, 2500, 1000, 40)).input());
    assertEquals(300, live.add(r(30_000, 300, 120, 5, START + 25)).input(), "restart");
    CounterReadings.Live small = new CounterReadings.Live(HOUR, 1);
    small.add(r(0, 1, 1, 1));
    small.add(new UsageRows.Reading(0, "http://other/metrics", "m", "acme", 1, 1, 1, START));
    assertNull(small.add(r(10_000, 5, 5, 5)), "forgotten beyond the cap: a baseline again");
  }

  private static CounterReadings.Delta d(long ts, long in, long out, long req) {
    return new CounterReadings.Delta(ts, "m", "acme", in, out, req);
  }

  @Test
  void twoReadingsAtOneInstantAreOneBaselineAndTheNextCountsFromTheFirst() {
    // Sorted by time, then totals: 100 is the baseline, 150 at the same instant adds nothing.
    List<CounterReadings.Delta> got =
        CounterReadings.deltas(
            List.of(r(0, 100, 10, 1, null), r(0, 150, 15, 2, null), r(10_000, 200, 20, 3, null)),
            HOUR);
    assertEquals(List.of(d(10_000, 100, 10, 2)), got);
  }

  @Test
  void aGapOfExactlyTheLongestAllowedCountsAndOneMillisecondMoreDoesNot() {
    assertEquals(
        List.of(d(HOUR, 50, 5, 1)),
        CounterReadings.deltas(List.of(r(0, 100, 10, 1), r(HOUR, 150, 15, 2)), HOUR));
    assertEquals(
        List.of(),
        CounterReadings.deltas(List.of(r(0, 100, 10, 1), r(HOUR + 1, 150, 15, 2)), HOUR));
  }

  @Test
  void aCounterThatStaysWhileAnotherRisesIsNotARestart() {
    // No start time known: only a counter below its last value tells a restart; one that stays
    // the same is counted as 0.
    assertEquals(
        List.of(d(10_000, 0, 5, 1)),
        CounterReadings.deltas(List.of(r(0, 100, 10, 1, null), r(10_000, 100, 15, 2, null)), HOUR));
    assertEquals(
        List.of(d(10_000, 50, 0, 1)),
        CounterReadings.deltas(List.of(r(0, 100, 10, 1, null), r(10_000, 150, 10, 2, null)), HOUR));
    assertEquals(
        List.of(d(10_000, 50, 5, 0)),
        CounterReadings.deltas(List.of(r(0, 100, 10, 1, null), r(10_000, 150, 15, 1, null)), HOUR));
  }

  @Test
  void aStartTimeOneMillisecondLaterIsARestartAndTheSameIsNot() {
    // 0.001 - 0.0 is exactly 1e-3 in binary floating point.
    assertEquals(
        List.of(d(10_000, 150, 15, 2)),
        CounterReadings.deltas(List.of(r(0, 100, 10, 1, 0.0), r(10_000, 150, 15, 2, 0.001)), HOUR));
    assertEquals(
        List.of(d(10_000, 50, 5, 1)),
        CounterReadings.deltas(List.of(r(0, 100, 10, 1, 0.0), r(10_000, 150, 15, 2, 0.0)), HOUR));
  }

  @Test
  void aReadingThatChangesNothingGivesNoRecordAndOneThatOnlyCountsRequestsDoes() {
    assertEquals(
        List.of(), CounterReadings.deltas(List.of(r(0, 100, 10, 1), r(10_000, 100, 10, 1)), HOUR));
    assertEquals(
        List.of(d(10_000, 0, 0, 1)),
        CounterReadings.deltas(List.of(r(0, 100, 10, 1), r(10_000, 100, 10, 2)), HOUR));
  }

  @Test
  void theLiveFormKeepsAsManySeriesAsAllowed() {
    CounterReadings.Live live = new CounterReadings.Live(HOUR, 2);
    UsageRows.Reading a0 = r(0, 100, 10, 1);
    UsageRows.Reading b0 =
        new UsageRows.Reading(0, "http://w:8000/metrics", "m", "acme", 5, 5, 5, START);
    assertNull(live.add(a0));
    assertNull(live.add(b0));
    assertEquals(d(10_000, 50, 5, 1), live.add(r(10_000, 150, 15, 2)), "two series fit in two");
  }
}
