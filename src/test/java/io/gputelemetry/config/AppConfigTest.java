package io.gputelemetry.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Typed settings: bounds, optional values, API keys, masking. */
class AppConfigTest {
  private static Settings set(Map<String, String> overrides) {
    return Settings.load(null, Map.of(), overrides);
  }

  private static AppConfig config(Map<String, String> overrides) {
    return AppConfig.from(set(overrides));
  }

  @Test
  void integerAndNumberBoundsAreInclusive() {
    Settings s = set(Map.of("http.port", "0", "simulator.rate", "1000000"));
    assertEquals(0, s.integer("http.port", 0, 65535), "the lower bound is allowed");
    assertEquals(65535, set(Map.of("http.port", "65535")).integer("http.port", 0, 65535));
    assertThrows(
        ConfigException.class,
        () -> set(Map.of("http.port", "65536")).integer("http.port", 0, 65535));
    assertThrows(
        ConfigException.class, () -> s.integer("http.port", 1, 65535), "below the minimum");
    assertEquals(
        1_000_000.0, s.number("simulator.rate", 0, 1_000_000), "the upper bound is allowed");
    assertEquals(0.0, set(Map.of("simulator.rate", "0")).number("simulator.rate", 0, 1));
    assertEquals(2.5, set(Map.of("simulator.rate", "2.5")).number("simulator.rate", 0, 10));
    assertThrows(ConfigException.class, () -> s.number("simulator.rate", 0, 999_999.5));
    assertThrows(
        ConfigException.class,
        () -> set(Map.of("simulator.rate", "NaN")).number("simulator.rate", 0, 1));
  }

  @Test
  void optionalLongsAreNullWhenEmptyAndBoundedBelow() {
    assertNull(set(Map.of()).optionalLong("simulator.count", 0), "empty by default");
    assertEquals(0L, set(Map.of("simulator.count", "0")).optionalLong("simulator.count", 0));
    assertEquals(12L, set(Map.of("simulator.count", "12")).optionalLong("simulator.count", 0));
    assertThrows(
        ConfigException.class,
        () -> set(Map.of("simulator.count", "-1")).optionalLong("simulator.count", 0));
    assertThrows(
        ConfigException.class,
        () -> set(Map.of("simulator.count", "x")).optionalLong("simulator.count", 0));
  }

  @Test
  void booleansListsAndChoices() {
    assertTrue(set(Map.of("simulator.enabled", "TRUE")).bool("simulator.enabled"));
    assertFalse(set(Map.of("simulator.enabled", "false")).bool("simulator.enabled"));
    assertThrows(
        ConfigException.class,
        () -> set(Map.of("simulator.enabled", "yes")).bool("simulator.enabled"));
    assertEquals(
        List.of("a", "b"), set(Map.of("simulator.tenants", " a, ,b ,")).list("simulator.tenants"));
    assertThrows(
        ConfigException.class,
        () -> set(Map.of("simulator.tenants", " , ")).list("simulator.tenants"));
  }

  @Test
  void theSimulatorIsUnboundedUnlessADurationOrACountIsGiven() {
    AppConfig.Simulator d = config(Map.of()).simulator();
    assertEquals(42, d.seed());
    assertTrue(d.enabled());
    assertFalse(d.bounds().bounded());
    assertTrue(config(Map.of("simulator.count", "5")).simulator().bounds().bounded());
    assertEquals(5L, config(Map.of("simulator.count", "5")).simulator().bounds().count());
    assertTrue(config(Map.of("simulator.duration", "30s")).simulator().bounds().bounded());
    assertTrue(d.bounds().exitWhenDone(), "a bounded run exits once stored by default");
    assertFalse(
        config(Map.of("simulator.exit-when-done", "false")).simulator().bounds().exitWhenDone());
    assertEquals(-3, config(Map.of("simulator.seed", "-3")).simulator().seed());
    assertFalse(config(Map.of("simulator.enabled", "false")).simulator().enabled());
    assertEquals(Long.MAX_VALUE, config(Map.of("verify.max-lag", "")).verify().maxLag());
    assertEquals(7L, config(Map.of("verify.max-lag", "7")).verify().maxLag());
  }

  @Test
  void theStandaloneProgressLineIsOffWhenItsIntervalIsEmpty() {
    assertEquals(Duration.ofSeconds(5), config(Map.of()).standalone().progressInterval());
    assertEquals(
        Duration.ZERO,
        config(Map.of("standalone.progress-interval", "")).standalone().progressInterval());
    assertEquals(
        new AppConfig.Standalone(9092, 27017, Duration.ofMinutes(1)),
        config(
                Map.of(
                    "standalone.kafka-port", "9092",
                    "standalone.mongo-port", "27017",
                    "standalone.progress-interval", "1m"))
            .standalone());
  }

