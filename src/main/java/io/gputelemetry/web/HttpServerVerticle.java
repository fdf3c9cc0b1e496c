package io.gputelemetry.web;

import io.gputelemetry.access.KeyRing;
import io.gputelemetry.access.Principal;
import io.gputelemetry.access.Scope;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.HttpServerGauges;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The one HTTP port of a process: /metrics, /health/live, /health/ready, plus the routes the role
 * contributes (ingest, query API). Errors answer JSON without stack traces.
 */
public class HttpServerVerticle extends VerticleBase {
  private static final Logger LOG = LogManager.getLogger(HttpServerVerticle.class);

  /**
   * How long a stopping server lets requests in flight finish after it stops accepting (SIGTERM
   * comes after the pod's preStop sleep, when no new request is routed here any more). The Helm
   * chart's grace periods count on it.
   */
  public static final java.time.Duration SHUTDOWN_GRACE = java.time.Duration.ofSeconds(10);

  /** The worker pool of /metrics scrapes, shared by every instance of this verticle. */
  static final String SCRAPE_POOL = "metrics-scrape";

  private final AppConfig.Http config;
  private final AppConfig.Connections limits;
  private final ConnectionGuard guard;
  private final Telemetry telemetry;
  private final HttpServerGauges gauges;
  private final Health health;
  private final List<Consumer<Router>> routes;
  private final KeyRing keys;
  private HttpServer server;
  private WorkerExecutor scrapes;

  public HttpServerVerticle(
      AppConfig.Http config,
      Telemetry telemetry,
      HttpServerGauges gauges,
      Health health,
      KeyRing keys,
      List<Consumer<Router>> routes) {
    this(config, null, telemetry, gauges, health, keys, routes);
  }

  /**
   * The server of every event loop of a port; {@code limits} null: no connection limits. One {@link
   * Limits} per port, shared by its instances (the connection cap is the port's).
   */
  public HttpServerVerticle(
      AppConfig.Http config,
      Limits limits,
      Telemetry telemetry,
      HttpServerGauges gauges,
      Health health,
      KeyRing keys,
      List<Consumer<Router>> routes) {
    this.keys = keys;
    this.config = config;
    this.limits = limits == null ? null : limits.connections;
    this.guard = limits == null ? null : limits.guard;
    this.telemetry = telemetry;
    this.gauges = gauges;
    this.health = health;
    this.routes = routes;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router
        .route()
        .handler(
            ctx -> {
              Runnable ended = gauges.requestStarted(ctx.request().method().name());
              ctx.addEndHandler(
                  done -> {
                    ended.run();
                    if (guard != null) {
                      guard.responseEnded(ctx.request().connection());
                    }
                  });
              ctx.next();
            });
    router.route().handler(new RouteAccess(keys));
    scrapes = vertx.createSharedWorkerExecutor(SCRAPE_POOL, 1);
    router.get("/metrics").handler(new MetricsEndpoint(telemetry.registry(), scrapes));
    router
        .get("/health/live")
        .handler(ctx -> json(ctx.response(), 200, new JsonObject().put("status", "UP")));
    router
        .get("/health/ready")
        .handler(ctx -> json(ctx.response(), health.isReady() ? 200 : 503, readiness(ctx)));
    routes.forEach(r -> r.accept(router));
    router
        .route()
        .last()
        .handler(
            ctx ->
                json(
                    ctx.response(),
                    404,
                    new JsonObject().put("error", "not found").put("path", ctx.normalizedPath())));
    router.errorHandler(
        500,
        ctx -> {
          LOG.error(
              "unhandled error on {} {}",
              ctx.request().method(),
              ctx.normalizedPath(),
              ctx.failure());
          json(ctx.response(), 500, new JsonObject().put("error", "internal error"));
        });
    // HTTP/1.1 only: the cleartext HTTP/2 upgrade (h2c) that Java's HttpClient attempts by default
    // garbled large responses such as /metrics; scrapers and ingest clients speak HTTP/1.1.
    HttpServerOptions options = new HttpServerOptions().setHttp2ClearTextEnabled(false);
    if (limits != null) {
      options
          .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
          .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, limits.idleTimeout().toMillis()));
    }
    return vertx
        .createHttpServer(options)
        .connectionHandler(
            connection -> {
              if (guard != null && !guard.opened(vertx, connection)) {
                return;
              }
              gauges.connectionOpened();
              connection.closeHandler(
                  closed -> {
                    gauges.connectionClosed();
                    if (guard != null) {
                      guard.closed(connection);
                    }
                  });
            })
        .requestHandler(
            request -> {
              if (guard != null) {
                guard.requestStarted(request);
              }
              router.handle(request);
            })
        .listen(config.port(), config.host())
        .onSuccess(s -> server = s);
  }

  /**
   * The checks' detail (it may name the store's user, broker errors) only for a caller with read or
   * metrics, not bound to a tenant; anyone else gets the status alone.
   */
  private JsonObject readiness(io.vertx.ext.web.RoutingContext ctx) {
    Principal caller = RouteAccess.caller(ctx);
    JsonObject status = health.status();
    if (caller != null
        && caller.tenant() == null
        && (caller.has(Scope.READ) || caller.has(Scope.METRICS))) {
      return status;
    }
    return new JsonObject().put("status", status.getString("status"));
  }

  /** The connection limits of one port: its settings and the guard its instances share. */
  public static final class Limits {
    private final AppConfig.Connections connections;
    private final ConnectionGuard guard;

    public Limits(AppConfig.Connections connections, Telemetry telemetry) {
      this.connections = connections;
      this.guard = new ConnectionGuard(connections, telemetry);
    }
  }

  static void json(io.vertx.core.http.HttpServerResponse resp, int status, JsonObject body) {
    if (resp.ended()) {
      return;
    }
    resp.setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }

  @Override
  public Future<?> stop() {
    // Stop accepting, then let the requests in flight (an ingest batch waiting for Kafka's ack)
    // finish: close() alone would cut them, and their clients would retry what may be stored.
    Future<Void> closed =
        server == null
            ? Future.succeededFuture()
            : server.shutdown(
                SHUTDOWN_GRACE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    return closed.eventually(() -> scrapes == null ? Future.succeededFuture() : scrapes.close());
  }
}
