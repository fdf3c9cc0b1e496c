package io.gputelemetry.web;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.access.Principal;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.event.Violation;
import io.gputelemetry.json.Json;
import io.gputelemetry.kafka.KafkaClients;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.producer.EventPublisher;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * HTTP ingest: POST /v1/gpu-metrics and /v1/token-usage with one JSON object, a JSON array or
 * NDJSON. Answers only after Kafka acknowledged the accepted events; every rejected event gets its
 * index, field and reason; a full producer answers 503 with Retry-After instead of queueing.
 */
public final class IngestRoutes {
  public static final String GPU_ROUTE = "/v1/gpu-metrics";

  /** Every status an ingest request is answered with (its counter exists at zero for each). */
  static final List<Integer> STATUSES = List.of(202, 207, 400, 401, 413, 415, 503);

  public static final String TOKEN_ROUTE = "/v1/token-usage";
  private static final int MAX_ERRORS_LISTED = 1000;

  private final AppConfig.Ingest config;
  private final AppConfig.Topics topics;
  private final EventParser parser;
  private final EventPublisher publisher;
  private final Telemetry telemetry;

  public IngestRoutes(
      AppConfig.Ingest config,
      AppConfig.Topics topics,
      EventParser parser,
      EventPublisher publisher,
      Telemetry telemetry) {
    this.config = config;
    this.topics = topics;
    this.parser = parser;
    this.publisher = publisher;
    this.telemetry = telemetry;
  }

  public void install(Router router) {
    telemetry.initIngest(
        Map.of(
            GPU_ROUTE,
            KafkaClients.topic(topics, EventType.GPU_SAMPLE),
            TOKEN_ROUTE,
            KafkaClients.topic(topics, EventType.TOKEN_USAGE)),
        STATUSES,
        Violation.CODES);
    for (String route : List.of(GPU_ROUTE, TOKEN_ROUTE)) {
      EventType type = route.equals(GPU_ROUTE) ? EventType.GPU_SAMPLE : EventType.TOKEN_USAGE;
      // Authentication and content type come before the body is buffered.
      router.post(route).handler(ctx -> precheck(ctx, route));
      router.post(route).handler(BodyHandler.create(false).setBodyLimit(config.maxBodyBytes()));
      router.post(route).handler(ctx -> ingest(ctx, route, type));
    }
    router.errorHandler(
        413,
        ctx -> {
          String route = ctx.normalizedPath();
          long start = ctx.get("start") == null ? System.nanoTime() : ctx.<Long>get("start");
          reply(
              ctx,
              route,
              start,
              413,
              error("request body exceeds " + config.maxBodyBytes() + " bytes", "too_large"));
        });
  }

  private void precheck(RoutingContext ctx, String route) {
    long start = System.nanoTime();
    ctx.put("start", start);
    String ct = contentType(ctx.request().getHeader("Content-Type"));
    if (!ct.equals("application/json") && !ct.equals("application/x-ndjson")) {
      reply(
          ctx,
          route,
          start,
          415,
          error(
              "Content-Type must be application/json or application/x-ndjson, got '"
                  + (ct.isEmpty() ? "none" : ct)
                  + "'",
              "unsupported_media_type"));
      return;
    }
    ctx.put("ndjson", ct.equals("application/x-ndjson"));
    ctx.next();
  }

