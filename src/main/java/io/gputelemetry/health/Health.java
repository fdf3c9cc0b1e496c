package io.gputelemetry.health;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Readiness: named asynchronous checks run on a timer (never on the request path), plus conditions
 * components raise themselves (e.g. "store writes failing"). Ready when every check passed last
 * time and no condition is raised.
 */
public final class Health {
  private static final long INTERVAL_MS = 2000;

  private final Vertx vertx;
  private final Map<String, Supplier<Future<?>>> checks = new ConcurrentHashMap<>();
  private final Map<String, String> results = new ConcurrentHashMap<>();
  private final Map<String, String> conditions = new ConcurrentHashMap<>();
  private long timer = -1;

  public Health(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Adds a check, run every 2 s with a timeout; its failure message is shown on /health/ready. */
  public void register(String name, Supplier<Future<?>> check) {
    checks.put(name, check);
    results.put(name, "not checked yet");
    runOne(name, check);
    if (timer < 0) {
      timer = vertx.setPeriodic(INTERVAL_MS, t -> checks.forEach(this::runOne));
    }
  }

  /**
   * Raises (message non-null) or clears (null) a named condition that makes the process not ready.
   */
  public void condition(String name, String message) {
    if (message == null) {
      conditions.remove(name);
    } else {
      conditions.put(name, message);
    }
  }

  private void runOne(String name, Supplier<Future<?>> check) {
    Future<?> f;
    try {
      f = check.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.timeout(INTERVAL_MS * 2, TimeUnit.MILLISECONDS)
        .onComplete(
            ar -> {
              results.put(name, ar.succeeded() ? "UP" : describe(ar.cause()));
            });
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m.length() > 200 ? m.substring(0, 200) : m;
  }

  public boolean isReady() {
    return conditions.isEmpty() && results.values().stream().allMatch("UP"::equals);
  }

  public JsonObject status() {
    JsonObject checksJson = new JsonObject();
    results.forEach((k, v) -> checksJson.put(k, v));
    conditions.forEach((k, v) -> checksJson.put(k, v));
    return new JsonObject().put("status", isReady() ? "UP" : "DOWN").put("checks", checksJson);
  }

  public void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }
}
