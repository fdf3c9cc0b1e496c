package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gputelemetry.store.UsageRows;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestLatenciesTest {
  private static UsageRows.Latency req(String model, Double latency, Double ttft) {
    return new UsageRows.Latency(model, latency, ttft);
  }

  @Test
  void countMeanAndMaxAreExactAndQuantilesWithinOnePercentOfTheNearestRank() {
    RequestLatencies l = new RequestLatencies();
    // 1 ms .. 100 ms in a shuffled order: nearest ranks 50, 90, 99 are 50, 90 and 99 ms.
    for (int i = 0; i < 100; i++) {
      l.accept(req("m", (double) (i * 37 % 100 + 1), null));
    }
    RequestLatencies.Summary s = l.models().get(0).latency();
    assertEquals(100, s.count());
    assertEquals(50.5, s.mean(), 1e-9);
    assertEquals(100, s.max());
    assertEquals(50, s.quantiles().get(0), 50 * 0.011);
    assertEquals(90, s.quantiles().get(1), 90 * 0.011);
    assertEquals(99, s.quantiles().get(2), 99 * 0.011);
    assertNull(l.models().get(0).ttft(), "no request carried a time to first token");
  }

  @Test
  void quantilesStayWithinTheSmallestAndLargestValueSeen() {
    RequestLatencies l = new RequestLatencies();
    l.accept(req("m", null, 50.0));
    l.accept(req("m", null, 70.0));
    RequestLatencies.Summary s = l.models().get(0).ttft();
    // 50 ms lies in the bucket [49.35, 50.42) whose middle, 49.89, is below the smallest value.
    assertEquals(50.0, s.quantiles().get(0));
    // 70 ms lies in [69.45, 71.64) whose middle, 70.55, is above the largest.
    assertEquals(70.0, s.quantiles().get(2));
    assertEquals(60.0, s.mean());
    assertNull(l.models().get(0).latency());
  }

  @Test
  void oneRequestIsItsOwnEveryQuantileAndZeroIsAValue() {
    RequestLatencies l = new RequestLatencies();
    l.accept(req("a", 1830.5, 0.0));
    RequestLatencies.Model m = l.models().get(0);
    for (Double q : m.latency().quantiles()) {
      assertEquals(1830.5, q.doubleValue());
    }
    for (Double q : m.ttft().quantiles()) {
      assertEquals(0.0, q.doubleValue());
    }
  }

  @Test
  void modelsByNameAndBeyondTheCapCountedAsLeftOut() {
    RequestLatencies l = new RequestLatencies();
    for (int i = RequestLatencies.MAX_MODELS; i > 0; i--) {
      l.accept(req(String.format("m%03d", i), 10.0, null));
    }
    l.accept(req("one-too-many", 10.0, null));
    l.accept(req("one-too-many", 20.0, 5.0));
    l.accept(req("m001", 30.0, null));
    List<RequestLatencies.Model> models = l.models();
    assertEquals(RequestLatencies.MAX_MODELS, models.size());
    assertEquals("m001", models.get(0).model());
    assertEquals(2, models.get(0).latency().count(), "a model already kept still counts");
    assertEquals(2, l.leftOut());
  }

  @Test
  void bucketsDoubleEvery32() {
    assertEquals(0, RequestLatencies.bucket(1.0));
    assertEquals(32, RequestLatencies.bucket(2.0));
    assertEquals(31, RequestLatencies.bucket(1.99));
    assertEquals(-224, RequestLatencies.bucket(0.0));
    assertEquals(-224, RequestLatencies.bucket(1e-9));
  }
}
