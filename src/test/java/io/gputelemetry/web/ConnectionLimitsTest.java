package io.gputelemetry.web;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.access.KeyRing;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.HttpServerGauges;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.support.Scrapes;
import io.vertx.core.Vertx;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP port's connection limits, on a real server and raw sockets: a silent, a trickling header
 * and a trickling body connection are each closed at their deadline (and counted), a silent
 * kept-alive connection at the idle timeout, and the connection beyond the cap is refused.
 */
class ConnectionLimitsTest {
  private static final long DEADLINE_MS = 600;
  private static final long TRICKLE_MS = 100;

  private final Vertx vertx = Vertx.vertx();
  private final Telemetry telemetry = new Telemetry("test", "0");
  private int port;

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    telemetry.close();
  }

  private void start(Duration idle, Duration header, Duration body, int maxConnections)
      throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    telemetry.bindStandardMeters(() -> true); // the drop counters, at zero
    AppConfig.Connections limits = new AppConfig.Connections(idle, header, body, maxConnections);
    HttpServerVerticle.Limits shared = new HttpServerVerticle.Limits(limits, telemetry);
    HttpServerGauges gauges = new HttpServerGauges(telemetry.registry());
    vertx
        .deployVerticle(
            () ->
                new HttpServerVerticle(
                    new AppConfig.Http("127.0.0.1", port, 2),
                    shared,
                    telemetry,
                    gauges,
                    new Health(vertx),
                    new KeyRing(List.of(), Set.of()),
                    List.of(
                        r ->
                            r.post("/echo")
                                .handler(BodyHandler.create())
                                .handler(ctx -> ctx.response().end(ctx.body().buffer())))),
            new io.vertx.core.DeploymentOptions().setInstances(2))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    // A guard only: every test awaits the server's close well before it.
    s.setSoTimeout(10_000);
    return s;
  }

  /** Reads until the server closes the connection; the milliseconds it took from {@code t0}. */
  private static long awaitClose(Socket s, long t0) throws IOException {
    InputStream in = s.getInputStream();
    try {
      while (in.read() >= 0) {
        // drain whatever the server answered before closing
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server did not close the connection within 10 s", e);
    } catch (IOException e) {
      // a reset is a close too
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private double dropped(String reason) {
    return Scrapes.settled(telemetry, "telemetry_http_connections_dropped_total", "reason", reason);
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAtTheHeaderDeadline() throws Exception {
    start(Duration.ofSeconds(30), Duration.ofMillis(DEADLINE_MS), Duration.ofSeconds(30), 100);
    long t0 = System.nanoTime();
    try (Socket s = connect()) {
      long ms = awaitClose(s, t0);
      assertTrue(ms >= DEADLINE_MS - 50 && ms < DEADLINE_MS + 2_000, ms + " ms");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> dropped("header") == 1.0);
  }

  @Test
  void aKeptAliveConnectionLeftSilentIsClosedAtTheIdleTimeout() throws Exception {
    start(Duration.ofMillis(DEADLINE_MS), Duration.ofSeconds(30), Duration.ofSeconds(30), 100);
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      long t0 = System.nanoTime();
      long ms = awaitClose(s, t0);
      assertTrue(ms >= DEADLINE_MS - 100 && ms < DEADLINE_MS + 2_000, ms + " ms");
    }
    assertEquals(0.0, dropped("header"), "the idle timeout, not the header deadline, closed it");
  }

  @Test
  void aHeaderTrickledByteByByteIsClosedAtTheHeaderDeadline() throws Exception {
    start(Duration.ofSeconds(30), Duration.ofMillis(DEADLINE_MS), Duration.ofSeconds(30), 100);
    byte[] request =
        "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    long t0 = System.nanoTime();
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      boolean closedWhileSending = trickle(out, request);
      long ms = awaitClose(s, t0);
      assertTrue(closedWhileSending, "the header was still being sent when the server closed");
      assertTrue(ms >= DEADLINE_MS - 50 && ms < DEADLINE_MS + 2_000, ms + " ms");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> dropped("header") == 1.0);
  }

  @Test
  void aBodyTrickledByteByByteIsClosedAtTheBodyDeadline() throws Exception {
    start(Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofMillis(DEADLINE_MS), 100);
    long t0;
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n"
                  + "\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      t0 = System.nanoTime();
      boolean closedWhileSending = trickle(out, new byte[100]);
      long ms = awaitClose(s, t0);
      assertTrue(closedWhileSending, "the body was still being sent when the server closed");
      assertTrue(ms >= DEADLINE_MS - 50 && ms < DEADLINE_MS + 2_000, ms + " ms");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> dropped("body") == 1.0);
  }

  @Test
  void aRequestSentInTimeIsAnsweredAndItsConnectionKept() throws Exception {
    start(Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(5), 100);
    try (Socket s = connect()) {
      for (int i = 0; i < 2; i++) {
        String answer = exchange(s, "/health/live");
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
      }
    }
    assertEquals(0.0, dropped("header"));
    assertEquals(0.0, dropped("body"));
  }

  @Test
  void theConnectionBeyondTheCapIsRefusedAndCountedAndAFreedSlotIsUsableAgain() throws Exception {
    start(Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(30), 2);
    try (Socket a = connect();
        Socket b = connect()) {
      // Both answered: both counted as open by the server.
      assertTrue(exchange(a, "/health/live").startsWith("HTTP/1.1 200"));
      assertTrue(exchange(b, "/health/live").startsWith("HTTP/1.1 200"));
      try (Socket c = connect()) {
        long ms = awaitClose(c, System.nanoTime());
        assertTrue(ms < 2_000, "the third connection is closed on arrival, took " + ms + " ms");
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> dropped("limit") == 1.0);
      a.close();
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> {
                try (Socket d = connect()) {
                  return exchange(d, "/health/live").startsWith("HTTP/1.1 200");
                } catch (IOException e) {
                  return false;
                }
              });
    }
  }

  /** Sends one byte per {@link #TRICKLE_MS}; true when the server closed before the last. */
  private static boolean trickle(OutputStream out, byte[] bytes) throws InterruptedException {
    try {
      for (byte b : bytes) {
        out.write(b);
        out.flush();
        Thread.sleep(TRICKLE_MS);
      }
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /** One GET on a kept-alive connection; the status line and headers of the answer. */
  private static String exchange(Socket s, String path) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed: " + head);
      }
      head.append((char) c);
    }
    String h = head.toString();
    int at = h.toLowerCase(java.util.Locale.ROOT).indexOf("content-length: ");
    int length = Integer.parseInt(h.substring(at + 16, h.indexOf("\r\n", at)).trim());
    in.readNBytes(length);
    return h;
  }
}
