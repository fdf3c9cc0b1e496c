package io.gputelemetry.web;

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
  private final Telemetry telemetry;
  private final HttpServerGauges gauges;
  private final Health health;
  private final List<Consumer<Router>> routes;
  private HttpServer server;
  private WorkerExecutor scrapes;

  public HttpServerVerticle(
      AppConfig.Http config,
      Telemetry telemetry,
      HttpServerGauges gauges,
      Health health,
      List<Consumer<Router>> routes) {
    this.config = config;
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
              ctx.addEndHandler(done -> ended.run());
              ctx.next();
            });
    scrapes = vertx.createSharedWorkerExecutor(SCRAPE_POOL, 1);
    router.get("/metrics").handler(new MetricsEndpoint(telemetry.registry(), scrapes));
    router
        .get("/health/live")
        .handler(ctx -> json(ctx.response(), 200, new JsonObject().put("status", "UP")));
    router
        .get("/health/ready")
        .handler(ctx -> json(ctx.response(), health.isReady() ? 200 : 503, health.status()));
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
    return vertx
        .createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false))
        .connectionHandler(
            connection -> {
              gauges.connectionOpened();
              connection.closeHandler(closed -> gauges.connectionClosed());
            })
        .requestHandler(router)
        .listen(config.port(), config.host())
        .onSuccess(s -> server = s);
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
