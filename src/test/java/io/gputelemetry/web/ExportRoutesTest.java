package io.gputelemetry.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.access.ApiKey;
import io.gputelemetry.access.KeyFile;
import io.gputelemetry.access.KeyRing;
import io.gputelemetry.access.Scope;
import io.gputelemetry.export.FocusCsv;
import io.gputelemetry.export.LedgerSource;
import io.gputelemetry.store.LedgerRow;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The export route over HTTP against a source of synthetic hourly rows: bad parameters answer 400
 * naming them, the answer streams an hour at a time (the next hour is not read before the client
 * has the previous one), a tenant-bound key gets its own rows, and a failing source answers 503
 * before the first hour and cuts the transfer after it.
 */
class ExportRoutesTest {
  private static final long H = 3_600_000L;
  private static final long F = 1_800_000_000_000L; // 2027-01-15T08:00:00Z
  private static final String READER = "export-reader-0123456789abcdef";
  private static final String ACME = "export-acme-0123456789abcdef";
  private static Vertx vertx;
  private static int port;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** What the next request's source does; set by each test before it asks. */
  private static volatile LedgerSource source;

  @BeforeAll
  static void serve() throws Exception {
    vertx = Vertx.vertx();
    KeyRing keys =
        new KeyRing(
            List.of(
                new ApiKey("reader", KeyFile.sha256(READER), Set.of(Scope.READ), null, Set.of()),
                new ApiKey("acme", KeyFile.sha256(ACME), Set.of(Scope.READ), "acme", Set.of())),
            Set.of());
    Router router = Router.router(vertx);
    router.route().handler(new RouteAccess(keys));
    new ExportRoutes(
            (from, to, hour) -> source.hourlyRows(from, to, hour), FocusCsv.Identity.DEFAULT)
        .install(router);
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    port = server.actualPort();
  }

  @AfterAll
  static void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Hours from {@code from} to {@code to}, each handed over once the previous one was taken. */
  private static Future<Void> hours(
      long from,
      long to,
      Function<List<LedgerRow>, Future<Void>> hour,
      Function<Long, Future<Void>> before) {
    if (from >= to) {
      return Future.succeededFuture();
    }
    return before
        .apply(from)
        .compose(v -> hour.apply(rowsOf(from)))
        .compose(v -> hours(from + H, to, hour, before));
  }

  /** An hour's rows: acme's and globex's share of m on H100, and an idle row. */
  private static List<LedgerRow> rowsOf(long h) {
    LedgerRow.Amounts a =
        new LedgerRow.Amounts(600, 600, 0, 0.6, 0.6, 0.6, 0.6, 6e4, 5e4, 100, 50, 3, 150, 0, 0, 0);
    return List.of(
        new LedgerRow(h, h + H, LedgerRow.Kind.GPU, "m", "acme", "H100", a),
        new LedgerRow(h, h + H, LedgerRow.Kind.GPU, "m", "globex", "H100", a),
        new LedgerRow(h, h + H, LedgerRow.Kind.IDLE, "m", "", "H100", a));
  }

