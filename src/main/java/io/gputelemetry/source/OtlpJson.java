package io.gputelemetry.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.gputelemetry.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * OTLP/JSON to and from the generated OTLP classes, with protobuf's own JSON mapping ({@link
 * JsonFormat}) and the few places where OTLP/JSON differs from it: trace and span ids are hex (of
 * either case), not base64, so they are rewritten to base64 before JsonFormat reads them. Unknown
 * fields are ignored, as the OTLP specification asks of receivers; int64 values as strings or
 * numbers and enums as numbers are what JsonFormat reads anyway.
 */
public final class OtlpJson {
  private OtlpJson() {}

  /** Why a body is not OTLP/JSON: a message fit for a 400 answer. */
  public static final class ParseException extends Exception {
    private static final long serialVersionUID = 1L;

    public ParseException(String message) {
      super(message);
    }
  }

  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  /** Where the id fields are: the path of arrays (both spellings of each key) down to them. */
  private static final List<List<String>> SPAN_PATH =
      List.of(
          List.of("resourceSpans", "resource_spans"),
          List.of("scopeSpans", "scope_spans"),
          List.of("spans"));

  private static final List<List<String>> POINT_PATH =
      List.of(
          List.of("resourceMetrics", "resource_metrics"),
          List.of("scopeMetrics", "scope_metrics"),
          List.of("metrics"));

  private static final List<String> POINT_KINDS =
      List.of(
          "gauge", "sum", "histogram", "exponentialHistogram", "exponential_histogram", "summary");

  /** Reads an OTLP/JSON body into {@code builder}; a trace or metrics export request. */
  public static <B extends Message.Builder> B read(byte[] body, B builder) throws ParseException {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      throw new ParseException("not valid JSON: " + firstLine(e.getMessage()));
    }
    if (root == null || !root.isObject()) {
      throw new ParseException("not an OTLP/JSON object");
    }
    boolean traces = builder.getDescriptorForType().getName().startsWith("ExportTrace");
    if (traces) {
      for (Found span : walk(root, SPAN_PATH, "")) {
        hexToBase64(span.node, span.path, 16, 8);
        for (Found link : walk(span.node, List.of(List.of("links")), span.path)) {
          hexToBase64(link.node, link.path, 16, 8);
        }
      }
    } else {
      for (Found metric : walk(root, POINT_PATH, "")) {
        for (String kind : POINT_KINDS) {
          JsonNode k = metric.node.get(kind);
          if (k == null) {
            continue;
          }
          String at = metric.path + "." + kind;
          for (Found point : walk(k, List.of(List.of("dataPoints", "data_points")), at)) {
            for (Found ex : walk(point.node, List.of(List.of("exemplars")), point.path)) {
              hexToBase64(ex.node, ex.path, 16, 8);
            }
          }
        }
      }
    }
    try {
      PARSER.merge(Json.MAPPER.writeValueAsString(root), builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new ParseException("not OTLP/JSON: " + firstLine(e.getMessage()));
    } catch (IOException e) {
      throw new ParseException("not OTLP/JSON: " + firstLine(e.getMessage()));
    }
    return builder;
  }

  /** A message (an export response, a google.rpc.Status) as OTLP/JSON. */
  public static byte[] write(MessageOrBuilder message) {
    try {
      return PRINTER.print(message).getBytes(StandardCharsets.UTF_8);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private record Found(ObjectNode node, String path) {}

  /** The objects at the end of a path of arrays, with where each is (for messages). */
  private static List<Found> walk(JsonNode from, List<List<String>> path, String at) {
    List<Found> level = List.of(new Found(from instanceof ObjectNode o ? o : null, at));
    for (List<String> names : path) {
      List<Found> next = new java.util.ArrayList<>();
      for (Found f : level) {
        if (f.node == null) {
          continue;
        }
        for (String name : names) {
          JsonNode arr = f.node.get(name);
          if (arr != null && arr.isArray()) {
            for (int i = 0; i < arr.size(); i++) {
              if (arr.get(i) instanceof ObjectNode o) {
                next.add(
                    new Found(o, (f.path.isEmpty() ? "" : f.path + ".") + name + "[" + i + "]"));
              }
            }
          }
        }
      }
      level = next;
    }
    return level;
  }

  /** traceId and spanId (both spellings) of one object from hex to base64, lengths checked. */
  private static void hexToBase64(ObjectNode o, String at, int traceBytes, int spanBytes)
      throws ParseException {
    for (String[] field :
        new String[][] {
          {"traceId", "t"},
          {"trace_id", "t"},
          {"spanId", "s"},
          {"span_id", "s"},
          {"parentSpanId", "s"},
          {"parent_span_id", "s"}
        }) {
      JsonNode v = o.get(field[0]);
      if (v == null || v.isNull()) {
        continue;
      }
      int bytes = field[1].equals("t") ? traceBytes : spanBytes;
      String where = at + "." + field[0];
      if (!v.isTextual()) {
        throw new ParseException(where + ": expected a hex string");
      }
      String hex = v.textValue();
      if (hex.isEmpty()) {
        continue; // absent (e.g. the root span's parent)
      }
      if (hex.length() != bytes * 2) {
        throw new ParseException(
            where + ": expected " + bytes * 2 + " hex digits, got " + hex.length() + " characters");
      }
      byte[] raw;
      try {
        raw = HexFormat.of().parseHex(hex);
      } catch (IllegalArgumentException e) {
        throw new ParseException(where + ": not hex ('" + abbreviate(hex) + "')");
      }
      o.put(field[0], Base64.getEncoder().encodeToString(raw));
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "…";
  }

  static String firstLine(String s) {
    if (s == null) {
      return "malformed";
    }
    int nl = s.indexOf('\n');
    String line = nl >= 0 ? s.substring(0, nl) : s;
    return line.length() <= 300 ? line : line.substring(0, 300) + "…";
  }
}
