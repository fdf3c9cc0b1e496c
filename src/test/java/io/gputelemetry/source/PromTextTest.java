package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PromTextTest {
  private static List<PromText.Sample> parse(String text) throws PromText.ParseException {
    return PromText.parse(text, 4096).samples();
  }

  @Test
  void readsTheFormatsExampleWithHelpTypeEscapesTimestampsAndSpecialValues() throws Exception {
    // The example of the Prometheus exposition-format documentation, without a final newline.
    String text =
        "# HELP http_requests_total The total number of HTTP requests.\n"
            + "# TYPE http_requests_total counter\n"
            + "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
            + "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
            + "\n"
            + "# Escaping in label values:\n"
            + "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find"
            + " file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
            + "metric_without_timestamp_and_labels 12.47\n"
            + "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
            + "minus_inf -Inf\n"
            + "not_a_number NaN\n"
            + "three_digit_exponent 1e+011";
    List<PromText.Sample> s = parse(text);
    assertEquals(8, s.size());
    assertEquals("http_requests_total", s.get(0).name());
    assertEquals(List.of("method", "code"), List.copyOf(s.get(0).labels().keySet()));
    assertEquals(Map.of("method", "post", "code", "200"), s.get(0).labels());
    assertEquals(1027, s.get(0).value());
    assertEquals(1395066363000L, s.get(0).timestampMs());
    assertEquals("http_requests_total", s.get(0).family());
    assertEquals(3, s.get(1).value());
    assertEquals("C:\\DIR\\FILE.TXT", s.get(2).label("path"));
    assertEquals("Cannot find file:\n\"FILE.TXT\"", s.get(2).label("error"));
    assertEquals(1.458255915e9, s.get(2).value());
    assertTrue(s.get(3).labels().isEmpty());
    assertNull(s.get(3).timestampMs());
    assertEquals(Double.POSITIVE_INFINITY, s.get(4).value());
    assertEquals(-3982045L, s.get(4).timestampMs());
    assertEquals(Double.NEGATIVE_INFINITY, s.get(5).value());
    assertTrue(Double.isNaN(s.get(6).value()));
    assertEquals(1e11, s.get(7).value());
  }

  @Test
  void histogramAndSummarySamplesBelongToTheirFamily() throws Exception {
    String text =
        "# TYPE vllm:e2e_request_latency_seconds histogram\n"
            + "vllm:e2e_request_latency_seconds_bucket{le=\"0.3\",model_name=\"m\"} 2\n"
            + "vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",model_name=\"m\"} 5\n"
            + "vllm:e2e_request_latency_seconds_sum{model_name=\"m\"} 3.5\n"
            + "vllm:e2e_request_latency_seconds_count{model_name=\"m\"} 5\n"
            + "# TYPE rpc_duration_seconds summary\n"
            + "rpc_duration_seconds{quantile=\"0.99\"} 76656\n"
            + "rpc_duration_seconds_sum 1.7560473e+07\n"
            + "rpc_duration_seconds_count 2693\n";
    PromText.Exposition e = PromText.parse(text, 4096);
    assertEquals(
        Map.of("vllm:e2e_request_latency_seconds", "histogram", "rpc_duration_seconds", "summary"),
        e.types());
    assertEquals(
        List.of(
            "vllm:e2e_request_latency_seconds",
            "vllm:e2e_request_latency_seconds",
            "vllm:e2e_request_latency_seconds",
            "vllm:e2e_request_latency_seconds",
            "rpc_duration_seconds",
            "rpc_duration_seconds",
            "rpc_duration_seconds"),
        e.samples().stream().map(PromText.Sample::family).toList());
    assertEquals("+Inf", e.samples().get(1).label("le"));
    assertEquals(1.7560473e7, e.samples().get(5).value());
  }

  @Test
  void acceptsBlanksAroundLabelsATrailingCommaCrlfAndOpenMetricsEof() throws Exception {
    String text =
        "DCGM_FI_DEV_SM_CLOCK{gpu=\"0\", UUID=\"GPU-604ac76c\",} 139\r\n"
            + "x{ a = \"1\" }\t2\r\n"
            + "# EOF\n";
    List<PromText.Sample> s = parse(text);
    assertEquals(2, s.size());
    assertEquals("GPU-604ac76c", s.get(0).label("UUID"));
    assertEquals("1", s.get(1).label("a"));
    assertEquals(2, s.get(1).value());
  }

  @Test
  void malformedLinesFailTheAnswerWithTheLineAndTheReason() {
    assertFails("ok 1\nbad{a=\"1\" 2\n", "line 2: expected ',' or '}' after label a");
    assertFails(
        "x{a=\"1\"} 2\nx{a=\"\\q\"} 1", "line 2: invalid escape '\\q' in the value of label a");
    assertFails("x 1d", "line 1: value '1d' is not a number");
    assertFails("x 0x10", "line 1: value '0x10' is not a number");
    assertFails("x", "line 1: no value after x");
    assertFails("x 1 12.5", "line 1: timestamp '12.5' is not an integer of milliseconds");
    assertFails("x 1 2 3", "line 1: unexpected text after the value: '3'");
    assertFails("x{a=\"1\",a=\"2\"} 1", "line 1: label a given twice");
    assertFails("x{a=\"1} 1", "line 1: unterminated value of label a");
    assertFails("9x 1", "line 1: expected a metric name at '9x 1'");
    assertFails("# TYPE x bogus\n", "line 1: unknown metric type 'bogus' for x");
    assertFails("<html><body>502 Bad Gateway</body></html>", "line 1: expected a metric name");
  }

  @Test
  void aLineLongerThanTheCapFailsWithoutReadingFurther() {
    String longLine = "x{a=\"" + "y".repeat(5000) + "\"} 1";
    PromText.ParseException e =
        assertThrows(
            PromText.ParseException.class, () -> PromText.parse("ok 1\n" + longLine, 4096));
    assertEquals("line 2: longer than 4096 characters", e.getMessage());
  }

  private static void assertFails(String text, String message) {
    PromText.ParseException e = assertThrows(PromText.ParseException.class, () -> parse(text));
    assertTrue(e.getMessage().startsWith(message), e.getMessage());
  }
}
