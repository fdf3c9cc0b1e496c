package io.gputelemetry.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

  @Test
  void defaultsGiveAValidStandaloneConfiguration() {
    AppConfig c = AppConfig.from(Settings.defaults());
    assertEquals(AppConfig.Role.STANDALONE, c.role());
    assertEquals(8080, c.http().port());
    assertEquals("gpu.metrics.v1", c.kafka().topics().gpuMetrics());
    assertEquals("token.usage.v1", c.kafka().topics().tokenUsage());
    assertEquals("processor", c.processor().groupId());
    assertEquals(Duration.ofDays(7), c.mongo().retention(), "raw events a week by default");
  }

  @Test
  void environmentVariableNameIsPrefixedUpperCaseWithUnderscores() {
    assertEquals("GPUTEL_HTTP_PORT", Settings.envName("http.port"));
    assertEquals(
        "GPUTEL_KAFKA_TOPIC_REPLICATION_FACTOR",
        Settings.envName("kafka.topic.replication-factor"));
  }

  @Test
  void flagsBeatEnvironmentWhichBeatsTheConfigFileWhichBeatsDefaults(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("c.properties");
    Files.writeString(file, "http.port=7000\nmongo.database=fromfile\nsimulator.rate=5\n");
    Settings s =
        Settings.load(
            file,
            Map.of("GPUTEL_HTTP_PORT", "7001", "GPUTEL_SIMULATOR_RATE", "6", "PATH", "/bin"),
            Map.of("simulator.rate", "7"));
    assertEquals("7001", s.raw("http.port"));
    assertEquals("fromfile", s.raw("mongo.database"));
    assertEquals("7", s.raw("simulator.rate"));
  }

  @Test
  void kafkaPassthroughKeysComeFromTheEnvironmentWithDots() {
    Settings s = Settings.load(null, Map.of("GPUTEL_KAFKA_PRODUCER_LINGER_MS", "20"), Map.of());
    AppConfig c = AppConfig.from(s);
    assertEquals("20", c.kafka().passthrough().producer().get("linger.ms"));
  }

  @Test
  void aBadValueNamesTheKeyTheEnvironmentVariableAndWhatWasExpected() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                AppConfig.from(
                    Settings.load(null, Map.of(), Map.of("processor.max-batch-records", "lots"))));
    assertTrue(e.getMessage().contains("'processor.max-batch-records'"), e.getMessage());
    assertTrue(e.getMessage().contains("GPUTEL_PROCESSOR_MAX_BATCH_RECORDS"), e.getMessage());
    assertTrue(e.getMessage().contains("expected an integer"), e.getMessage());
  }

  @Test
  void unknownKeysInTheFileOrOnTheCommandLineAreRejectedNamingTheKeyAndWhereItCameFrom(
      @TempDir Path dir) throws Exception {
    Path file = dir.resolve("c.properties");
    Files.writeString(file, "http.port=7000\nhttp.prot=7001\n");
    ConfigException inFile =
        assertThrows(ConfigException.class, () -> Settings.load(file, Map.of(), Map.of()));
    assertEquals(
        "unknown setting 'http.prot' in "
            + file
            + " (see conf/gpu-telemetry.properties for the keys)",
        inFile.getMessage());
    ConfigException onCommandLine =
        assertThrows(
            ConfigException.class,
            () -> Settings.load(null, Map.of(), Map.of("http.port", "1", "http.prot", "1")));
    assertEquals(
        "unknown setting 'http.prot' on the command line"
            + " (see conf/gpu-telemetry.properties for the keys)",
        onCommandLine.getMessage());
  }

  @Test
  void unknownKeysAndEnvironmentVariablesAreRejected() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> Settings.load(null, Map.of("GPUTEL_HTTP_PROT", "1"), Map.of()));
    assertTrue(e.getMessage().contains("GPUTEL_HTTP_PROT"), e.getMessage());
    ConfigException prefixOnly =
        assertThrows(
            ConfigException.class,
            () -> Settings.load(null, Map.of("GPUTEL_KAFKA_CLIENT_", "1"), Map.of()));
    assertEquals(
        "unknown environment setting GPUTEL_KAFKA_CLIENT_: no setting maps to it (see"
            + " conf/gpu-telemetry.properties for the keys)",
        prefixOnly.getMessage(),
        "a pass-through prefix alone names no Kafka setting");
  }

  @Test
  void durationsNeedAUnitAndRolesAreChecked() {
    assertThrows(
        ConfigException.class,
        () ->
            AppConfig.from(
                Settings.load(null, Map.of(), Map.of("simulator.sample-interval", "5"))));
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> AppConfig.from(Settings.load(null, Map.of(), Map.of("role", "consumer"))));
    assertTrue(e.getMessage().contains("one of producer processor standalone"), e.getMessage());
  }

  @Test
  void secretsAreMaskedWhenPrinted() {
    Settings s =
        Settings.load(
            null, Map.of(), Map.of("mongo.connection-string", "mongodb://u:hunter2@db:27017"));
    assertTrue(!s.toString().contains("hunter2"));
  }
}
