package io.gputelemetry.web;

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
import io.gputelemetry.source.CloudEventMapping;
import io.gputelemetry.source.LiteLlmMapping;
import io.gputelemetry.source.Translation;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

  /** LiteLLM's generic API logger: StandardLoggingPayload objects, as an array, NDJSON or one. */
  public static final String LITELLM_ROUTE = "/api/v1/ingest/litellm";

  static final String JSON_TYPE = "application/json";
  static final String NDJSON_TYPE = "application/x-ndjson";
  static final String CE_TYPE = "application/cloudevents+json";
  static final String CE_BATCH_TYPE = "application/cloudevents-batch+json";

  private static final int MAX_ERRORS_LISTED = 1000;
  private static final byte[] SPECVERSION =
      ("\"" + CloudEventMapping.SPECVERSION + "\"").getBytes(StandardCharsets.US_ASCII);

  private final AppConfig.Ingest config;
  private final AppConfig.Topics topics;
  private final EventParser parser;
  private final EventPublisher publisher;
  private final Telemetry telemetry;
  private final LiteLlmMapping liteLlm;
  private final CloudEventMapping cloudEvents;

  /** One element of a request: a parsed tree, a slice of the body, or why it is neither. */
  private record Item(JsonNode node, int off, int len, Violation error) {}

  /**
   * @param liteLlm the LiteLLM callback mapping; null: no LiteLLM route
   */
  public IngestRoutes(
      AppConfig.Ingest config,
      AppConfig.Topics topics,
      EventParser parser,
      EventPublisher publisher,
      Telemetry telemetry,
      LiteLlmMapping liteLlm,
      CloudEventMapping cloudEvents) {
    this.config = config;
    this.topics = topics;
    this.parser = parser;
    this.publisher = publisher;
    this.telemetry = telemetry;
    this.liteLlm = liteLlm;
    this.cloudEvents = cloudEvents;
  }

  /** The routes this instance serves, with the event type each produces. */
  private Map<String, EventType> routes() {
    Map<String, EventType> r = new LinkedHashMap<>();
    r.put(GPU_ROUTE, EventType.GPU_SAMPLE);
    r.put(TOKEN_ROUTE, EventType.TOKEN_USAGE);
    if (liteLlm != null) {
      r.put(LITELLM_ROUTE, EventType.TOKEN_USAGE);
    }
    return r;
  }

  /** The content types a route takes. */
  private static List<String> accepted(String route) {
    return switch (route) {
      case TOKEN_ROUTE -> List.of(JSON_TYPE, NDJSON_TYPE, CE_TYPE, CE_BATCH_TYPE);
      default -> List.of(JSON_TYPE, NDJSON_TYPE);
    };
  }

  public void install(Router router) {
    Map<String, String> routeTopics = new LinkedHashMap<>();
    routes().forEach((route, type) -> routeTopics.put(route, KafkaClients.topic(topics, type)));
    telemetry.initIngest(routeTopics, STATUSES, Violation.CODES);
    for (Map.Entry<String, EventType> r : routes().entrySet()) {
      String route = r.getKey();
      EventType type = r.getValue();
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
    List<String> ok = accepted(route);
    if (!ok.contains(ct)) {
      reply(
          ctx,
          route,
          start,
          415,
          error(
              "Content-Type must be "
                  + String.join(" or ", ok)
                  + ", got '"
                  + (ct.isEmpty() ? "none" : ct)
                  + "'",
              "unsupported_media_type"));
      return;
    }
    ctx.put("ct", ct);
    ctx.next();
  }

  private void ingest(RoutingContext ctx, String route, EventType type) {
    long start = ctx.get("start");
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      reply(ctx, route, start, 400, error(EMPTY, "empty_body"));
      return;
    }
    // The access rule let the caller through; its binding applies to the events.
    Principal caller = RouteAccess.caller(ctx);
    String tenant = type == EventType.TOKEN_USAGE ? caller.tenant() : null;
    byte[] bytes = body.getBytes();
    String ct = ctx.get("ct");
    Instant now = Instant.now();
    List<Item> items;
    try {
      items = items(route, type, ct, bytes, now, tenant);
    } catch (BadBody e) {
      reply(ctx, route, start, 400, error(e.getMessage(), e.code));
      return;
    }
    int total = items.size();
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
    List<Event> accepted = new ArrayList<>();
    JsonArray errors = new JsonArray();
    int rejected = 0;
    int skipped = 0;
    boolean ce = CE_TYPE.equals(ct) || CE_BATCH_TYPE.equals(ct);
    String topic = KafkaClients.topic(topics, type);
    for (int i = 0; i < total; i++) {
      Item it = items.get(i);
      JsonNode node = it.node();
      if (node == null
          && it.error() == null
          && type == EventType.TOKEN_USAGE
          && Bodies.contains(bytes, it.off(), it.len(), SPECVERSION)) {
        node = tree(bytes, it.off(), it.len());
      }
      Translation t = null;
      if (route.equals(LITELLM_ROUTE) && node != null) {
        t = liteLlm.map(node);
      } else if (node != null && (ce || CloudEventMapping.isCloudEvent(node))) {
        t = cloudEvents.map(node, now);
      }
      ParseResult pr;
      if (it.error() != null) {
        pr = ParseResult.rejected(it.error());
      } else if (t != null && t.skipped() != null) {
        skipped++;
        continue;
      } else if (t != null) {
        pr = translated(t, now, tenant);
      } else if (node != null) {
        pr = parser.parse(type, node, now, tenant);
      } else {
        pr = parser.parse(type, bytes, it.off(), it.len(), now, tenant);
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
    int skippedCount = skipped;
    if (accepted.isEmpty()) {
      reply(
          ctx,
          route,
          start,
          rejectedCount > 0 ? 400 : 202,
          result(0, rejectedCount, skippedCount, errors));
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
                  result(accepted.size(), rejectedCount, skippedCount, errors));
            });
  }

  private static final String EMPTY =
      "empty body: send one JSON object, an array of objects, or NDJSON";

  /** A body that cannot be cut into events at all: answered 400 with this message and code. */
  private static final class BadBody extends Exception {
    private static final long serialVersionUID = 1L;
    final String code;

    BadBody(String message, String code) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  /** The request's elements, by route and content type. */
  private List<Item> items(
      String route, EventType type, String ct, byte[] bytes, Instant now, String tenant)
      throws BadBody {
    if (CE_TYPE.equals(ct) || CE_BATCH_TYPE.equals(ct)) {
      boolean batch = CE_BATCH_TYPE.equals(ct);
      JsonNode root = wholeTree(type, bytes, now, tenant);
      if (batch != root.isArray()) {
        throw new BadBody(
            batch
                ? ct + " carries a JSON array of CloudEvents, got " + kind(root)
                : ct + " carries one CloudEvent (a JSON object); send several as " + CE_BATCH_TYPE,
            "not_object");
      }
      return treeItems(root);
    }
    if (route.equals(LITELLM_ROUTE)) {
      // LiteLLM posts NDJSON as application/json too: a body that is not one JSON value is read
      // line by line, each line its own event (or its own error).
      try {
        return treeItems(wholeTree(type, bytes, now, tenant));
      } catch (BadBody e) {
        List<Item> out = new ArrayList<>();
        for (int[] l : Bodies.ndjsonLines(bytes)) {
          JsonNode n = tree(bytes, l[0], l[1]);
          out.add(
              n != null
                  ? new Item(n, 0, 0, null)
                  : new Item(
                      null,
                      0,
                      0,
                      parser.parse(type, bytes, l[0], l[1], now, tenant).violations().get(0)));
        }
        return out;
      }
    }
    List<int[]> slices =
        NDJSON_TYPE.equals(ct) ? Bodies.ndjsonLines(bytes) : Bodies.elements(bytes);
    if (slices == null) {
      // Not a plain array of objects (or one object): parsed as a whole, for the precise error.
      return treeItems(wholeTree(type, bytes, now, tenant));
    }
    List<Item> out = new ArrayList<>(slices.size());
    for (int[] sl : slices) {
      out.add(new Item(null, sl[0], sl[1], null));
    }
    return out;
  }

  private JsonNode wholeTree(EventType type, byte[] bytes, Instant now, String tenant)
      throws BadBody {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(bytes);
    } catch (IOException e) {
      ParseResult pr = parser.parse(type, bytes, now, tenant);
      Violation v =
          pr.violations().isEmpty()
              ? new Violation("", "invalid JSON", "parse_error")
              : pr.violations().get(0);
      throw new BadBody(v.reason(), v.code());
    }
    if (root == null || root.isMissingNode()) {
      throw new BadBody(EMPTY, "empty_body");
    }
    return root;
  }

  private static List<Item> treeItems(JsonNode root) {
    List<Item> out = new ArrayList<>();
    if (root.isArray()) {
      root.forEach(n -> out.add(new Item(n, 0, 0, null)));
    } else {
      out.add(new Item(root, 0, 0, null));
    }
    return out;
  }

  /** One slice as a tree, or null when it is not JSON. */
  private static JsonNode tree(byte[] bytes, int off, int len) {
    try {
      JsonNode n = Json.MAPPER.readTree(bytes, off, len);
      return n == null || n.isMissingNode() ? null : n;
    } catch (IOException e) {
      return null;
    }
  }

  /** A pushed payload's event through the canonical checks; violations named as the sender's. */
  private ParseResult translated(Translation t, Instant now, String tenant) {
    if (t.violation() != null) {
      return ParseResult.rejected(t.violation());
    }
    ParseResult pr = parser.parse(EventType.TOKEN_USAGE, t.body(), now, tenant);
    return pr.ok() ? pr : ParseResult.rejected(pr.violations().stream().map(t::renamed).toList());
  }

  private static String kind(JsonNode n) {
    return n.isObject()
        ? "an object"
        : n.isArray() ? "an array" : "a " + n.getNodeType().name().toLowerCase(Locale.ROOT);
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

  private static JsonObject result(int accepted, int rejected, int skipped, JsonArray errors) {
    JsonObject o = new JsonObject().put("accepted", accepted).put("rejected", rejected);
    if (skipped > 0) {
      o.put("skipped", skipped);
    }
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