  @Test
  void apiKeysAreKeysOrKeysBoundToATenant() {
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("0123456789abcdef", "");
    expected.put("key:with:colons-xyz", "acme");
    assertEquals(
        expected,
        config(Map.of("ingest.api-keys", " 0123456789abcdef , ,key:with:colons-xyz:acme"))
            .ingest()
            .apiKeys(),
        "the tenant is after the last colon");
    assertEquals(Map.of(), config(Map.of()).ingest().apiKeys());
    assertEquals(
        Map.of("0123456789abcdef", ""),
        config(Map.of("ingest.api-keys", "0123456789abcdef:")).ingest().apiKeys(),
        "an empty tenant after the colon: unbound");
    assertEquals(
        Map.of(":0123456789abcdef", ""),
        config(Map.of("ingest.api-keys", ":0123456789abcdef")).ingest().apiKeys(),
        "a leading colon is part of the key, not an empty key bound to a tenant");
    for (String bad : List.of("short", "0123456789abcde:acme", "0123456789abcdef:bad tenant")) {
      assertThrows(
          ConfigException.class, () -> config(Map.of("ingest.api-keys", bad)), "refused: " + bad);
    }
    assertEquals(
        "Ingest[enabled=true, keys=1]",
        config(Map.of("ingest.api-keys", "0123456789abcdef")).ingest().toString(),
        "keys are never printed");
  }

  @Test
  void theFocusExportsIdentityIsSettingsWithErrorsNamingTheSetting() {
    AppConfig.FocusIdentity d = config(Map.of()).focusIdentity();
    assertEquals(
        new AppConfig.FocusIdentity(
            "gpu-telemetry", "gpu-telemetry", "gpu-telemetry", "gpu-fleet", "GPU fleet"),
        d);
    AppConfig.FocusIdentity set =
        config(
                Map.of(
                    "export.focus.provider-name", "CoreWeave",
                    "export.focus.publisher-name", "Platform team",
                    "export.focus.invoice-issuer-name", "CoreWeave, Inc.",
                    "export.focus.billing-account-id", "acct-42",
                    "export.focus.billing-account-name", "ML serving"))
            .focusIdentity();
    assertEquals(
        new AppConfig.FocusIdentity(
            "CoreWeave", "Platform team", "CoreWeave, Inc.", "acct-42", "ML serving"),
        set);
    for (String bad : List.of("", "tab\there", "x".repeat(257))) {
      ConfigException e =
          assertThrows(
              ConfigException.class,
              () -> config(Map.of("export.focus.billing-account-id", bad)),
              "'" + bad + "'");
      assertEquals(
          "setting 'export.focus.billing-account-id' (env GPUTEL_EXPORT_FOCUS_BILLING_ACCOUNT_ID):"
              + " expected 1 to 256 characters without control characters, got '"
              + bad
              + "'",
          e.getMessage());
    }
    assertEquals(
        "x".repeat(256),
        config(Map.of("export.focus.provider-name", "x".repeat(256)))
            .focusIdentity()
            .providerName());
  }

  @Test
  void logLevelMongoUriAndEndpoints() {
    assertEquals("debug", config(Map.of("log.level", "DEBUG")).log().level());
    assertThrows(ConfigException.class, () -> config(Map.of("log.level", "verbose")));
    assertEquals(
        "mongodb+srv://db.example",
        config(Map.of("mongo.connection-string", "mongodb+srv://db.example"))
            .mongo()
            .connectionString());
    assertThrows(
        ConfigException.class, () -> config(Map.of("mongo.connection-string", "http://db")));
    AppConfig moved = config(Map.of()).withEndpoints("k:9092", "mongodb://m:1");
    assertEquals("k:9092", moved.settings().raw("kafka.bootstrap.servers"));
    assertEquals("mongodb://m:1", moved.mongo().connectionString());
    assertEquals(
        "Mongo[database=telemetry, retention=PT168H, timeout=" + moved.mongo().timeout() + "]",
        moved.mongo().toString(),
        "the connection string (credentials) is never printed");
  }

  @Test
  void printedSettingsMaskSecretsOnly() {
    String printed =
        set(Map.of("mongo.connection-string", "mongodb://u:pw@h", "ingest.api-keys", ""))
            .toString();
    assertTrue(printed.contains("mongo.connection-string=****\n"), printed);
    assertTrue(printed.contains("ingest.api-keys=\n"), "an empty secret is shown as empty");
    assertTrue(printed.contains("http.port=8080\n"), printed);
  }

