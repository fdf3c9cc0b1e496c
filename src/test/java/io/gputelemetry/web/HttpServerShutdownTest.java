package io.gputelemetry.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.access.KeyRing;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.HttpServerGauges;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.ServerSocket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * On stop (SIGTERM, after the pod's preStop sleep) the HTTP server first stops accepting, then lets
 * the requests in flight finish before the producer and processor behind it stop: an ingest batch
 * waiting for Kafka's acknowledgement gets its answer instead of a reset connection.
 */
class HttpServerShutdownTest {
  private final Vertx vertx = Vertx.vertx();
  private final Telemetry telemetry = new Telemetry("test", "0");

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    telemetry.close();
  }

  @Test
  void stoppingRefusesNewConnectionsAndLetsTheRequestInFlightFinish() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    CountDownLatch inHandler = new CountDownLatch(1);
    Promise<String> release = Promise.promise();
    String id =
        get(
            vertx.deployVerticle(
                new HttpServerVerticle(
                    new AppConfig.Http("127.0.0.1", port, 1),
                    telemetry,
                    new HttpServerGauges(telemetry.registry()),
                    new Health(vertx),
                    new KeyRing(List.of(), Set.of()),
                    List.of(
                        router ->
                            router
                                .post("/slow")
                                .handler(
                                    ctx -> {
                                      inHandler.countDown();
                                      release.future().onSuccess(body -> ctx.response().end(body));
                                    })))));
    HttpClient client = vertx.createHttpClient();
    CompletableFuture<String> inFlight =
        client
            .request(
                new RequestOptions()
                    .setMethod(HttpMethod.POST)
                    .setPort(port)
                    .setHost("127.0.0.1")
                    .setURI("/slow"))
            .compose(req -> req.send("batch"))
            .compose(resp -> resp.body().map(body -> resp.statusCode() + " " + body))
            .toCompletionStage()
            .toCompletableFuture();
    assertTrue(inHandler.await(10, TimeUnit.SECONDS), "the request reached its handler");

    CompletableFuture<Void> undeployed =
        vertx.undeploy(id).toCompletionStage().toCompletableFuture();
    // Stopping waits for the request in flight...
    awaitRefused(port);
    assertFalse(undeployed.isDone(), "stopped while a request was still in flight");

    // ...which then completes normally, and only then is the server gone.
    release.complete("stored");
    assertEquals("200 stored", inFlight.get(10, TimeUnit.SECONDS));
    undeployed.get(HttpServerVerticle.SHUTDOWN_GRACE.toSeconds(), TimeUnit.SECONDS);
  }

  /** Until a new connection is refused: the server stopped accepting. */
  private static void awaitRefused(int port) {
    org.awaitility.Awaitility.await("the server stops accepting")
        .atMost(10, TimeUnit.SECONDS)
        .until(
            () -> {
              try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return false;
              } catch (java.io.IOException refused) {
                return true;
              }
            });
  }

  private static <T> T get(io.vertx.core.Future<T> f)
      throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
