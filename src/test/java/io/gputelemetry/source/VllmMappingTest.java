package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The vLLM / NIM mapping on the real outputs of src/test/resources/vllm/. */
class VllmMappingTest {
  static final Path FIXTURES = Path.of("src/test/resources/vllm");
  static final Instant AT = Instant.parse("2026-11-28T12:00:00Z");
  static final String URL = "http://10.0.3.7:8000/metrics";

  private final VllmMapping mapping = new VllmMapping();
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  static AppConfig.Target target(Map<String, String> labels) {
    return new AppConfig.Target("vllm", URL, Duration.ofSeconds(15), Duration.ofSeconds(5), labels);
  }

  static PromText.Exposition fixture(String name) throws Exception {
    return PromText.parse(Files.readString(FIXTURES.resolve(name), StandardCharsets.UTF_8), 65536);
  }

  @Test
  void vllmV0GivesOneReadingPerModelSummedOverFinishedReason() throws Exception {
    VllmMapping.Result r =
        mapping.map(fixture("vllm-v0-opt-125m.prom"), target(Map.of("tenant", "acme")), AT);
    assertEquals(List.of(), r.problems());
    assertEquals(1, r.readings().size());
    ObjectNode o = r.readings().get(0);
    assertEquals("facebook/opt-125m", o.get("model").asText());
    assertEquals("acme", o.get("tenant").asText());
    assertEquals("vllm", o.get("provider").asText());
    assertEquals(URL, o.get("reading_of").asText());
    assertEquals(5, o.get("prompt_tokens_total").asLong());
    assertEquals(7, o.get("generation_tokens_total").asLong());
    assertEquals(1, o.get("requests_total").asLong());
    assertEquals(1718140558.3, o.get("counters_since_s").asDouble());
    assertEquals(AT.toString(), o.get("ts").asText());
    assertEquals(VllmMapping.readingId(URL, "facebook/opt-125m", AT), o.get("event_id").asText());
    // V0 has time_per_output_token, which stands for the inter-token latency.
    assertEquals(
        List.of("e2e", "itl", "ttft"),
        r.latencies().get("facebook/opt-125m").keySet().stream().sorted().toList());
    ParseResult p = parser.parse(EventType.TOKEN_USAGE, o, AT, null);
    assertTrue(p.ok(), () -> p.violations().toString());
    assertEquals(
        "acme/" + o.get("event_id").asText(), p.event().storeId(), "scoped by tenant as every");
  }

  @Test
  void nimNamesHaveNoPrefixAndTheFileNoFinalNewline() throws Exception {
    VllmMapping.Result r =
        mapping.map(fixture("nim-llama-3.1-8b-instruct.prom"), target(Map.of()), AT);
    assertEquals(List.of(), r.problems());
    ObjectNode o = r.readings().get(0);
    assertEquals("meta/llama-3.1-8b-instruct", o.get("model").asText());
    assertEquals(VllmMapping.UNATTRIBUTED, o.get("tenant").asText());
    assertEquals("nim", o.get("provider").asText());
    assertEquals(109, o.get("prompt_tokens_total").asLong());
    assertEquals(174, o.get("generation_tokens_total").asLong());
    assertEquals(5, o.get("requests_total").asLong());
    assertEquals(1.7303128549e9, o.get("counters_since_s").asDouble());
    assertTrue(parser.parse(EventType.TOKEN_USAGE, o, AT, null).ok());
  }

  @Test
  void vllmV1EnginesAreSummedAndACutOffAnswerNamesTheMissingCounter() throws Exception {
    String v1 = Files.readString(FIXTURES.resolve("vllm-v1-engine-head.prom"));
    // The capture stops at request_success_total's HELP line: that counter is missing.
    VllmMapping.Result cut = mapping.map(PromText.parse(v1, 65536), target(Map.of()), AT);
    assertEquals(List.of(), cut.readings());
    assertEquals(
        List.of(
            new DcgmMapping.Problem(
                "missing_field", "model llama-vllm-single: no vllm:request_success_total")),
        cut.problems());
    // Two engines (data parallel) and the counter V1 labels by finished_reason: sums.
    String two =
        v1
            + "vllm:request_success_total{engine=\"0\",finished_reason=\"stop\","
            + "model_name=\"llama-vllm-single\"} 3.0\n"
            + "vllm:request_success_total{engine=\"0\",finished_reason=\"length\","
            + "model_name=\"llama-vllm-single\"} 2.0\n"
            + v1.lines()
                .filter(l -> l.startsWith("vllm:") && !l.contains("_created"))
                .map(l -> l.replace("engine=\"0\"", "engine=\"1\"").replace("} 0.0", "} 40.0"))
                .reduce("", (a, b) -> a + b + "\n");
    VllmMapping.Result r = mapping.map(PromText.parse(two, 65536), target(Map.of()), AT);
    assertEquals(List.of(), r.problems());
    ObjectNode o = r.readings().get(0);
    assertEquals(40, o.get("prompt_tokens_total").asLong(), "0 + 40");
    assertEquals(40, o.get("generation_tokens_total").asLong());
    assertEquals(5, o.get("requests_total").asLong(), "3 stop + 2 length");
    assertNull(o.get("counters_since_s"), "no process_start_time_seconds in the capture");
  }

