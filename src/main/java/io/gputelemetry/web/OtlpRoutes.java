package io.gputelemetry.web;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.gputelemetry.access.Principal;
import io.gputelemetry.access.Scope;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.event.Violation;
import io.gputelemetry.kafka.KafkaClients;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.producer.EventPublisher;
import io.gputelemetry.source.OtlpJson;
import io.gputelemetry.source.OtlpMapped;
import io.gputelemetry.source.OtlpMetrics;
import io.gputelemetry.source.OtlpTraces;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The OTLP/HTTP receiver: POST /v1/traces and /v1/metrics, protobuf or JSON, gzip or not, answered
 * as the OTLP specification says, in the request's encoding: 200 with the export response (its
 * partial success counts what was rejected and why), 400 with a google.rpc.Status for a body that
 * cannot be read, 413, 415, and 503 with Retry-After when Kafka cannot keep up. Reading, inflating
 * and mapping run on a worker; the events go through the same parser, scope rules and publisher as
 * HTTP ingest.
 */
public final class OtlpRoutes {
  public static final String TRACES_ROUTE = "/v1/traces";
  public static final String METRICS_ROUTE = "/v1/metrics";

  /** Every status an OTLP request is answered with (its counter exists at zero for each). */
  static final List<Integer> STATUSES = List.of(200, 400, 401, 403, 413, 415, 503);

  static final String PROTOBUF = "application/x-protobuf";
  static final String JSON = "application/json";
  private static final int MAX_MESSAGES = 10;

  private final AppConfig.Otlp config;
  private final AppConfig.Ingest ingest;
  private final AppConfig.Topics topics;
  private final EventParser parser;
  private final EventPublisher publisher;
  private final Telemetry telemetry;
  private final OtlpTraces traces;
  private final OtlpMetrics metrics;

  public OtlpRoutes(
      AppConfig.Otlp config,
      AppConfig.Ingest ingest,
      AppConfig.Topics topics,
      EventParser parser,
      EventPublisher publisher,
      Telemetry telemetry,
      OtlpTraces traces,
      OtlpMetrics metrics) {
    this.config = config;
    this.ingest = ingest;
    this.topics = topics;
    this.parser = parser;
    this.publisher = publisher;
    this.telemetry = telemetry;
    this.traces = traces;
    this.metrics = metrics;
  }

  /** A request refused as a whole: its status and why. */
  static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;

