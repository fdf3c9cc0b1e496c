package io.gputelemetry.retry;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Runs an asynchronous operation until it succeeds, waiting a {@link Backoff} between attempts. */
public final class Retry {
  /** Told of every failed attempt and of the delay before the next one. */
  @FunctionalInterface
  public interface Listener {
    void failed(int attempt, Throwable error, long nextDelayMillis);
  }

  private Retry() {}

  /**
   * Completes with the first successful result. Gives up (fails with the last error) when {@code
   * giveUp} answers true after a failure, so that a stopping component is not held by an outage.
   */
  public static <T> Future<T> until(
      Vertx vertx,
      Backoff backoff,
      Supplier<Future<T>> operation,
      Listener listener,
      BooleanSupplier giveUp) {
    Promise<T> result = Promise.promise();
    attempt(vertx, backoff, operation, listener, giveUp, result, 0);
    return result.future();
  }

  private static <T> void attempt(
      Vertx vertx,
      Backoff backoff,
      Supplier<Future<T>> operation,
      Listener listener,
      BooleanSupplier giveUp,
      Promise<T> result,
      int n) {
    Future<T> f;
    try {
      f = operation.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onSuccess(result::tryComplete)
        .onFailure(
            err -> {
              if (giveUp.getAsBoolean()) {
                result.tryFail(err);
                return;
              }
              long delay = backoff.delayMillis(n);
              listener.failed(n + 1, err, delay);
              vertx.setTimer(
                  delay, t -> attempt(vertx, backoff, operation, listener, giveUp, result, n + 1));
            });
  }
}