  @Test
  void badCountersLeaveOutTheirModelOnlyWithThePreciseReason() throws Exception {
    String text =
        "vllm:prompt_tokens_total{model_name=\"a\"} NaN\n"
            + "vllm:generation_tokens_total{model_name=\"a\"} 1\n"
            + "vllm:request_success_total{model_name=\"a\"} 1\n"
            + "vllm:prompt_tokens_total{model_name=\"b\"} -3\n"
            + "vllm:generation_tokens_total{model_name=\"b\"} 1\n"
            + "vllm:request_success_total{model_name=\"b\"} 1\n"
            + "vllm:prompt_tokens_total{model_name=\"c\"} 1e+300\n"
            + "vllm:generation_tokens_total{model_name=\"c\"} 1\n"
            + "vllm:request_success_total{model_name=\"c\"} 1\n"
            + "vllm:prompt_tokens_total{model_name=\"d\"} 12\n"
            + "vllm:generation_tokens_total{model_name=\"d\"} 4\n"
            + "vllm:request_success_total{model_name=\"d\"} 2\n"
            + "vllm:prompt_tokens_total 99\n";
    VllmMapping.Result r = mapping.map(PromText.parse(text, 65536), target(Map.of()), AT);
    assertEquals(
        List.of(
            new DcgmMapping.Problem("bad_value", "vllm:prompt_tokens_total of model a is NaN"),
            new DcgmMapping.Problem("bad_value", "vllm:prompt_tokens_total of model b is -3.0"),
            new DcgmMapping.Problem("bad_value", "vllm:prompt_tokens_total of model c is 1.0E300")),
        r.problems());
    assertEquals(List.of("d"), r.readings().stream().map(o -> o.get("model").asText()).toList());
  }

  @Test
  void aTargetsServingGpusAndPodNameTheModelOfDcgmSamples() throws Exception {
    ServingModels serving = new ServingModels();
    serving.served(
        target(Map.of("gpus", "GPU-a;GPU-b", "namespace", "llm", "pod", "vllm-0")),
        List.of("facebook/opt-125m"));
    assertEquals("facebook/opt-125m", serving.modelOf("GPU-b", null, null));
    assertEquals("facebook/opt-125m", serving.modelOf("GPU-z", "llm", "vllm-0"));
    assertNull(serving.modelOf("GPU-z", "llm", "vllm-1"));
    ObjectNode one =
        mapping
            .map(fixture("vllm-v0-opt-125m.prom"), target(Map.of("gpus", "GPU-a")), AT)
            .readings()
            .get(0);
    assertEquals("GPU-a", one.get("gpu_uuid").asText(), "one serving GPU is named on the reading");
  }

  @Test
  void readingsAndRequestsAreTwoExclusiveShapesOfTheSameSchema() {
    String reading =
        "{\"ts\":\"2026-11-28T12:00:00Z\",\"tenant\":\"t\",\"model\":\"m\",\"reading_of\":\"u\","
            + "\"prompt_tokens_total\":10,\"generation_tokens_total\":5,\"requests_total\":1}";
    assertTrue(parse(reading).ok(), () -> parse(reading).violations().toString());
    String both = reading.replace("}", ",\"input_tokens\":3}");
    assertEquals("input_tokens", parse(both).violations().get(0).field());
    assertEquals("conflict", parse(both).violations().get(0).code());
    String requestWithTotal =
        "{\"ts\":\"2026-11-28T12:00:00Z\",\"tenant\":\"t\",\"model\":\"m\",\"input_tokens\":1,"
            + "\"output_tokens\":2,\"requests_total\":1}";
    assertEquals("requests_total", parse(requestWithTotal).violations().get(0).field());
    String noTokens = "{\"ts\":\"2026-11-28T12:00:00Z\",\"tenant\":\"t\",\"model\":\"m\"}";
    assertEquals(
        List.of("input_tokens", "output_tokens"),
        parse(noTokens).violations().stream().map(v -> v.field()).toList());
    String incomplete = reading.replace(",\"requests_total\":1", "");
    assertEquals("requests_total", parse(incomplete).violations().get(0).field());
    assertEquals("missing_field", parse(incomplete).violations().get(0).code());
    assertFalse(
        EventFields.TOKEN_USAGE.variantMask() == 0, "the reading's fields defer the fast path");
  }

  private ParseResult parse(String json) {
    return parser.parse(EventType.TOKEN_USAGE, json.getBytes(StandardCharsets.UTF_8), AT, null);
  }
}
