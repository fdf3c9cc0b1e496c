package io.gputelemetry.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RetryTest {
  private final Vertx vertx = Vertx.vertx();
  private final Backoff quick = new Backoff(Duration.ofMillis(1), Duration.ofMillis(4));

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void delaysDoubleUpToTheCapWithJitterInTheUpperHalf() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));
    assertEquals(List.of(100L, 200L, 400L, 800L, 1000L, 1000L), ceilings(b, 6));
    for (int attempt = 0; attempt < 8; attempt++) {
      for (int i = 0; i < 200; i++) {
        long d = b.delayMillis(attempt);
        long ceiling = b.ceilingMillis(attempt);
        assertTrue(
            d >= ceiling / 2 && d <= ceiling,
            d + " outside [" + ceiling / 2 + ", " + ceiling + "]");
      }
    }
    assertEquals(1000L, b.ceilingMillis(10_000), "no overflow on a long outage");
    Backoff shortest = new Backoff(Duration.ofMillis(1), Duration.ofMillis(1));
    for (int i = 0; i < 100; i++) {
      assertEquals(1L, shortest.delayMillis(0), "never a 0 ms timer, which Vert.x refuses");
    }
  }

  private static List<Long> ceilings(Backoff b, int n) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(b.ceilingMillis(i));
    }
    return out;
  }

  @Test
  void rejectsABackoffWhoseCapIsBelowItsStart() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
  }

  @Test
  void retriesUntilTheOperationSucceedsAndReportsEachFailure() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    List<Integer> reported = new ArrayList<>();
    String r =
        await(
            Retry.until(
                vertx,
                quick,
                () ->
                    calls.incrementAndGet() < 4
                        ? Future.failedFuture("down")
                        : Future.succeededFuture("up"),
                (attempt, err, delay) -> reported.add(attempt),
                () -> false));
    assertEquals("up", r);
    assertEquals(4, calls.get());
    assertEquals(List.of(1, 2, 3), reported);
  }

  @Test
  void givesUpWithTheLastErrorWhenToldTo() {
    AtomicInteger calls = new AtomicInteger();
    Exception e =
        assertThrows(
            Exception.class,
            () ->
                await(
                    Retry.until(
                        vertx,
                        quick,
                        () -> Future.failedFuture("failure " + calls.incrementAndGet()),
                        (attempt, err, delay) -> {},
                        () -> calls.get() >= 3)));
    assertTrue(e.getMessage().contains("failure 3"), e.getMessage());
  }

  @Test
  void anOperationThatThrowsIsRetriedLikeOneThatFails() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Integer r =
        await(
            Retry.until(
                vertx,
                quick,
                () -> {
                  if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("boom");
                  }
                  return Future.succeededFuture(calls.get());
                },
                (attempt, err, delay) -> {},
                () -> false));
    assertEquals(2, r);
  }
}