  @Test
  void privateKeysPasswordsAndTokensOfTheKafkaClientsAreMasked() {
    String printed =
        set(Map.of(
                "kafka.client.ssl.keystore.key", "-----BEGIN PRIVATE KEY-----MIIE",
                "kafka.client.ssl.key.password", "pw",
                "kafka.client.sasl.oauthbearer.token", "tok",
                "kafka.client.ssl.keystore.certificate.chain", "-----BEGIN CERTIFICATE-----",
                "kafka.producer.linger.ms", "20"))
            .toString();
    assertTrue(printed.contains("kafka.client.ssl.keystore.key=****\n"), printed);
    assertTrue(printed.contains("kafka.client.ssl.key.password=****\n"), printed);
    assertTrue(printed.contains("kafka.client.sasl.oauthbearer.token=****\n"), printed);
    assertFalse(printed.contains("PRIVATE KEY"), printed);
    // A certificate chain is public; the topic named token-usage is not a token.
    assertTrue(
        printed.contains(
            "kafka.client.ssl.keystore.certificate.chain=-----BEGIN CERTIFICATE-----\n"),
        printed);
    assertTrue(printed.contains("kafka.topic.token-usage=token.usage.v1\n"), printed);
    assertTrue(printed.contains("kafka.producer.linger.ms=20\n"), printed);
  }

  @Test
  void anApiKeyBoundWithAnEqualsSignStopsStartUpNamingTheForm() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> config(Map.of("ingest.api-keys", "0123456789abcdef0123=acme")));
    assertTrue(e.getMessage().contains("KEY=TENANT (tenant 'acme')"), e.getMessage());
    assertTrue(e.getMessage().contains("KEY:TENANT"), e.getMessage());
    assertFalse(e.getMessage().contains("0123456789abcdef"), "the key is never printed");
    // Base64 padding is not a tenant.
    assertEquals(
        Map.of("c2VjcmV0LWtleS1vZi1hLWdhdGV3YXk=", "", "c2VjcmV0LWtleS1vZi1hLWdhdGV3YQ==", "acme"),
        config(
                Map.of(
                    "ingest.api-keys",
                    "c2VjcmV0LWtleS1vZi1hLWdhdGV3YXk=,c2VjcmV0LWtleS1vZi1hLWdhdGV3YQ==:acme"))
            .ingest()
            .apiKeys());
  }

  @Test
  void retryBackoffMaxMustNotBeBelowInitial() {
    assertEquals(
        Duration.ofSeconds(1),
        config(Map.of("processor.retry.initial-backoff", "1s", "processor.retry.max-backoff", "1s"))
            .processor()
            .retry()
            .max(),
        "equal is allowed");
    assertThrows(
        ConfigException.class,
        () ->
            config(
                Map.of(
                    "processor.retry.initial-backoff", "2s", "processor.retry.max-backoff", "1s")));
  }

  /**
   * The ledger's horizon must exceed the longest sample gap (simulator 1 s x 3 intervals, at least
   * accounting.max-sample-gap), the allocation interval divide an hour, the lease outlast a tick.
   */
  @Test
  void theLedgersHorizonIntervalAndLeaseAreChecked() {
    AppConfig.Ledger l = config(Map.of()).ledger();
    assertEquals(Duration.ofMinutes(2), l.lateness());
    assertEquals(Duration.ofDays(400), l.retention());
    // A horizon not longer than the longest sample gap is raised to it plus an allocation interval.
    assertEquals(
        Duration.ofSeconds(80),
        config(Map.of("ledger.lateness", "20s", "accounting.max-sample-gap", "20s"))
            .ledger()
            .lateness());
    assertEquals(
        Duration.ofSeconds(21),
        config(Map.of("ledger.lateness", "21s", "accounting.max-sample-gap", "20s"))
            .ledger()
            .lateness());
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> config(Map.of("accounting.allocation-interval", "7m")));
    assertTrue(e.getMessage().contains("accounting.allocation-interval"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> config(Map.of("ledger.lease", "5s")));
    assertTrue(e.getMessage().contains("ledger.lease"), e.getMessage());
    assertFalse(
        config(Map.of("ledger.enabled", "false", "accounting.allocation-interval", "7m"))
            .ledger()
            .enabled(),
        "no ledger: any interval");
  }

  @Test
  void accountingFilesAreTheOnesTheSettingsName() {
    AppConfig none = config(Map.of());
    assertNull(none.budgets().file(), "no budgets unless a file is named");
    assertEquals(Duration.ofSeconds(60), none.budgets().interval());
    assertNull(none.gpuProfiles(), "the built-in GPU profiles unless a file is named");
    AppConfig named =
        config(
            Map.of(
                "budgets.file", "/etc/gpu-telemetry/accounting/budgets.json",
                "budgets.interval", "15s",
                "accounting.gpu-profiles", "/etc/gpu-telemetry/accounting/gpu-profiles.json"));
    assertEquals(Path.of("/etc/gpu-telemetry/accounting/budgets.json"), named.budgets().file());
    assertEquals(Duration.ofSeconds(15), named.budgets().interval());
    assertEquals(Path.of("/etc/gpu-telemetry/accounting/gpu-profiles.json"), named.gpuProfiles());
  }
}
