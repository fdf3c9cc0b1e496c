package io.gputelemetry.web;

import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.export.FocusCsv;
import io.gputelemetry.export.LedgerSource;
import io.gputelemetry.store.LedgerRow;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The FOCUS 1.2 export: the ledger's hourly rows of a range as CSV, streamed an hour at a time (the
 * next hour is read once the previous one was written to the connection), so that a 13-month export
 * holds one hour's rows; and the export's metadata (its FOCUS version and columns).
 */
public final class ExportRoutes {
  private static final Logger LOG = LogManager.getLogger(ExportRoutes.class);

  public static final String FOCUS_ROUTE = "/api/v1/export/focus";

  /** The metadata the export's Link header points to (open, like the event schemas). */
  public static final String METADATA_ROUTE = "/schemas/focus-1.2.metadata.json";

  /** Thirteen months (at most 396 days) and a day. */
  static final Duration MAX_RANGE = Duration.ofDays(397);

  private static final long HOUR = 3_600_000L;
  private static final QueryParams PARAMS =
      new QueryParams(QueryParams.instant("from"), QueryParams.instant("to"));

  private final LedgerSource source;
  private final FocusCsv.Identity identity;
  private final Map<String, PriceBook.Commitment> commitments;

  public ExportRoutes(LedgerSource source, FocusCsv.Identity identity) {
    this(source, identity, Map.of());
  }

  /**
   * @param commitments the price book's commitments by id: the names and categories of the
   *     commitment columns
   */
  public ExportRoutes(
      LedgerSource source,
      FocusCsv.Identity identity,
      Map<String, PriceBook.Commitment> commitments) {
    this.source = source;
    this.identity = identity;
    this.commitments = commitments;
  }

  public void install(Router router) {
    router.get(FOCUS_ROUTE).handler(this::focus);
    String metadata = FocusCsv.metadata().encodePrettily();
    router
        .get(METADATA_ROUTE)
        .handler(ctx -> ctx.response().putHeader("Content-Type", "application/json").end(metadata));
  }

  private void focus(RoutingContext ctx) {
    long from;
    long to;
    try {
      QueryParams.Values q = PARAMS.parse(ctx.queryParams());
      from = onTheHour(q, "from");
      to = onTheHour(q, "to");
      if (to <= from) {
        throw new QueryParams.BadParameter("to", "must be after from");
      }
      if (to - from > MAX_RANGE.toMillis()) {
        throw new QueryParams.BadParameter(
            "to", "range exceeds the maximum of " + MAX_RANGE.toDays() + " days");
      }
    } catch (QueryParams.BadParameter e) {
      ApiRoutes.badRequest(ctx, e);
      return;
    }
    // A tenant-bound key gets its own tenant's rows only (no idle rows: they are no tenant's).
    String tenant = RouteAccess.caller(ctx).tenant();
    HttpServerResponse response = ctx.response();
    StringBuilder pending = new StringBuilder();
    FocusCsv csv = new FocusCsv(pending, identity, commitments, tenant);
    boolean[] started = {false};
    Runnable start =
        () -> {
          started[0] = true;
          response
              .setChunked(true)
              .putHeader("Content-Type", "text/csv; charset=utf-8; header=present")
              .putHeader(
                  "Content-Disposition",
                  "attachment; filename=\"focus-" + name(from) + "-" + name(to) + ".csv\"")
              .putHeader("Link", "<" + METADATA_ROUTE + ">; rel=\"describedby\"");
          csv.header();
        };
    Function<List<LedgerRow>, Future<Void>> hour =
        rows -> {
          if (response.closed()) {
            return Future.failedFuture("the client closed the connection");
          }
          if (!started[0]) {
            start.run();
          }
          rows.forEach(csv::write);
          return flush(response, pending);
        };
    source
        .hourlyRows(from, to, hour)
        .onSuccess(
            v -> {
              if (!started[0]) {
                start.run();
              }
              response.end(Buffer.buffer(pending.toString()));
              FocusCsv.Summary s = csv.summary();
              LOG.info(
                  "FOCUS export {}..{}: {} rows; left out (no known cost): {} GPU-seconds, {}"
                      + " tokens, {} requests",
                  name(from),
                  name(to),
                  s.rows(),
                  s.omittedGpuSeconds(),
                  s.omittedTokens(),
                  s.omittedRequests());
            })
        .onFailure(
            e -> {
              if (!started[0]) {
                ApiRoutes.unavailable(ctx, e);
              } else {
                // The status is sent: cut the transfer, so that the client sees an incomplete
                // answer (no final chunk) rather than a short file that looks whole.
                LOG.warn("FOCUS export {}..{} cut: {}", name(from), name(to), e.toString());
                response.reset();
              }
            });
  }

  /** Writes what was appended and empties it; completes when the connection took it. */
  private static Future<Void> flush(HttpServerResponse response, StringBuilder pending) {
    if (pending.length() == 0) {
      return Future.succeededFuture();
    }
    Buffer b = Buffer.buffer(pending.toString());
    pending.setLength(0);
    return response.write(b);
  }

  private static long onTheHour(QueryParams.Values q, String name) {
    long t = q.instant(name).toEpochMilli();
    if (Math.floorMod(t, HOUR) != 0) {
      throw new QueryParams.BadParameter(
          name, "must be on the hour (FOCUS charge periods are hours), e.g. 2026-11-28T12:00:00Z");
    }
    return t;
  }

  private static String name(long t) {
    return Instant.ofEpochMilli(t).toString().replace(":", "").replace("-", "");
  }
}