  private static HttpResponse<String> get(String query, String key) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + query))
            .timeout(Duration.ofSeconds(30));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void badParameter(String query, String parameter, String phrase) throws Exception {
    source = (from, to, hour) -> Future.failedFuture("must not be read");
    HttpResponse<String> r = get(ExportRoutes.FOCUS_ROUTE + query, READER);
    assertEquals(400, r.statusCode(), query + " " + r.body());
    JsonObject body = new JsonObject(r.body());
    assertEquals(parameter, body.getString("parameter"), query);
    assertTrue(body.getString("error").contains(phrase), body.encode());
  }

  @Test
  void badParametersAnswer400NamingThem() throws Exception {
    String day = "?from=2027-01-15T08:00:00Z&to=2027-01-16T08:00:00Z";
    badParameter("?from=2027-01-15T08:30:00Z&to=2027-01-16T08:00:00Z", "from", "on the hour");
    badParameter("?from=2027-01-15T08:00:00Z&to=2027-01-16T08:00:01Z", "to", "on the hour");
    badParameter(day + "&step=1h", "step", "is not a parameter of this route");
    badParameter(day + "&from=2027-01-15T09:00:00Z", "from", "more than once");
    badParameter("?to=2027-01-16T08:00:00Z", "from", "is required");
    badParameter("?from=2027-01-16T08:00:00Z&to=2027-01-16T08:00:00Z", "to", "after from");
    badParameter("?from=2026-01-01T00:00:00Z&to=2027-02-03T00:00:00Z", "to", "397 days");
    badParameter("?from=yesterday&to=2027-02-03T00:00:00Z", "from", "RFC 3339");
  }

  /**
   * The source hands hour 2 over only after the client has read a record of hour 1: an answer held
   * back until the end would never come (the request would time out).
   */
  @Test
  void eachHourReachesTheClientBeforeTheNextIsRead() throws Exception {
    CompletableFuture<Void> clientHasHour1 = new CompletableFuture<>();
    AtomicInteger handed = new AtomicInteger();
    source =
        (from, to, hour) ->
            hours(
                from,
                to,
                rows -> {
                  handed.incrementAndGet();
                  return hour.apply(rows);
                },
                h ->
                    h == from + H
                        ? Future.fromCompletionStage(clientHasHour1, vertx.getOrCreateContext())
                        : Future.succeededFuture());
    HttpRequest req =
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:"
                        + port
                        + ExportRoutes.FOCUS_ROUTE
                        + "?from=2027-01-15T08:00:00Z&to=2027-01-16T08:00:00Z"))
            .header("Authorization", "Bearer " + READER)
            .timeout(Duration.ofSeconds(30))
            .build();
    HttpResponse<InputStream> r = HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    assertEquals(
        "text/csv; charset=utf-8; header=present", r.headers().firstValue("Content-Type").get());
    assertEquals(
        "attachment; filename=\"focus-20270115T080000Z-20270116T080000Z.csv\"",
        r.headers().firstValue("Content-Disposition").get());
    assertEquals(
        "</schemas/focus-1.2.metadata.json>; rel=\"describedby\"",
        r.headers().firstValue("Link").get());
    assertEquals("chunked", r.headers().firstValue("Transfer-Encoding").orElse(null));
    List<String> lines = new ArrayList<>();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lines.add(line);
        if (lines.size() == 2) {
          assertEquals(1, handed.get(), "hour 2 is not read before the client has hour 1");
          clientHasHour1.complete(null);
        }
      }
    }
    assertTrue(lines.get(0).startsWith("BilledCost,"), lines.get(0));
    assertEquals(1 + 24 * 3, lines.size(), "a header and 3 records an hour for 24 hours");
    assertEquals(24, handed.get());
  }

  @Test
  void aTenantBoundKeyGetsItsOwnRowsOnly() throws Exception {
    source = (from, to, hour) -> hours(from, to, hour, h -> Future.succeededFuture());
    String q = ExportRoutes.FOCUS_ROUTE + "?from=2027-01-15T08:00:00Z&to=2027-01-15T11:00:00Z";
    HttpResponse<String> mine = get(q, ACME);
    assertEquals(200, mine.statusCode());
    assertFalse(mine.body().contains("globex"), mine.body());
    assertFalse(mine.body().contains(",true,unallocated,"), "no idle rows: they are no tenant's");
    assertEquals(1 + 3, mine.body().split("\r\n").length, mine.body());
    HttpResponse<String> all = get(q, READER);
    assertEquals(1 + 3 * 3, all.body().split("\r\n").length, all.body());
    assertEquals(401, get(q, null).statusCode());
  }

  @Test
  void aSourceFailingBeforeTheFirstHourAnswers503AndAfterItCutsTheTransfer() throws Exception {
    String q = ExportRoutes.FOCUS_ROUTE + "?from=2027-01-15T08:00:00Z&to=2027-01-15T11:00:00Z";
    source = (from, to, hour) -> Future.failedFuture("store down");
    HttpResponse<String> before = get(q, READER);
    assertEquals(503, before.statusCode());
    assertEquals("unavailable", new JsonObject(before.body()).getString("code"));
    source =
        (from, to, hour) ->
            hours(
                from,
                to,
                hour,
                h -> h > from ? Future.failedFuture("store down") : Future.succeededFuture());
    // The status line was sent: the client must not get a whole-looking file.
    assertThrows(IOException.class, () -> get(q, READER));
  }

  @Test
  void aRangeWithoutRowsIsAHeaderOnly() throws Exception {
    source = (from, to, hour) -> Future.succeededFuture();
    HttpResponse<String> r =
        get(
            ExportRoutes.FOCUS_ROUTE + "?from=2027-01-15T08:00:00Z&to=2027-01-15T09:00:00Z",
            READER);
    assertEquals(200, r.statusCode());
    assertEquals(1, r.body().split("\r\n").length);
    assertTrue(r.body().startsWith("BilledCost,"));
  }

  @Test
  void theMetadataIsServedAsJson() throws Exception {
    HttpResponse<String> r = get(ExportRoutes.METADATA_ROUTE, null);
    assertEquals(200, r.statusCode());
    assertEquals("1.2", new JsonObject(r.body()).getString("FocusVersion"));
    assertEquals(
        FocusCsv.COLUMNS.size(), new JsonObject(r.body()).getJsonArray("ColumnDefinition").size());
  }
}
