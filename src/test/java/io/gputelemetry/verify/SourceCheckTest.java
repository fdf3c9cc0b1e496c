package io.gputelemetry.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.support.FixtureExporter;
import io.gputelemetry.support.TestConfigs;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SourceCheckTest {
  @Test
  void passesOnAnExporterAndNamesWhyOnAnAnswerThatIsNotOne() throws Exception {
    try (FixtureExporter exporter = new FixtureExporter(0, 8)) {
      exporter.mode(1, FixtureExporter.Mode.GARBAGE);
      exporter.mode(2, FixtureExporter.Mode.HTML);
      AppConfig config =
          TestConfigs.of(
              Map.of(
                  "sources.dcgm.targets",
                  exporter.url(0) + "," + exporter.url(1) + "," + exporter.url(2)));
      SourceCheck check = new SourceCheck(config.sources(), 3);
      // 8 whole GPUs; the 8 MIG instances of NVIDIA's example carry no memory figures.
      assertEquals(
          "8 GPU sample(s) parsed, 8 left out", check.run(config.sources().targets().get(0)));
      Exception e =
          assertThrows(Exception.class, () -> check.run(config.sources().targets().get(1)));
      assertEquals("line 1: expected a metric name at '<html><body><h1>502 '", e.getMessage());
      e = assertThrows(Exception.class, () -> check.run(config.sources().targets().get(2)));
      assertEquals("line 1: expected a metric name at '<html><body>dcgm-exp'", e.getMessage());
    }
  }
}
