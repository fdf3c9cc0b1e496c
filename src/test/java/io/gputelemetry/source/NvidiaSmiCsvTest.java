package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Real nvidia-smi query outputs (src/test/resources/nvidia-smi, see the README there) read as the
 * source reads them.
 */
class NvidiaSmiCsvTest {
  static final Path FIXTURES = Path.of("src/test/resources/nvidia-smi");
  static final String MASKED_UUID = "GPU-00000000-0000-0000-0000-000000000000";
  static final Instant NOW = Instant.parse("2026-07-14T10:00:00Z");
  static final NvidiaSmiCsv.Stamp STAMP =
      new NvidiaSmiCsv.Stamp(
          "gpu-node-01", "llama-3.1-8b-instruct", Map.of(), 10, 30, ZoneOffset.UTC);

  /**
   * A capture's rows (recorded with a header and units) as the source's query prints them: the
   * queried fields' columns, in the queried order, without units (what {@code noheader,nounits}
   * gives).
   */
  static List<String> rows(String capture, List<String> fields) throws Exception {
    List<String> lines =
        Files.readAllLines(FIXTURES.resolve(capture + ".query-gpu.csv"), StandardCharsets.UTF_8);
    List<String> header = new ArrayList<>();
    for (String h : lines.get(0).split(", ", -1)) {
      int unit = h.indexOf(" [");
      header.add(unit > 0 ? h.substring(0, unit) : h);
    }
    List<String> out = new ArrayList<>();
    for (String line : lines) {
      if (line.startsWith("timestamp, ")) {
        continue;
      }
      String[] v = line.split(", ", -1);
      assertEquals(header.size(), v.length, "a recorded row has a value per column");
      List<String> picked = new ArrayList<>();
      for (String f : fields) {
        String value = v[header.indexOf(f)];
        picked.add(value.startsWith("[") ? value : value.replaceAll(" (%|MiB|W|MHz)$", ""));
      }
      out.add(String.join(", ", picked));
    }
    return out;
  }

  static List<String> fieldsOfTheH100Driver() throws Exception {
    return NvidiaSmiCsv.fields(
        Files.readString(
            FIXTURES.resolve("linux-x86_64__nvidia-h100-mig__590.48.01.help-query-gpu.txt")));
  }

  @Test
  void theDriversFieldListGivesTheOptionalFieldsItHasAndNoOther() throws Exception {
    // Driver 590.48.01 lists clocks.current.sm and mig.mode.current, not total_energy_consumption.
    assertEquals(
        List.of(
            "timestamp",
            "index",
            "uuid",
            "name",
            "utilization.gpu",
            "memory.used",
            "memory.total",
            "power.draw",
            "temperature.gpu",
            "clocks.current.sm",
            "mig.mode.current"),
        fieldsOfTheH100Driver());
    assertEquals(NvidiaSmiCsv.REQUIRED, NvidiaSmiCsv.fields("garbage"));
    assertEquals(
        List.of(
            "/usr/bin/nvidia-smi",
            "--query-gpu=timestamp,index",
            "--format=csv,noheader,nounits",
            "-lms",
            "10000",
            "--id=0"),
        NvidiaSmiCsv.command(
            "/usr/bin/nvidia-smi", List.of("timestamp", "index"), 10_000, List.of("--id=0")));
  }

  @Test
  void anH100UnderLoadGivesAValidSampleWithTheRecordedValues() throws Exception {
    List<String> fields = fieldsOfTheH100Driver();
    List<String> rows = rows("linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01", fields);
    assertEquals(2, rows.size(), "idle and load");
    NvidiaSmiCsv.Line l = new NvidiaSmiCsv(fields, STAMP).read(rows.get(1), NOW);
    assertNull(l.problem());
    ObjectNode s = l.sample();
    assertEquals("2026-07-14T08:12:53.353Z", s.get("ts").asText());
    assertEquals("gpu-node-01", s.get("node").asText());
    assertEquals("nvidia-smi", s.get("writer").asText());
    assertEquals(MASKED_UUID, s.get("gpu_uuid").asText());
    assertEquals(0, s.get("gpu_index").asInt());
    assertEquals("H100-SXM-80GB", s.get("gpu_model").asText(), "NVIDIA H100 80GB HBM3, built in");
    assertEquals("llama-3.1-8b-instruct", s.get("model").asText());
    assertEquals(100.0, s.get("utilization_pct").asDouble());
    assertEquals(19818.0, s.get("memory_used_mib").asDouble());
    assertEquals(81559.0, s.get("memory_total_mib").asDouble());
    assertEquals(631.95, s.get("power_w").asDouble());
    assertEquals(59.0, s.get("temperature_c").asDouble());
    assertEquals(1980, s.get("sm_clock_mhz").asLong());
    assertEquals(10.0, s.get("interval_s").asDouble());
    assertEquals(30.0, s.get("max_gap_s").asDouble());
    assertNull(s.get("energy_mj"), "this driver has no energy counter in --query-gpu");
    ParseResult pr =
        new EventParser(Duration.ofMinutes(5), Duration.ofDays(7))
            .parse(EventType.GPU_SAMPLE, s, NOW, null);
    assertTrue(pr.ok(), pr.violations().toString());
  }

