package io.gputelemetry.web;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connection limits of the HTTP port, shared by its event loops: at most {@code maxConnections}
 * open at once (more are closed on arrival), the first request's header within {@code
 * headerTimeout} of the connection's start (a later one's within the idle and header timeouts of
 * the previous response), its body within {@code bodyTimeout} of its header. A connection that
 * misses a deadline is closed; every drop is counted by reason ({@code limit}, {@code header},
 * {@code body}). Silence is Vert.x's idle timeout.
 */
final class ConnectionGuard {
  static final String LIMIT = "limit";
  static final String HEADER = "header";
  static final String BODY = "body";

  private final AppConfig.Connections limits;
  private final Telemetry telemetry;
  private final AtomicInteger open = new AtomicInteger();
  private final Map<HttpConnection, Deadline> deadlines = new ConcurrentHashMap<>();

  ConnectionGuard(AppConfig.Connections limits, Telemetry telemetry) {
    this.limits = limits;
    this.telemetry = telemetry;
  }

  /** A new connection (on its event loop): refused beyond the cap, else its header deadline. */
  boolean opened(Vertx vertx, HttpConnection connection) {
    if (open.incrementAndGet() > limits.maxConnections()) {
      open.decrementAndGet();
      telemetry.connectionDropped(LIMIT);
      connection.close();
      return false;
    }
    Deadline d = new Deadline(vertx, connection);
    deadlines.put(connection, d);
    d.arm(limits.headerTimeout().toMillis(), HEADER);
    return true;
  }

  /** An admitted connection closed (its close handler calls this once). */
  void closed(HttpConnection connection) {
    Deadline d = deadlines.remove(connection);
    if (d != null) {
      d.cancel();
      open.decrementAndGet();
    }
  }

  /** A request's header arrived: its body is now awaited, until the request has ended. */
  void requestStarted(HttpServerRequest request) {
    Deadline d = deadlines.get(request.connection());
    if (d == null) {
      return;
    }
    d.arm(limits.bodyTimeout().toMillis(), BODY);
    request.end().onComplete(done -> d.cancel(BODY));
  }

  /**
   * A response ended: the next request's header is awaited on the kept-alive connection. A client
   * that keeps its connection for later (Prometheus between scrapes) is silent, and the idle
   * timeout closes that without counting it as slow; one that trickles a header is dropped at the
   * idle timeout plus the header timeout.
   */
  void responseEnded(HttpConnection connection) {
    Deadline d = deadlines.get(connection);
    if (d != null) {
      d.arm(limits.idleTimeout().plus(limits.headerTimeout()).toMillis(), HEADER);
    }
  }

  /** The one pending deadline of a connection; touched only on the connection's event loop. */
  private final class Deadline {
    private final Vertx vertx;
    private final HttpConnection connection;
    private long timer = -1;
    private String reason;

    Deadline(Vertx vertx, HttpConnection connection) {
      this.vertx = vertx;
      this.connection = connection;
    }

    void arm(long millis, String why) {
      cancel();
      reason = why;
      timer =
          vertx.setTimer(
              millis,
              t -> {
                timer = -1;
                telemetry.connectionDropped(why);
                connection.close();
              });
    }

    /** Cancels the pending deadline if it is the one named. */
    void cancel(String which) {
      if (which.equals(reason)) {
        cancel();
      }
    }

    void cancel() {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }
  }
}