  private void ingest(RoutingContext ctx, String route, EventType type) {
    long start = ctx.get("start");
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      reply(
          ctx,
          route,
          start,
          400,
          error("empty body: send one JSON object, an array of objects, or NDJSON", "empty_body"));
      return;
    }
    // The access rule let the caller through; its binding applies to the events.
    Principal caller = RouteAccess.caller(ctx);
    String tenant = type == EventType.TOKEN_USAGE ? caller.tenant() : null;
    byte[] bytes = body.getBytes();
    // Each event as a slice of the body, read in place; a body that is not a plain array of
    // objects (or one object) is parsed as a whole instead, for the precise error.
    List<JsonNode> nodes = null;
    List<int[]> slices =
        Boolean.TRUE.equals(ctx.get("ndjson")) ? ndjsonLines(bytes) : elements(bytes);
    if (slices == null) {
      nodes = new ArrayList<>();
      JsonNode root;
      try {
        root = Json.MAPPER.readTree(bytes);
      } catch (Exception e) {
        ParseResult pr = parser.parse(type, bytes, Instant.now(), tenant);
        Violation v =
            pr.violations().isEmpty()
                ? new Violation("", "invalid JSON", "parse_error")
                : pr.violations().get(0);
        reply(ctx, route, start, 400, error(v.reason(), v.code()));
        return;
      }
      if (root == null || root.isMissingNode()) {
        reply(
            ctx,
            route,
            start,
            400,
            error(
                "empty body: send one JSON object, an array of objects, or NDJSON", "empty_body"));
        return;
      }
      if (root.isArray()) {
        root.forEach(nodes::add);
      } else {
        nodes.add(root);
      }
    }
    int total = nodes != null ? nodes.size() : slices.size();
    if (total == 0) {
      reply(ctx, route, start, 400, error("no events in the request", "empty_body"));
      return;
    }
    if (total > config.maxEvents()) {
      reply(
          ctx,
          route,
          start,
          413,
          error(
              total + " events exceed the limit of " + config.maxEvents() + " per request",
              "too_many_events"));
      return;
    }
    Instant now = Instant.now();
    List<Event> accepted = new ArrayList<>();
    JsonArray errors = new JsonArray();
    int rejected = 0;
    String topic = KafkaClients.topic(topics, type);
    for (int i = 0; i < total; i++) {
      ParseResult pr;
      if (nodes != null) {
        pr = parser.parse(type, nodes.get(i), now, tenant);
      } else {
        int[] sl = slices.get(i);
        pr = parser.parse(type, bytes, sl[0], sl[1], now, tenant);
      }
      if (pr.ok() && type == EventType.GPU_SAMPLE) {
        pr = ownSample(pr.event(), caller);
      }
      if (pr.ok()) {
        accepted.add(pr.event());
        continue;
      }
      rejected++;
      telemetry.eventsRejected(topic, pr.reasonCode(), 1);
      for (Violation v : pr.violations()) {
        if (errors.size() < MAX_ERRORS_LISTED) {
          errors.add(
              new JsonObject()
                  .put("index", i)
                  .put("field", v.field())
                  .put("code", v.code())
                  .put("reason", v.reason()));
        }
      }
    }
    int rejectedCount = rejected;
    if (accepted.isEmpty()) {
      reply(ctx, route, start, 400, result(0, rejectedCount, errors));
      return;
    }
    if (publisher.inFlight() + accepted.size() > config.maxPending()) {
      telemetry.ingestBackpressure(route);
      ctx.response()
          .putHeader("Retry-After", Long.toString(Math.max(1, config.retryAfter().toSeconds())));
      reply(
          ctx,
          route,
          start,
          503,
          error(
              "Kafka is not keeping up; retry after the Retry-After delay "
                  + "(events are idempotent: resending is safe)",
              "backpressure"));
      return;
    }
    publisher
        .publishAll(accepted, EventPublisher.HTTP)
        .onComplete(
            ar -> {
              long failed = ar.succeeded() ? ar.result().failed() : accepted.size();
              if (failed > 0) {
                ctx.response()
                    .putHeader(
                        "Retry-After", Long.toString(Math.max(1, config.retryAfter().toSeconds())));
                reply(
                    ctx,
                    route,
                    start,
                    503,
                    error(
                        "Kafka did not acknowledge "
                            + failed
                            + " of "
                            + accepted.size()
                            + " events; retry the request (events are idempotent: resending is"
                            + " safe)",
                        "unavailable"));
                return;
              }
              reply(
                  ctx,
                  route,
                  start,
                  rejectedCount == 0 ? 202 : 207,
                  result(accepted.size(), rejectedCount, errors));
            });
  }

  /**
   * A GPU sample as its writer's: scoped by the key's id, so that no other key can pre-empt it with
   * the same event id; refused when the key is bound to nodes and the sample's node is not one.
   */
  static ParseResult ownSample(Event e, Principal caller) {
    String node = e.text(EventFields.G_NODE);
    if (!caller.mayWriteNode(node)) {
      return ParseResult.rejected(
          new Violation(
              "node",
              "this API key may post samples of nodes "
                  + String.join(", ", new TreeSet<>(caller.nodes()))
                  + " only, not '"
                  + node
                  + "'",
              "forbidden"));
    }
    return ParseResult.ok(caller.id() == null ? e : e.withWriter(caller.id()));
  }

  /**
   * NDJSON: one event per non-blank line, as {offset, length}; a line that is not JSON becomes that
   * event's error.
   */
  private static List<int[]> ndjsonLines(byte[] bytes) {
    List<int[]> lines = new ArrayList<>();
    int lineStart = 0;
    for (int i = 0; i <= bytes.length; i++) {
      if (i == bytes.length || bytes[i] == '\n') {
        int end = i;
        if (end > lineStart && bytes[end - 1] == '\r') {
          end--;
        }
        if (!isBlank(bytes, lineStart, end)) {
          lines.add(new int[] {lineStart, end - lineStart});
        }
        lineStart = i + 1;
      }
    }
    return lines;
  }

  /**
   * The objects of a JSON array (or the one object) as {offset, length} slices, found by one
   * streaming pass without building a tree; null when the body is anything else, or not valid JSON.
   */
  private static List<int[]> elements(byte[] bytes) {
    List<int[]> out = new ArrayList<>();
    try (JsonParser p = Json.MAPPER.getFactory().createParser(bytes)) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.START_OBJECT) {
        p.skipChildren();
        out.add(new int[] {0, bytes.length});
      } else if (t == JsonToken.START_ARRAY) {
        while ((t = p.nextToken()) == JsonToken.START_OBJECT) {
          int from = (int) p.currentTokenLocation().getByteOffset();
          p.skipChildren();
          out.add(new int[] {from, (int) p.currentLocation().getByteOffset() - from});
        }
        if (t != JsonToken.END_ARRAY) {
          return null;
        }
      } else {
        return null;
      }
      return p.nextToken() == null ? out : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static boolean isBlank(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
        return false;
      }
    }
    return true;
  }

  private static JsonObject result(int accepted, int rejected, JsonArray errors) {
    JsonObject o = new JsonObject().put("accepted", accepted).put("rejected", rejected);
    if (rejected > 0) {
      o.put("errors", errors);
      if (errors.size() >= MAX_ERRORS_LISTED) {
        o.put("errors_truncated", true);
      }
    }
    return o;
  }

  private static JsonObject error(String message, String code) {
    return new JsonObject().put("error", message).put("code", code);
  }

  private void reply(RoutingContext ctx, String route, long start, int status, JsonObject body) {
    HttpServerResponse resp = ctx.response();
    if (resp.ended()) {
      return;
    }
    telemetry.ingestRequest(route, status, System.nanoTime() - start);
    resp.setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  private static String contentType(String header) {
    if (header == null) {
      return "";
    }
    int semi = header.indexOf(';');
    return (semi >= 0 ? header.substring(0, semi) : header).trim().toLowerCase(Locale.ROOT);
  }
}
