// Writes an OTLP/HTTP trace export request (protobuf) of N token spans, for wrk to post:
//   java -cp target/gpu-telemetry.jar loadtest/otlp/OtlpBody.java OUT N SEED
// (a single-file source program run on the jar's own OTLP classes). Each span is one LLM call with
// the GenAI usage attributes, like the JSON ingest scenario's events: 5 tenants, 3 models, ids from
// SEED. Its times are now, so a body is good for events.max-age after it is written.
import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

public class OtlpBody {
  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static KeyValue kv(String k, long v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setIntValue(v)).build();
  }

  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[1]);
    long seed = Long.parseLong(args[2]);
    String[] tenants = {"acme", "globex", "initech", "umbrella", "hooli"};
    String[] models = {"llama-3.1-70b-instruct", "llama-3.1-8b-instruct", "mistral-7b-instruct"};
    long now = System.currentTimeMillis() * 1_000_000L;
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (int i = 0; i < n; i++) {
      long h = ((seed * 1_000_003L + i) * 2654435761L) & 0xffffffffL;
      scope.addSpans(
          Span.newBuilder()
              .setTraceId(ByteString.copyFrom(ByteBuffer.allocate(16).putLong(seed).putLong(i).array()))
              .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(h << 16 | i).array()))
              .setName("chat " + models[(int) (h / 8 % 3)])
              .setKind(Span.SpanKind.SPAN_KIND_CLIENT)
              .setStartTimeUnixNano(now - (200 + h / 4 % 3000) * 1_000_000L)
              .setEndTimeUnixNano(now)
              .addAttributes(kv("tenant.id", tenants[(int) (h % 5)]))
              .addAttributes(kv("gen_ai.request.model", models[(int) (h / 8 % 3)]))
              .addAttributes(kv("gen_ai.provider.name", "vllm"))
              .addAttributes(kv("gen_ai.usage.input_tokens", 100 + h % 1900))
              .addAttributes(kv("gen_ai.usage.output_tokens", 20 + h / 32 % 600)));
    }
    ExportTraceServiceRequest req =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(Resource.newBuilder().addAttributes(kv("service.name", "bench-gateway")))
                    .addScopeSpans(scope))
            .build();
    Files.write(Path.of(args[0]), req.toByteArray());
  }
}
