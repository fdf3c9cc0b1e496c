package io.gputelemetry.source;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.Violation;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.HexFormat;
import java.util.List;

/**
 * OTLP spans to token events (token.usage.v1 bodies): a span with {@code gen_ai.usage.input_tokens}
 * or {@code gen_ai.usage.output_tokens} is one request. Its id is the trace id and span id (so a
 * span sent twice is stored once), its time the span's end, its latency the span's duration, its
 * model {@code gen_ai.response.model} or else {@code gen_ai.request.model}, its tenant the first of
 * the configured attributes found on the span, then on its resource. A span without usage
 * attributes is skipped: most spans of a traced service are not LLM calls.
 */
public final class OtlpTraces {
  static final String INPUT = "gen_ai.usage.input_tokens";
  static final String OUTPUT = "gen_ai.usage.output_tokens";
  static final List<String> MODEL = List.of("gen_ai.response.model", "gen_ai.request.model");
  static final List<String> PROVIDER = List.of("gen_ai.provider.name", "gen_ai.system");

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final HexFormat HEX = HexFormat.of();

  private final List<String> tenantAttributes;

  /**
   * @param tenantAttributes the attributes naming a span's tenant, in order of precedence
   */
  public OtlpTraces(List<String> tenantAttributes) {
    this.tenantAttributes = List.copyOf(tenantAttributes);
  }

  /**
   * Maps every span of a request; {@code tenant} non-null (a key bound to a tenant) is the tenant
   * of all of them.
   */
  public OtlpMapped map(ExportTraceServiceRequest request, String tenant) {
    OtlpMapped out = new OtlpMapped();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      List<KeyValue> resource = rs.getResource().getAttributesList();
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span span : ss.getSpansList()) {
          map(span, resource, tenant, out);
        }
      }
    }
    return out;
  }

  private void map(Span span, List<KeyValue> resource, String boundTenant, OtlpMapped out) {
    List<KeyValue> attrs = span.getAttributesList();
    AnyValue in = OtlpAttributes.find(attrs, INPUT);
    AnyValue outTokens = OtlpAttributes.find(attrs, OUTPUT);
    if (in == null && outTokens == null) {
      out.skip(1);
      return;
    }
    String where = "span " + HEX.formatHex(span.getSpanId().toByteArray());
    if (span.getTraceId().size() != 16 || span.getSpanId().size() != 8) {
      out.reject(
          1,
          where,
          new Violation(
              "trace_id",
              "a span needs a 16-byte trace id and an 8-byte span id (its event id), got "
                  + span.getTraceId().size()
                  + " and "
                  + span.getSpanId().size()
                  + " bytes",
              "bad_format"));
      return;
    }
    String traceHex = HEX.formatHex(span.getTraceId().toByteArray());
    where = "span " + traceHex + "/" + HEX.formatHex(span.getSpanId().toByteArray());
    if (span.getEndTimeUnixNano() == 0) {
      out.reject(
          1,
          where,
          new Violation("end_time_unix_nano", "the span has no end time", "missing_field"));
      return;
    }
    ObjectNode o = JSON.objectNode();
    o.put("event_id", "otlp-" + traceHex + "-" + HEX.formatHex(span.getSpanId().toByteArray()));
    o.put("ts", OtlpAttributes.instant(span.getEndTimeUnixNano()).toString());
    String tenant =
        boundTenant != null
            ? boundTenant
            : OtlpAttributes.firstText(tenantAttributes, attrs, resource);
    if (tenant == null) {
      out.reject(1, where, missing("tenant", tenantAttributes));
      return;
    }
    o.put("tenant", tenant);
    String model = OtlpAttributes.firstText(MODEL, attrs, resource);
    if (model == null) {
      out.reject(1, where, missing("model", MODEL));
      return;
    }
    o.put("model", model);
    String provider = OtlpAttributes.firstText(PROVIDER, attrs, resource);
    if (provider != null) {
      o.put("provider", provider);
    }
    for (Object[] f :
        new Object[][] {{INPUT, in, "input_tokens"}, {OUTPUT, outTokens, "output_tokens"}}) {
      AnyValue v = (AnyValue) f[1];
      if (v == null) {
        // A span with one of the two (an embedding call has no output) counts 0 for the other.
        o.put((String) f[2], 0);
        continue;
      }
      String why = OtlpAttributes.notWhole(v);
      if (why != null) {
        out.reject(1, where, new Violation((String) f[0], why, "wrong_type"));
        return;
      }
      o.put((String) f[2], OtlpAttributes.whole(v));
    }
    long nanos = span.getEndTimeUnixNano() - span.getStartTimeUnixNano();
    if (span.getStartTimeUnixNano() != 0) {
      o.put("latency_ms", nanos / 1_000_000.0);
    }
    out.add(new OtlpMapped.Item(EventType.TOKEN_USAGE, o, 1, where));
  }

  /** A required field none of whose attributes was there. */
  static Violation missing(String field, List<String> attributes) {
    return new Violation(
        field,
        "none of the attributes " + String.join(", ", attributes) + " is set",
        "missing_field");
  }
}