    Refusal(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** What a request gave: the valid events, and the items counted per outcome. */
  record Prepared(List<Event> events, long accepted, long rejected, long skipped, String message) {}

  public void install(Router router) {
    telemetry.initIngest(
        Map.of(
            TRACES_ROUTE,
            KafkaClients.topic(topics, EventType.TOKEN_USAGE),
            METRICS_ROUTE,
            KafkaClients.topic(topics, EventType.GPU_SAMPLE)),
        STATUSES,
        Violation.CODES);
    telemetry.initOtlp(List.of(signal(TRACES_ROUTE), signal(METRICS_ROUTE)));
    for (String route : List.of(TRACES_ROUTE, METRICS_ROUTE)) {
      router.post(route).handler(ctx -> precheck(ctx, route));
      router.post(route).handler(BodyHandler.create(false).setBodyLimit(config.maxBodyBytes()));
      router.post(route).handler(ctx -> receive(ctx, route));
      router
          .post(route)
          .failureHandler(
              ctx -> {
                if (ctx.statusCode() == 413) {
                  refuse(ctx, route, 413, tooLarge("request body"));
                } else {
                  ctx.next();
                }
              });
    }
  }

  private static String signal(String route) {
    return route.equals(TRACES_ROUTE) ? "spans" : "data_points";
  }

  private String tooLarge(String what) {
    return what + " exceeds " + config.maxBodyBytes() + " bytes (otlp.max-body-bytes)";
  }

  private void precheck(RoutingContext ctx, String route) {
    ctx.put("start", System.nanoTime());
    String ct = mediaType(ctx.request().getHeader("Content-Type"));
    if (!ct.equals(PROTOBUF) && !ct.equals(JSON)) {
      refuse(
          ctx,
          route,
          415,
          "Content-Type must be application/x-protobuf or application/json, got '"
              + (ct.isEmpty() ? "none" : ct)
              + "'");
      return;
    }
    ctx.put("json", ct.equals(JSON));
    String enc = mediaType(ctx.request().getHeader("Content-Encoding"));
    if (!enc.isEmpty() && !enc.equals("gzip") && !enc.equals("identity")) {
      refuse(ctx, route, 415, "Content-Encoding must be gzip or none, got '" + enc + "'");
      return;
    }
    ctx.put("gzip", enc.equals("gzip"));
    ctx.next();
  }

  private void receive(RoutingContext ctx, String route) {
    Buffer body = ctx.body().buffer();
    byte[] bytes = body == null ? new byte[0] : body.getBytes();
    boolean json = Boolean.TRUE.equals(ctx.get("json"));
    boolean gzip = Boolean.TRUE.equals(ctx.get("gzip"));
    Principal caller = RouteAccess.caller(ctx);
    Instant now = Instant.now();
    ctx.vertx()
        .executeBlocking(() -> prepare(route, bytes, json, gzip, caller, now), false)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                if (ar.cause() instanceof Refusal r) {
                  refuse(ctx, route, r.status, r.getMessage());
                } else {
                  ctx.fail(ar.cause());
                }
                return;
              }
              publish(ctx, route, ar.result());
            });
  }

  /** On a worker: inflate, decode, map, validate. */
  Prepared prepare(
      String route, byte[] bytes, boolean json, boolean gzip, Principal caller, Instant now) {
    byte[] raw = gzip ? inflate(bytes, config.maxBodyBytes()) : bytes;
    OtlpMapped mapped;
    try {
      if (route.equals(TRACES_ROUTE)) {
        ExportTraceServiceRequest req =
            json
                ? OtlpJson.read(raw, ExportTraceServiceRequest.newBuilder()).build()
                : ExportTraceServiceRequest.parseFrom(raw);
        mapped = traces.map(req, caller.tenant());
      } else {
        ExportMetricsServiceRequest req =
            json
                ? OtlpJson.read(raw, ExportMetricsServiceRequest.newBuilder()).build()
                : ExportMetricsServiceRequest.parseFrom(raw);
        mapped = metrics.map(req, caller.tenant());
      }
    } catch (OtlpJson.ParseException e) {
      throw new Refusal(400, e.getMessage());
    } catch (InvalidProtocolBufferException e) {
      throw new Refusal(
          400,
          "not an OTLP "
              + (route.equals(TRACES_ROUTE)
                  ? "ExportTraceServiceRequest"
                  : "ExportMetricsServiceRequest")
              + " in protobuf: "
              + e.getMessage());
    }
    if (mapped.events().size() > ingest.maxEvents()) {
      throw new Refusal(
          413,
          mapped.events().size()
              + " events exceed the limit of "
              + ingest.maxEvents()
              + " per request (ingest.max-events): send smaller batches");
    }
    List<Event> events = new ArrayList<>(mapped.events().size());
    long accepted = 0;
    long rejected = 0;
    List<String> messages = new ArrayList<>();
    int[] more = {0};
    for (OtlpMapped.Rejection r : mapped.rejections()) {
      rejected += r.items();
      note(messages, more, r.where(), r.violation());
    }
    for (OtlpMapped.Item item : mapped.events()) {
      ParseResult pr = check(item, caller, now);
      if (pr.ok()) {
        events.add(pr.event());
        accepted += item.items();
      } else {
        rejected += item.items();
        telemetry.eventsRejected(KafkaClients.topic(topics, item.type()), pr.reasonCode(), 1);
        note(messages, more, item.where(), pr.violations().get(0));
      }
    }
    String message = null;
    if (!messages.isEmpty()) {
      message = String.join("; ", messages) + (more[0] > 0 ? "; and " + more[0] + " more" : "");
    }
    return new Prepared(events, accepted, rejected, mapped.skipped(), message);
  }

  /** The caller's scope for the event's kind, then the parser's rules, as for HTTP ingest. */
  private ParseResult check(OtlpMapped.Item item, Principal caller, Instant now) {
    if (item.type() == EventType.TOKEN_USAGE) {
      if (!caller.has(Scope.INGEST_TOKENS)) {
        return forbidden(Scope.INGEST_TOKENS);
      }
      return parser.parse(EventType.TOKEN_USAGE, item.body(), now, caller.tenant());
    }
    if (!caller.has(Scope.INGEST_GPU)) {
      return forbidden(Scope.INGEST_GPU);
    }
    if (caller.tenant() != null) {
      return ParseResult.rejected(
          new Violation("", "a key bound to a tenant may not send GPU samples", "forbidden"));
    }
    ParseResult pr = parser.parse(EventType.GPU_SAMPLE, item.body(), now, null);
    return pr.ok() ? IngestRoutes.ownSample(pr.event(), caller) : pr;
  }

  private static ParseResult forbidden(Scope needed) {
    return ParseResult.rejected(
        new Violation("", "this API key lacks the scope '" + needed + "'", "forbidden"));
  }

  /** One reason more: its text while fewer than MAX_MESSAGES are listed, then a count. */
  private static void note(List<String> messages, int[] more, String where, Violation v) {
    if (messages.size() < MAX_MESSAGES) {
      messages.add(where + ": " + v);
    } else {
      more[0]++;
    }
  }

  private void publish(RoutingContext ctx, String route, Prepared p) {
    String signal = signal(route);
    telemetry.otlpItems(signal, "skipped", p.skipped());
    if (!p.events().isEmpty() && publisher.inFlight() + p.events().size() > ingest.maxPending()) {
      telemetry.ingestBackpressure(route);
      retryLater(
          ctx,
          route,
          "Kafka is not keeping up; retry after the Retry-After delay (events are idempotent:"
              + " resending is safe)");
      return;
    }
    publisher
        .publishAll(p.events(), EventPublisher.OTLP)
        .onComplete(
            ar -> {
              long failed = ar.succeeded() ? ar.result().failed() : p.events().size();
              if (failed > 0) {
                retryLater(
                    ctx,
                    route,
                    "Kafka did not acknowledge "
                        + failed
                        + " of "
                        + p.events().size()
                        + " events; retry the request (events are idempotent: resending is safe)");
                return;
              }
              telemetry.otlpItems(signal, "accepted", p.accepted());
              telemetry.otlpItems(signal, "rejected", p.rejected());
              answer(ctx, route, 200, response(route, p));
            });
  }

  private static Message response(String route, Prepared p) {
    if (route.equals(TRACES_ROUTE)) {
      ExportTraceServiceResponse.Builder b = ExportTraceServiceResponse.newBuilder();
      if (p.rejected() > 0) {
        b.setPartialSuccess(
            ExportTracePartialSuccess.newBuilder()
                .setRejectedSpans(p.rejected())
                .setErrorMessage(p.message()));
      }
      return b.build();
    }
    ExportMetricsServiceResponse.Builder b = ExportMetricsServiceResponse.newBuilder();
    if (p.rejected() > 0) {
      b.setPartialSuccess(
          ExportMetricsPartialSuccess.newBuilder()
              .setRejectedDataPoints(p.rejected())
              .setErrorMessage(p.message()));
    }
    return b.build();
  }

  private void retryLater(RoutingContext ctx, String route, String message) {
    ctx.response()
        .putHeader("Retry-After", Long.toString(Math.max(1, ingest.retryAfter().toSeconds())));
    refuse(ctx, route, 503, message);
  }

  private void refuse(RoutingContext ctx, String route, int status, String message) {
    Code code =
        switch (status) {
          case 413 -> Code.RESOURCE_EXHAUSTED;
          case 503 -> Code.UNAVAILABLE;
          default -> Code.INVALID_ARGUMENT;
        };
    answer(
        ctx,
        route,
        status,
        Status.newBuilder().setCode(code.getNumber()).setMessage(message).build());
  }

  /** The answer in the request's encoding (JSON when it had none we read). */
  private void answer(RoutingContext ctx, String route, int status, Message body) {
    if (ctx.response().ended()) {
      return;
    }
    boolean protobuf = Boolean.FALSE.equals(ctx.get("json"));
    Long start = ctx.get("start");
    telemetry.ingestRequest(
        route, status, System.nanoTime() - (start == null ? System.nanoTime() : start));
    ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", protobuf ? PROTOBUF : JSON)
        .end(Buffer.buffer(protobuf ? body.toByteArray() : OtlpJson.write(body)));
  }

  /**
   * A gzip body inflated, never beyond {@code max} bytes: a body that inflates further (a gzip
   * bomb) is refused with 413 once {@code max} bytes came out.
   */
  static byte[] inflate(byte[] gz, int max) {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz), 8192)) {
      ByteArrayOutputStream out =
          new ByteArrayOutputStream(Math.min(max, Math.max(1024, gz.length * 4)));
      byte[] buf = new byte[16384];
      int n;
      while ((n = in.read(buf)) > 0) {
        if (out.size() + n > max) {
          throw new Refusal(
              413, "the gzip body inflates beyond " + max + " bytes (otlp.max-body-bytes)");
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new Refusal(
          400, "Content-Encoding is gzip but the body is not valid gzip: " + e.getMessage());
    }
  }

  private static String mediaType(String header) {
    if (header == null) {
      return "";
    }
    int semi = header.indexOf(';');
    return (semi >= 0 ? header.substring(0, semi) : header).trim().toLowerCase(Locale.ROOT);
  }
}
