package io.gputelemetry.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.store.LedgerRow;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A chunk's rows go out an hour at a time, the next hour only once the previous was taken. */
class UsageLedgerSourceTest {
  private static final long H = UsageLedgerSource.HOUR;

  private static LedgerRow row(long start, String tenant) {
    return new LedgerRow(
        start, start + H, LedgerRow.Kind.GPU, "m", tenant, "G", LedgerRow.Amounts.ZERO);
  }

  @Test
  void hoursAreHandedOverInOrderEachAfterThePreviousWasTaken() {
    List<LedgerRow> rows = List.of(row(0, "a"), row(0, "b"), row(H, "a"), row(3 * H, "c"));
    List<List<LedgerRow>> handed = new ArrayList<>();
    List<Promise<Void>> taken = new ArrayList<>();
    Future<Void> done =
        UsageLedgerSource.handOver(
            rows,
            0,
            hour -> {
              handed.add(hour);
              Promise<Void> p = Promise.promise();
              taken.add(p);
              return p.future();
            });
    assertEquals(1, handed.size(), "the second hour waits for the first to be taken");
    assertEquals(List.of(row(0, "a"), row(0, "b")), handed.get(0));
    taken.get(0).complete();
    assertEquals(2, handed.size());
    assertEquals(List.of(row(H, "a")), handed.get(1));
    taken.get(1).complete();
    assertEquals(List.of(row(3 * H, "c")), handed.get(2));
    assertFalse(done.isComplete());
    taken.get(2).complete();
    assertTrue(done.succeeded());
  }

  @Test
  void aFailedHourStopsTheHandOver() {
    List<LedgerRow> rows = List.of(row(0, "a"), row(H, "a"));
    List<List<LedgerRow>> handed = new ArrayList<>();
    Future<Void> done =
        UsageLedgerSource.handOver(
            rows,
            0,
            hour -> {
              handed.add(hour);
              return Future.failedFuture("client gone");
            });
    assertTrue(done.failed());
    assertEquals(1, handed.size());
  }
}