  @Test
  void anL40sWithMigNotApplicableIsReadAndItsBracketedValueIsAbsent() throws Exception {
    List<String> fields = fieldsOfTheH100Driver();
    List<String> rows = rows("linux-x86_64__nvidia-l40s__595.80", fields);
    assertTrue(rows.get(0).endsWith(", [N/A]"), rows.get(0));
    ObjectNode s = new NvidiaSmiCsv(fields, STAMP).read(rows.get(0), NOW).sample();
    assertEquals("L40S-48GB", s.get("gpu_model").asText());
    assertEquals(144.97, s.get("power_w").asDouble());
    assertEquals(2520, s.get("sm_clock_mhz").asLong());
    assertEquals("2026-07-03T08:33:38.737Z", s.get("ts").asText());
  }

  @Test
  void aMigHostsUtilisationIsNotApplicableAndTheSampleIsLeftOutSayingWhy() throws Exception {
    List<String> fields = fieldsOfTheH100Driver();
    for (String row : rows("linux-x86_64__nvidia-h100-mig__590.48.01", fields)) {
      NvidiaSmiCsv.Line l = new NvidiaSmiCsv(fields, STAMP).read(row, NOW);
      assertNull(l.sample());
      assertEquals("missing_field", l.problem().reason());
      assertTrue(
          l.problem().message().contains("utilization.gpu has no value (MIG mode is on"),
          l.problem().message());
    }
  }

  @Test
  void everyBracketedWordIsAbsentAndGarbageIsNamed() {
    List<String> f =
        List.of(
            "timestamp",
            "index",
            "uuid",
            "name",
            "utilization.gpu",
            "memory.used",
            "memory.total",
            "power.draw",
            "temperature.gpu",
            "total_energy_consumption");
    NvidiaSmiCsv csv = new NvidiaSmiCsv(f, STAMP);
    String good =
        "2026/07/14 09:00:44.579, 1, GPU-1, NVIDIA H200, 50, 1000, 143771, 300.5, 40, 123456789";
    ObjectNode s = csv.read(good, NOW).sample();
    assertEquals(123456789L, s.get("energy_mj").asLong());
    assertEquals("H200-SXM-141GB", s.get("gpu_model").asText());
    NvidiaSmiCsv.Line unsupported =
        csv.read(good.replace("300.5", "[Not Supported]").replace("123456789", "[N/A]"), NOW);
    assertEquals("GPU-1: power.draw has no value", unsupported.problem().message());
    NvidiaSmiCsv.Line unknown = csv.read(good.replace("123456789", "[Unknown Error]"), NOW);
    assertNull(unknown.sample().get("energy_mj"));
    assertEquals("parse", csv.read("No devices were found", NOW).problem().reason());
    assertEquals("bad_value", csv.read(good.replace("300.5", "lots"), NOW).problem().reason());
    assertEquals("bad_value", csv.read(good.replace("300.5", "NaN"), NOW).problem().reason());
    assertEquals(
        "bad_value",
        csv.read(good.replace("2026/07/14 09:00:44.579", "14 July"), NOW).problem().reason());
    assertEquals("missing_field", csv.read(good.replace("GPU-1", "[N/A]"), NOW).problem().reason());
    assertEquals(
        "2026-07-14T09:00:44.579Z",
        csv.read(good, NOW).sample().get("ts").asText(),
        "the reading's own time, in the host's zone (UTC here)");
    assertEquals(
        NOW.toString(),
        csv.read(good.replace("2026/07/14 09:00:44.579", "[N/A]"), NOW).sample().get("ts").asText(),
        "no timestamp: the time the line was read");
  }
}
